from django.urls import path

from digest import action_views, subscribe_views, views

app_name = "digest"

urlpatterns = [
    path("digests/", views.my_digests, name="list"),
    path("digests/<int:pk>/", views.digest_detail, name="detail"),
    path("for-you/", views.for_you, name="for-you"),
    path("feedback/<int:paper_id>/", views.feedback, name="feedback"),
    path("d/view/<str:token>/", views.web_copy, name="web-copy"),
    path("d/<str:token>/", action_views.act, name="act"),
    path("unsubscribe/<str:token>/", action_views.unsubscribe, name="unsubscribe"),
    path("subscribe/", subscribe_views.subscribe, name="subscribe"),
    path("subscribe/<str:token>/", subscribe_views.confirm, name="subscribe-confirm"),
]
