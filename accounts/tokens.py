"""Personal API tokens: made, found and revoked here; the REST API signs requests in
with them (`Authorization: Bearer <token>`)."""

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken

# Recognisable in logs and by secret scanners, and never mistaken for a session id.
PREFIX = "pf_"
PREFIX_SHOWN = 10
# Recording every use would write a row on every call; once in a while tells enough.
USE_RECORDED_EVERY = dt.timedelta(minutes=5)
MAX_TOKENS = 20


class TooManyTokens(Exception):
    pass


def create_token(user, *, name: str) -> tuple[ApiToken, str]:
    """A new token for the reader: the row, and the secret to show them once."""
    if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS:
        raise TooManyTokens(f"You have {MAX_TOKENS} tokens; revoke one you no longer use.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:PREFIX_SHOWN], digest=_digest(secret)
    )
    return token, secret


def revoke_token(user, pk: int) -> ApiToken:
    """Delete one of the reader's tokens; ApiToken.DoesNotExist for anyone else's."""
    token = ApiToken.objects.get(user=user, pk=pk)
    token.delete()
    return token


def user_of(secret: str):
    """The active user a token belongs to, or None."""
    if not secret.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > USE_RECORDED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer pf_…`. A request without the header is left to the session;
    one with a wrong or revoked token is refused, never treated as anonymous."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        user = user_of(secret.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("The API token is wrong or was revoked.")
        return user, None

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    """How the API schema describes token sign-in (found by drf-spectacular)."""

    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token made on the preferences page: `Bearer pf_…`.",
        }
