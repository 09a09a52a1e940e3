import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_reader_makes_a_token_on_the_preferences_page_and_sees_it_once(client, reader):
    client.force_login(reader)
    page = client.get(reverse("preferences"))
    assert b"API tokens" in page.content and b"No tokens yet" in page.content

    made = client.post(reverse("create-api-token"), {"token-name": "my scripts"})

    assert made.status_code == 200
    secret = made.context["secret"]
    assert secret.startswith("pf_") and secret.encode() in made.content
    assert made["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get()
    # Only a fingerprint is kept: the secret is nowhere in the row.
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.digest, token.prefix, token.name}
    listed = client.get(reverse("preferences")).content.decode()
    assert "my scripts" in listed and token.prefix in listed and secret not in listed

    me = _bearer(secret).post("/api/tags/x/follow/")
    assert me.status_code == 404  # signed in (no 401), the tag just does not exist


def test_a_token_without_a_name_is_refused(client, reader):
    client.force_login(reader)
    response = client.post(reverse("create-api-token"), {"token-name": ""}, follow=True)
    assert b"Give the token a name" in response.content
    assert not ApiToken.objects.exists()


def test_revoked_tokens_stop_working_and_only_their_owner_revokes(client, reader):
    token, secret = tokens.create_token(reader, name="laptop")
    assert _bearer(secret).post("/api/papers/1/vote/").status_code == 404

    intruder = UserFactory()
    client.force_login(intruder)
    assert client.post(reverse("revoke-api-token", args=[token.pk])).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()

    client.force_login(reader)
    client.post(reverse("revoke-api-token", args=[token.pk]))
    refused = _bearer(secret).post("/api/papers/1/vote/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert refused.json()["error"]["message"] == "The API token is wrong or was revoked."


@pytest.mark.parametrize("header", ["Bearer pf_wrong", "Bearer nonsense", "Bearer ", "bearer pf_"])
def test_wrong_tokens_are_refused_not_treated_as_anonymous(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/papers/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_deactivated_reader_s_tokens_stop_working(reader):
    _, secret = tokens.create_token(reader, name="ci")
    reader.is_active = False
    reader.save()
    assert _bearer(secret).get("/api/papers/").status_code == 401


def test_use_is_recorded_now_and_then(reader, time_machine):
    time_machine.move_to("2026-03-05 12:00Z", tick=False)
    token, secret = tokens.create_token(reader, name="ci")
    _bearer(secret).get("/api/papers/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    _bearer(secret).get("/api/papers/")
    token.refresh_from_db()
    assert token.last_used_at == first
    time_machine.shift(tokens.USE_RECORDED_EVERY * 2)
    _bearer(secret).get("/api/papers/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_a_reader_has_at_most_so_many_tokens(reader):
    for n in range(tokens.MAX_TOKENS):
        tokens.create_token(reader, name=f"t{n}")
    with pytest.raises(tokens.TooManyTokens):
        tokens.create_token(reader, name="one more")


def test_deleting_the_account_deletes_its_tokens(reader):
    _, secret = tokens.create_token(reader, name="ci")
    reader.delete()
    assert not ApiToken.objects.exists()
    assert _bearer(secret).get("/api/papers/").status_code == 401
