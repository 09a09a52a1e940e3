import re

import pytest
from allauth.account.models import EmailAddress

from tests.factories import UserFactory

PASSWORD = "a long test password"


@pytest.fixture
def reader(db):
    """A reader who signed up and confirmed their address, as allauth records it."""
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def link_in(message, path: str) -> str:
    """The first link in an e-mail whose path starts with `path`, as a site-relative URL."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", message.body)
    assert match, f"no {path} link in:\n{message.body}"
    return match.group(1)
