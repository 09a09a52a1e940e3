import pytest
from rest_framework.test import APIClient

from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db


def test_unknown_addresses_under_api_are_json(api, settings):
    settings.DEBUG = False
    response = api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "There is nothing at this address.",
        }
    }
    # Elsewhere the site's own page.
    assert b"<html" in api.get("/no-such-page/").content.lower()


def test_a_wrong_method_has_the_same_shape(reader_api):
    paper = PaperFactory()
    wrong = reader_api.put(f"/api/papers/{paper.pk}/vote/")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_anonymous_clients_are_throttled_per_address_with_retry_after(settings):
    settings.API_RATE_ANONYMOUS = "3/minute"
    one, other = APIClient(REMOTE_ADDR="192.0.2.1"), APIClient(REMOTE_ADDR="192.0.2.2")
    assert [one.get("/api/tags/").status_code for _ in range(3)] == [200] * 3
    refused = one.get("/api/tags/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    # A forged X-Forwarded-For does not make a new client.
    assert one.get("/api/tags/", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert other.get("/api/tags/").status_code == 200


def test_readers_are_throttled_per_reader(settings, reader_api):
    settings.API_RATE_READER = "2/hour"
    assert [reader_api.get("/api/tags/").status_code for _ in range(2)] == [200, 200]
    refused = reader_api.get("/api/tags/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 60
    assert APIClient().get("/api/tags/").status_code == 200  # others are not
