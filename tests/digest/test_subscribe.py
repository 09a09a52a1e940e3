"""The home page's box: an address, a confirmation mail, a daily digest; no account needed."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from lxml import html

from accounts.models import Preferences, User
from accounts.preferences import preferences_of
from digest import subscribe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "grace@example.org"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ask(client, email=ADDRESS, time_zone="Asia/Tokyo", **extra):
    return client.post(
        reverse("digest:subscribe"), {"email": email, "time_zone": time_zone}, **extra
    )


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def confirm_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/subscribe/\S+/)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


def text_of(response) -> str:
    return " ".join(html.fromstring(response.content).xpath("//main")[0].text_content().split())


def test_subscribe_confirm_and_get_a_daily_digest_at_eight_in_ones_zone(client, smtp_server):
    asked = ask(client, email="Grace@Example.org")

    assert asked.status_code == 200
    assert "Check your inbox" in text_of(asked)
    assert "grace@example.org" in text_of(asked)
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == ADDRESS
    assert mail["Subject"] == "Confirm your daily papers from paperfeed"
    assert "once a day at 08:00 (Asia/Tokyo)" in body_of(mail)
    assert "set a password" in body_of(mail)
    assert "/accounts/password/reset/" in body_of(mail)
    assert confirm_path(mail) in html_body_of(mail)
    assert not User.objects.exists()  # nothing is stored before the confirmation

    # A mail scanner following the link changes nothing: confirming takes a press.
    shown = client.get(confirm_path(mail))
    assert shown.status_code == 200
    assert "Yes, send me the daily papers" in shown.text
    assert not User.objects.exists()

    done = client.post(confirm_path(mail))

    assert done.status_code == 200
    assert "You are subscribed" in text_of(done)
    assert reverse("account_reset_password") in done.text
    user = User.objects.get()
    assert user.email == ADDRESS
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (ADDRESS, True, True)
    preferences = Preferences.objects.get(user=user)
    assert (preferences.digest_frequency, preferences.digest_hour, preferences.time_zone) == (
        "daily",
        8,
        "Asia/Tokyo",
    )
    local = preferences.next_digest_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (8, 0)
    assert preferences.followed_tags.count() == 0  # the site-wide trending list, then


def test_the_subscription_becomes_a_full_account_by_setting_a_password(client, smtp_server):
    ask(client)
    [mail] = smtp_server.wait_for(1)
    client.post(confirm_path(mail))

    client.post(reverse("account_reset_password"), {"email": ADDRESS})

    [_, reset] = smtp_server.wait_for(2)
    assert reset["To"] == ADDRESS
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", body_of(reset))
    assert link, body_of(reset)


def test_confirming_twice_creates_one_reader(client, smtp_server):
    ask(client)
    [mail] = smtp_server.wait_for(1)
    client.post(confirm_path(mail))

    again = client.post(confirm_path(mail))

    assert again.status_code == 200
    assert "You already have an account" in text_of(again)
    assert User.objects.count() == EmailAddress.objects.count() == 1


def test_an_existing_reader_is_told_so_by_mail_and_nothing_changes(client, smtp_server):
    reader = UserFactory(email=ADDRESS)
    preferences = preferences_of(reader)
    new_reader = Client().post(
        reverse("digest:subscribe"), {"email": "nobody@example.org", "time_zone": "UTC"}
    )

    asked = ask(client, email="GRACE@example.org")

    # The same page as for a new address: the box tells no one who has an account.
    assert text_of(asked).replace(ADDRESS, "X") == text_of(new_reader).replace(
        "nobody@example.org", "X"
    )
    mails = smtp_server.wait_for(2)
    [mail] = [m for m in mails if m["To"] == ADDRESS]
    assert mail["Subject"] == "You already have a paperfeed account"
    assert "nothing was changed" in body_of(mail)
    assert "/accounts/login/" in body_of(mail)
    assert "/me/preferences/" in body_of(mail)
    assert "/subscribe/" not in body_of(mail)
    reader.refresh_from_db()
    assert reader.has_usable_password()
    assert Preferences.objects.get(user=reader).digest_frequency == preferences.digest_frequency


def test_an_address_that_signed_up_meanwhile_is_left_alone(client, smtp_server):
    ask(client)
    [mail] = smtp_server.wait_for(1)
    reader = UserFactory(email=ADDRESS)

    done = client.post(confirm_path(mail))

    assert "You already have an account" in text_of(done)
    assert User.objects.get() == reader
    assert reader.has_usable_password()


def test_asking_is_limited_per_address(client, smtp_server):
    for n in range(3):
        assert ask(Client(REMOTE_ADDR=f"10.0.0.{n}")).status_code == 200

    refused = ask(Client(REMOTE_ADDR="10.0.0.9"), email=ADDRESS.upper())

    assert refused.status_code == 429
    assert "Too many requests" in text_of(refused)
    assert "try again tomorrow" in text_of(refused)
    assert len(smtp_server.wait_for(3)) == 3
    assert ask(Client(REMOTE_ADDR="10.0.0.9"), email="other@example.org").status_code == 200


def test_asking_is_limited_per_client(smtp_server):
    visitor = Client(REMOTE_ADDR="192.0.2.7")
    for n in range(5):
        assert ask(visitor, email=f"reader{n}@example.org").status_code == 200

    assert ask(visitor, email="reader9@example.org").status_code == 429
    assert ask(Client(REMOTE_ADDR="192.0.2.8"), email="reader9@example.org").status_code == 200
    assert len(smtp_server.wait_for(6)) == 6


def test_a_bad_address_is_explained_and_nothing_is_sent(client, smtp_server):
    response = ask(client, email="not an address")

    assert response.status_code == 200
    assert "does not look like an e-mail address" in text_of(response)
    page = html.fromstring(response.content)
    assert page.xpath('//label[@for="id_email"]')
    assert ask(client, email="").status_code == 200
    assert smtp_server.messages == []


def test_an_unknown_time_zone_becomes_utc(client, smtp_server):
    ask(client, time_zone="Mars/Olympus_Mons")
    [mail] = smtp_server.wait_for(1)

    client.post(confirm_path(mail))

    assert Preferences.objects.get().time_zone == "UTC"


def test_the_subscribe_page_works_without_the_home_page(client):
    response = client.get(reverse("digest:subscribe"))

    assert response.status_code == 200
    assert "Get trending papers in your email inbox once a day" in text_of(response)
    assert html.fromstring(response.content).xpath('//input[@name="time_zone"]')


def test_the_box_works_from_a_page_without_a_csrf_token(smtp_server):
    # The home page is kept in a shared cache for visitors, so its form has no token.
    visitor = Client(enforce_csrf_checks=True)

    assert ask(visitor).status_code == 200
    [mail] = smtp_server.wait_for(1)
    # Confirming changes something, and is protected like every other form.
    assert visitor.post(confirm_path(mail)).status_code == 403
    assert not User.objects.exists()


def test_forged_tampered_and_expired_links_get_a_polite_page(client, smtp_server):
    forged = client.get(reverse("digest:subscribe-confirm", args=["nonsense"]))
    assert forged.status_code == 400
    assert "not one paperfeed sent" in text_of(forged)

    ask(client)
    [mail] = smtp_server.wait_for(1)
    path = confirm_path(mail)
    tampered = client.post(path.replace(path[-6:-1], "AAAAA"))
    assert tampered.status_code == 400

    with time_machine.travel(dt.timedelta(days=3, minutes=1)):
        expired = client.post(path)
    assert expired.status_code == 400
    assert "has expired" in text_of(expired)
    assert not User.objects.exists()


def test_a_link_for_another_purpose_is_refused():
    from django.core import signing

    token = signing.dumps({"e": ADDRESS, "z": "UTC"}, salt="some.other.purpose")

    with pytest.raises(subscribe.BadSubscribeLink):
        subscribe.read_link(token)


def test_a_mail_server_that_is_down_gets_a_clear_page(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    response = ask(client)

    assert response.status_code == 503
    assert "try again" in text_of(response)
