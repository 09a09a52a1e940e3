"""A reader's digest settings: their defaults at sign-up, and changing them later."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Preferences
from accounts.schedule import known_time_zone, next_digest_at

DIGEST_SETTINGS = ("digest_frequency", "digest_weekday", "digest_hour", "time_zone", "digest_size")


def preferences_of(user) -> Preferences:
    """The reader's settings, created with the defaults (and their first digest's time)
    the first time anything needs them, however the reader got here."""
    preferences, _ = Preferences.objects.get_or_create(
        user=user, defaults={"next_digest_at": next_digest_at(Preferences(), after=timezone.now())}
    )
    return preferences


def start_preferences(user, *, time_zone: str) -> Preferences:
    """A new reader's settings: the model's defaults (a weekly digest on Monday at 08:00)
    in the zone their browser reported, or UTC when it reported none we know."""
    with transaction.atomic():
        preferences = preferences_of(user)
        preferences.time_zone = time_zone if known_time_zone(time_zone) else "UTC"
        preferences.next_digest_at = next_digest_at(preferences, after=timezone.now())
        preferences.save(update_fields=["time_zone", "next_digest_at"])
    return preferences


def digest_settings(preferences: Preferences) -> dict:
    return {name: getattr(preferences, name) for name in DIGEST_SETTINGS}


def set_digest_settings(preferences: Preferences, **settings) -> None:
    """Change how and when the digest comes; the next one is rescheduled from now.

    That a period already sent is not sent again after a reschedule is the digest's
    business (one Digest per reader and period), not the schedule's.
    """
    unknown = set(settings) - set(DIGEST_SETTINGS)
    if unknown:
        raise TypeError(f"not digest settings: {', '.join(sorted(unknown))}")
    for name, value in settings.items():
        setattr(preferences, name, value)
    # Saving settings is also how a reader whose digests were paused by bounces resumes.
    preferences.bounces, preferences.paused_reason = 0, ""
    preferences.next_digest_at = next_digest_at(preferences, after=timezone.now())
    preferences.save(update_fields=[*settings, "next_digest_at", "bounces", "paused_reason"])
