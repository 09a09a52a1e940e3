import uuid

import pytest
from hypothesis import settings as hypothesis_settings

from tests.smtp import smtp_server  # noqa: F401  (a fixture for every test that sends mail)

# Parsers are judged on what they return, never on time: a loaded machine must not fail
# a property test for being slow.
hypothesis_settings.register_profile("paperfeed", deadline=None)
hypothesis_settings.load_profile("paperfeed")


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    # Pages are rendered without a collectstatic run, whatever DEBUG says.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # The real Redis, under a key prefix of the test's own: rate limits and cached pages
    # never leak from one test (or run) into another, and nobody else's keys are touched.
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing is deliberately slow; what tests check is never the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
