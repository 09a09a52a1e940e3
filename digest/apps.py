from django.apps import AppConfig


class DigestConfig(AppConfig):
    """Personalised e-mail digests: ranking, building and sending."""

    name = "digest"
