from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config.health import healthz

# The admin signs in through allauth's page, so its rate limits cover curators too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("papers.urls")),
    path("lists/", include("papers.list_urls")),
    path("", include("digest.urls")),
    path("me/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api.urls")),
    path("healthz", healthz, name="healthz"),
]

# Unknown addresses and crashes under /api/ answer in the API's JSON shape.
handler400 = "config.api.errors.bad_request"
handler404 = "config.api.errors.not_found"
handler500 = "config.api.errors.server_error"
