"""Failed sign-ins are rate-limited on every way in: allauth's page, and the admin's."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.accounts.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 5  # failures per address in 5 minutes (ACCOUNT_RATE_LIMITS["login_failed"])


@pytest.fixture
def curator(db):
    user = UserFactory(email="curator@example.org", is_staff=True, is_superuser=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in(client, email, password, url=None):
    return client.post(url or reverse("account_login"), {"login": email, "password": password})


def test_after_five_failures_even_the_right_password_is_refused(client, reader):
    for _ in range(LIMIT):
        assert "not correct" in sign_in(client, reader.email, "wrong").text

    response = sign_in(client, reader.email, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_still_let_the_reader_in(client, reader):
    for _ in range(LIMIT - 1):
        sign_in(client, reader.email, "wrong")

    response = sign_in(client, reader.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(reader.pk)


def test_the_limit_is_per_address_whatever_its_case(client, reader):
    for _ in range(LIMIT):
        sign_in(client, reader.email.upper(), "wrong")

    assert "Too many failed login attempts" in sign_in(client, reader.email, PASSWORD).text


def test_the_admin_sign_in_page_sends_curators_to_the_rate_limited_one(client, curator):
    page = client.get(reverse("admin:login"), {"next": "/admin/"})
    # Posting the admin's own form, even with the right password, signs nobody in: there
    # is no second, unlimited place to try passwords.
    posted = sign_in(client, curator.email, PASSWORD, url=reverse("admin:login"))

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_curators_reach_the_admin_through_allauths_sign_in(client, curator):
    response = client.post(
        f"{reverse('account_login')}?next=/admin/",
        {"login": curator.email, "password": PASSWORD, "next": "/admin/"},
    )

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_failed_admin_sign_ins_are_limited_too(client, curator):
    login_url = client.get(reverse("admin:login"), {"next": "/admin/"})["Location"]
    for _ in range(LIMIT):
        sign_in(client, curator.email, "wrong", url=login_url)

    response = sign_in(client, curator.email, PASSWORD, url=login_url)

    assert "Too many failed login attempts" in response.text
    assert client.get("/admin/").status_code == 302


def test_signed_in_readers_who_are_not_staff_are_refused_the_admin(reader_client):
    assert reader_client.get(reverse("admin:login")).status_code == 403


def test_password_guesses_on_the_delete_page_count_towards_the_same_limit(reader_client, reader):
    for _ in range(LIMIT):
        reader_client.post(reverse("delete-account"), {"password": "wrong"})

    response = reader_client.post(reverse("delete-account"), {"password": PASSWORD})

    assert "Too many failed login attempts" in response.text
    assert type(reader).objects.filter(pk=reader.pk).exists()
