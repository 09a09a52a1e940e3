"""When the next digest is due: pure, on unsaved preferences."""

import datetime as dt

import pytest

from accounts.models import Preferences
from accounts.schedule import known_time_zone, next_digest_at

UTC = dt.UTC


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


def prefs(**fields):
    return Preferences(**{"time_zone": "UTC", **fields})


def test_off_means_never():
    assert next_digest_at(prefs(digest_frequency="off"), after=at(2025, 1, 1)) is None


@pytest.mark.parametrize(
    ("after", "due"),
    [
        (at(2025, 1, 6, 6, 59), at(2025, 1, 6, 7)),  # Monday, before 08:00 in Berlin (UTC+1)
        (at(2025, 1, 6, 7), at(2025, 1, 13, 7)),  # exactly at the hour: the next week's
        (at(2025, 1, 7, 12), at(2025, 1, 13, 7)),  # Tuesday: the coming Monday
        (at(2025, 1, 5, 23, 30), at(2025, 1, 6, 7)),  # Sunday night UTC is Monday in Berlin
    ],
)
def test_weekly_is_the_next_chosen_weekday_at_the_local_hour(after, due):
    weekly = prefs(
        digest_frequency="weekly", digest_weekday=0, digest_hour=8, time_zone="Europe/Berlin"
    )

    assert next_digest_at(weekly, after=after) == due


def test_daily_is_today_or_tomorrow_at_the_local_hour():
    daily = prefs(digest_frequency="daily", digest_hour=18, time_zone="Asia/Tokyo")  # UTC+9

    assert next_digest_at(daily, after=at(2025, 3, 1, 8)) == at(2025, 3, 1, 9)
    assert next_digest_at(daily, after=at(2025, 3, 1, 9)) == at(2025, 3, 2, 9)


def test_the_local_hour_holds_across_daylight_saving_changes():
    daily = prefs(digest_frequency="daily", digest_hour=8, time_zone="America/New_York")

    # 9 March 2025: clocks go from EST (UTC-5) to EDT (UTC-4).
    assert next_digest_at(daily, after=at(2025, 3, 8, 14)) == at(2025, 3, 9, 12)
    assert next_digest_at(daily, after=at(2025, 3, 7, 14)) == at(2025, 3, 8, 13)


def test_an_hour_the_clocks_skip_still_gets_its_digest():
    # 30 March 2025, Berlin: 02:00 becomes 03:00; 02:00 does not exist that day.
    daily = prefs(digest_frequency="daily", digest_hour=2, time_zone="Europe/Berlin")

    due = next_digest_at(daily, after=at(2025, 3, 29, 23, 30))

    assert at(2025, 3, 30, 0) <= due <= at(2025, 3, 30, 1)


def test_known_time_zones():
    assert known_time_zone("Europe/Berlin")
    assert known_time_zone("UTC")
    assert not known_time_zone("Europe/Atlantis")
    assert not known_time_zone("")
