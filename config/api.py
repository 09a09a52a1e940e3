"""The one REST router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
