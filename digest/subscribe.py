"""Subscribing with an address alone: the home page's "trending papers once a day".

Double opt-in. Asking only sends a mail; nothing is stored until the link in it is
followed and confirmed, so an address typed by someone else gets one mail it can ignore.
The link is signed and carries the address and the browser's zone, so there is no
pending-subscription table to clean up. Confirming creates a reader without a password
(they sign in later by setting one through "forgot your password") whose digest is daily
at 08:00 in their zone: with nothing followed, that is the site-wide trending list.

The page after asking is the same whether or not the address has an account (no one can
probe which addresses are registered); the mail differs: an existing reader is told so
and pointed at sign-in and their preferences, and nothing about their account changes.
"""

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from accounts.models import Preferences
from accounts.preferences import set_digest_settings, start_preferences
from accounts.schedule import known_time_zone
from digest.emails import render_email

SALT = "digest.subscribe"
LINK_AGE = dt.timedelta(days=3)
DIGEST_HOUR = 8
# Each request sends a mail to an address the sender need not own: few per sender, and
# fewer per address, so that the box cannot be used to flood someone's inbox.
RATE_LIMITS = "5/h/ip,3/d/key"


class BadSubscribeLink(Exception):
    """A confirmation link that cannot be used; the message says what to do instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Subscription:
    email: str
    time_zone: str


def allow_request(request, *, email: str) -> bool:
    """Count one request to subscribe `email` from this client; False when over a limit.

    allauth's limiter, which the sign-in forms use too: the same view of client
    addresses behind a proxy, kept in the shared cache.
    """
    usage = ratelimit.consume(
        request,
        app="digest",
        action="subscribe",
        config={"subscribe": RATE_LIMITS},
        key=email.lower(),
    )
    return usage is not None


def request_subscription(*, email: str, time_zone: str) -> None:
    """Mail `email` its confirmation link, or, when it has an account, a note saying so."""
    if _account_of(email) is not None:
        context = {"account_exists": True, "email": email, **_account_links()}
    else:
        context = {
            "account_exists": False,
            "email": email,
            "time_zone": time_zone,
            "hour": f"{DIGEST_HOUR:02d}:00",
            "confirm_url": confirm_url(email=email, time_zone=time_zone),
            "days": LINK_AGE.days,
            **_account_links(),
        }
    render_email("subscribe_confirm", context, to=email).send()


def confirm_url(*, email: str, time_zone: str) -> str:
    token = signing.dumps({"e": email, "z": time_zone}, salt=SALT, compress=True)
    return settings.SITE_URL + reverse("digest:subscribe-confirm", args=[token])


def read_link(token: str) -> Subscription:
    """The subscription a confirmation link asks for, or BadSubscribeLink."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_AGE)
    except signing.SignatureExpired:
        raise BadSubscribeLink(
            f"This confirmation link has expired: they work for {LINK_AGE.days} days. "
            "Type your address in the box on the home page again and use the new link."
        ) from None
    except signing.BadSignature:
        raise BadSubscribeLink(
            "This confirmation link is not one paperfeed sent, or your mail program cut "
            "part of it off. Copy the whole link from the e-mail into your browser, or ask "
            "for a new one from the home page."
        ) from None
    email, time_zone = data.get("e"), data.get("z")
    if not isinstance(email, str) or not isinstance(time_zone, str):
        raise BadSubscribeLink("This confirmation link cannot be read; ask for a new one.")
    return Subscription(email=email, time_zone=time_zone if known_time_zone(time_zone) else "UTC")


def confirm_subscription(subscription: Subscription):
    """Create the subscriber: (user, True); or (the existing user, False) when the address
    has an account already — confirmed twice, or signed up meanwhile — left as it is."""
    existing = _account_of(subscription.email)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(subscription.email, password=None)
            EmailAddress.objects.create(
                user=user, email=subscription.email, verified=True, primary=True
            )
            preferences = start_preferences(user, time_zone=subscription.time_zone)
            set_digest_settings(
                preferences,
                digest_frequency=Preferences.Frequency.DAILY,
                digest_hour=DIGEST_HOUR,
            )
    except IntegrityError:
        # The same link confirmed twice at once: the other request created the reader.
        return _account_of(subscription.email), False
    return user, True


def _account_of(email: str):
    """The reader who has this address, as their login or as an address of theirs."""
    users = get_user_model().objects.filter(
        Q(email__iexact=email) | Q(emailaddress__email__iexact=email)
    )
    return users.distinct().first()


def _account_links() -> dict:
    return {
        "login_url": settings.SITE_URL + reverse("account_login"),
        "preferences_url": settings.SITE_URL + reverse("preferences"),
        "set_password_url": settings.SITE_URL + reverse("account_reset_password"),
    }
