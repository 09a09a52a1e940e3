import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_unique_whatever_its_case():
    User.objects.create_user(email="Ada@Example.org", password="x")

    with pytest.raises(IntegrityError):
        User.objects.create_user(email="ada@example.org", password="y")


def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="e-mail address is required"):
        User.objects.create_user(email="", password="x")


def test_superuser_is_staff():
    user = User.objects.create_superuser(email="root@example.org", password="x")

    assert user.is_staff and user.is_superuser


def test_sign_in_and_out_with_email(client):
    from allauth.account.models import EmailAddress

    user = UserFactory(email="reader@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    assert "paperfeed" in page.text

    response = client.post(
        reverse("account_login"),
        {"login": "READER@example.org", "password": "a long test password"},
    )
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert "Sign out" in home.text

    client.post(reverse("account_logout"))
    assert "Sign in" in client.get(reverse("home")).text


def test_wrong_password_does_not_sign_in(client):
    UserFactory(email="reader@example.org")

    response = client.post(
        reverse("account_login"), {"login": "reader@example.org", "password": "wrong"}
    )

    assert response.status_code == 200
    assert "not correct" in response.text
    assert "_auth_user_id" not in client.session
