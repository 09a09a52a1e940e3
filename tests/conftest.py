import pytest


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    # Pages are rendered without a collectstatic run, whatever DEBUG says.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
