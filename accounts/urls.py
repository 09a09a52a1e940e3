from django.urls import path
from django.views.generic import RedirectView

from accounts import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="preferences"), name="me"),
    path("preferences/", views.preferences, name="preferences"),
    path("searches/", views.follow_search, name="follow-search"),
    path("searches/<int:pk>/delete/", views.unfollow_search, name="unfollow-search"),
    path("signals/reset/", views.reset_signals, name="reset-signals"),
    path("signals/<int:paper_id>/reset/", views.reset_signals, name="reset-signal"),
    path("tokens/", views.create_api_token, name="create-api-token"),
    path("tokens/<int:pk>/revoke/", views.revoke_api_token, name="revoke-api-token"),
    path("export.json", views.export_data, name="export-data"),
    path("delete/", views.delete_account, name="delete-account"),
]
