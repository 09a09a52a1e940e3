"""Rate limits: each signed-in reader, and each anonymous address, gets a budget of
calls (API_RATE_READER, API_RATE_ANONYMOUS, e.g. "600/minute"); past it, 429 with
Retry-After. Counted in the shared Redis cache, so every web process sees one count.

The rates are read when a request arrives, not when DRF is imported, so a deployment
(or a test) that changes the setting gets the new rate."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    def get_rate(self):
        return settings.API_RATE_ANONYMOUS


class ReaderThrottle(UserRateThrottle):
    def get_rate(self):
        return settings.API_RATE_READER
