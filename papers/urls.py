from django.urls import path

from papers import views

urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<int:pk>/", views.paper_detail, name="paper"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
]
