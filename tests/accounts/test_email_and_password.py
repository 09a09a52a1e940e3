"""Password reset and change of address, through the mail the configured backend sends."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import PASSWORD, link_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long test password"


def test_password_reset_by_mail(client, reader):
    response = client.post(reverse("account_reset_password"), {"email": "Ada@Example.org"})
    assert response["Location"] == reverse("account_reset_password_done")

    (message,) = mail.outbox
    assert message.to == [reader.email]
    # The link puts its key in the session and sends on to a page without it in the URL.
    form_url = client.get(link_in(message, "/accounts/password/reset/key/"))["Location"]
    assert "Choose a new password" in client.get(form_url).text
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert done.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password(NEW_PASSWORD)


def test_a_used_or_forged_reset_link_changes_no_password(client, reader):
    page = client.get(
        reverse("account_reset_password_from_key", kwargs={"uidb36": "1", "key": "forged"}),
        follow=True,
    )

    assert "This link does not work" in page.text
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_an_unknown_address_is_said_so_and_no_mail_goes_out(client, reader):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert response.status_code == 200
    assert "not assigned to any user account" in response.text
    assert mail.outbox == []


def test_change_of_address_takes_effect_once_the_new_one_is_confirmed(reader_client, reader):
    response = reader_client.post(
        reverse("account_email"), {"email": "ada@lovelace.example", "action_add": ""}
    )
    assert response.status_code == 302

    (message,) = mail.outbox
    assert message.to == ["ada@lovelace.example"]
    page = reader_client.get(reverse("account_email"))
    assert "Changing to <strong>ada@lovelace.example</strong>" in page.text
    reader.refresh_from_db()
    assert reader.email == "ada@example.org"  # until confirmed

    reader_client.post(link_in(message, "/accounts/confirm-email/"))

    reader.refresh_from_db()
    assert reader.email == "ada@lovelace.example"
    assert list(EmailAddress.objects.filter(user=reader).values_list("email", "verified")) == [
        ("ada@lovelace.example", True)
    ]
    # The old address is told, in case the change was not the reader's doing.
    assert mail.outbox[-1].to == ["ada@example.org"]
    assert "ada@lovelace.example" in mail.outbox[-1].body


def test_changing_to_a_taken_address_is_said_so_and_changes_nothing(reader_client, reader):
    UserFactory(email="grace@example.org")

    response = reader_client.post(
        reverse("account_email"), {"email": "Grace@example.org", "action_add": ""}
    )

    assert response.status_code == 200
    assert "A user is already registered with this email address." in response.text
    assert mail.outbox == []
    assert list(EmailAddress.objects.filter(user=reader).values_list("email", flat=True)) == [
        "ada@example.org"
    ]
    assert User.objects.get(pk=reader.pk).email == "ada@example.org"


def test_change_of_password_needs_the_current_one(reader_client, reader):
    url = reverse("account_change_password")
    wrong = reader_client.post(
        url, {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    right = reader_client.post(
        url, {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert "Please type your current password." in wrong.text
    assert right.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password(NEW_PASSWORD)
    (notice,) = mail.outbox
    assert notice.to == [reader.email]
