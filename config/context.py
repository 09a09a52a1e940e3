from django.conf import settings
from django.shortcuts import resolve_url


def login_url(request):
    """The sign-in address, resolved once per page rather than once per paper card."""
    return {"login_url": resolve_url(settings.LOGIN_URL)}
