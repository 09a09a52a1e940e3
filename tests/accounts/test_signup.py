"""Signing up: the reader's preferences, a taken address, and the verification link."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Preferences, User
from tests.accounts.conftest import PASSWORD, link_in

pytestmark = pytest.mark.django_db


def sign_up(client, email="grace@example.org", **extra):
    data = {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra}
    return client.post(reverse("account_signup"), data)


def test_sign_up_starts_weekly_preferences_in_the_browsers_time_zone(client):
    response = sign_up(client, time_zone="Europe/Berlin")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    preferences = Preferences.objects.get(user__email="grace@example.org")
    assert preferences.time_zone == "Europe/Berlin"
    assert preferences.digest_frequency == Preferences.Frequency.WEEKLY
    assert (preferences.digest_weekday, preferences.digest_hour) == (0, 8)
    # The first one is due on a Monday at 08:00 Berlin time, within the coming week.
    local = preferences.next_digest_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)
    assert timezone.now() < preferences.next_digest_at <= timezone.now() + dt.timedelta(days=7)


@pytest.mark.parametrize(
    "reported",
    ["Mars/Olympus_Mons", "", "../../etc/passwd", "x" * 200],
    ids=["unknown", "empty", "a path", "overlong"],
)
def test_a_missing_or_unknown_time_zone_starts_on_utc(client, reported):
    response = sign_up(client, time_zone=reported)

    assert response.status_code == 302
    assert Preferences.objects.get(user__email="grace@example.org").time_zone == "UTC"


def test_without_javascript_the_zone_field_is_absent_and_the_reader_starts_on_utc(client):
    sign_up(client)

    assert Preferences.objects.get(user__email="grace@example.org").time_zone == "UTC"


def test_the_sign_up_page_fills_the_zone_from_the_browser(client):
    page = client.get(reverse("account_signup"))

    assert '<input type="hidden" name="time_zone" id="id_time_zone">' in page.text
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in page.text


def test_a_taken_address_is_said_so_and_changes_nothing(client, reader):
    response = sign_up(client, email="ADA@example.org", time_zone="Asia/Tokyo")

    assert response.status_code == 200
    assert "A user is already registered with this email address." in response.text
    assert User.objects.count() == 1
    assert not Preferences.objects.exists()
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["ada@example.org"]
    assert mail.outbox == []
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_the_verification_mail_confirms_the_address_and_signs_the_reader_in(client):
    sign_up(client, time_zone="UTC")

    (message,) = mail.outbox
    assert message.to == ["grace@example.org"]
    assert message.subject.startswith("[paperfeed] ")
    link = link_in(message, "/accounts/confirm-email/")
    page = client.get(link)
    assert "Confirm your e-mail address" in page.text
    assert not EmailAddress.objects.get(email="grace@example.org").verified

    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="grace@example.org").verified
    assert client.get(reverse("preferences")).status_code == 200


def test_a_forged_verification_link_is_explained_and_verifies_nothing(client):
    sign_up(client)
    link = link_in(mail.outbox[0], "/accounts/confirm-email/")
    key = link.rstrip("/").rsplit("/", 1)[1]
    # The same key with one character of its signature changed.
    forged = reverse("account_confirm_email", args=[key[:-1] + ("B" if key[-1] == "A" else "A")])

    page = client.get(forged)
    posted = client.post(forged)

    assert page.status_code == 200
    assert "This link does not work" in page.text
    assert "Nothing was changed" in page.text
    assert posted.status_code == 404
    assert not EmailAddress.objects.get(email="grace@example.org").verified


def test_an_expired_verification_link_is_explained_and_verifies_nothing(client):
    sign_up(client)
    link = link_in(mail.outbox[0], "/accounts/confirm-email/")

    with time_machine.travel(timezone.now() + dt.timedelta(days=4)):
        page = client.get(link)
        posted = client.post(link)

    assert "This link does not work" in page.text
    assert "expired" in page.text
    assert posted.status_code == 404
    assert not EmailAddress.objects.get(email="grace@example.org").verified


def test_an_unverified_reader_cannot_sign_in_yet(client):
    sign_up(client)
    client.logout()

    response = client.post(
        reverse("account_login"), {"login": "grace@example.org", "password": PASSWORD}
    )

    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
