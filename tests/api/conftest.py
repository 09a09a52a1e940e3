import pytest
from rest_framework.test import APIClient

from accounts import tokens
from tests.factories import UserFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reader(db):
    return UserFactory()


@pytest.fixture
def reader_api(reader):
    """A client that signs in as `reader` with a personal token, as a program would."""
    _, secret = tokens.create_token(reader, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    # Tests make many calls from one address; throttling has tests of its own.
    settings.API_RATE_ANONYMOUS = settings.API_RATE_READER = "100000/minute"
