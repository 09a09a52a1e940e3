import uuid

import pytest


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
