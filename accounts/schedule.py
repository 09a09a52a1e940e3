"""When a reader's next digest is due, from their frequency, day, local hour and zone."""

import datetime as dt
import functools
import zoneinfo

from accounts.models import Preferences


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted; read once (it walks the tz database)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def known_time_zone(name: str) -> bool:
    return name in _time_zone_set()


@functools.cache
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zone_names())


def next_digest_at(preferences: Preferences, *, after: dt.datetime) -> dt.datetime | None:
    """The first send time strictly after `after`, in UTC; None when digests are off.

    The hour is wall-clock time in the reader's zone, so 08:00 stays 08:00 across
    daylight-saving changes. A local time that a spring-forward skips resolves to the
    instant an hour later, and a repeated autumn hour to its first occurrence: either way
    exactly one digest per period.
    """
    if preferences.digest_frequency == Preferences.Frequency.OFF:
        return None
    zone = zoneinfo.ZoneInfo(preferences.time_zone)
    today = after.astimezone(zone).date()
    weekly = preferences.digest_frequency == Preferences.Frequency.WEEKLY
    # Today's slot may have passed, so a weekly digest can be up to seven days away.
    for offset in range(8):
        day = today + dt.timedelta(days=offset)
        if weekly and day.weekday() != preferences.digest_weekday:
            continue
        at = dt.datetime.combine(day, dt.time(preferences.digest_hour), tzinfo=zone)
        if at > after:
            return at.astimezone(dt.UTC)
    raise AssertionError("a slot always falls within eight days")  # pragma: no cover
