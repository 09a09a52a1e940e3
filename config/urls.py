from django.contrib import admin
from django.urls import include, path

from config.api import router
from config.health import healthz

urlpatterns = [
    path("", include("papers.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("healthz", healthz, name="healthz"),
]
