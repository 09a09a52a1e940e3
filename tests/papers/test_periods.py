import datetime

import pytest

from papers.periods import Period, newest_day
from tests.factories import PaperFactory

D = datetime.date


@pytest.mark.parametrize(
    ("kind", "value", "first", "last", "label"),
    [
        ("day", "2026-03-05", D(2026, 3, 5), D(2026, 3, 5), "Thursday, 5 March 2026"),
        ("week", "2026-W01", D(2025, 12, 29), D(2026, 1, 4), "Week of 29 December 2025"),
        ("month", "2024-02", D(2024, 2, 1), D(2024, 2, 29), "February 2024"),
        ("month", "2025-12", D(2025, 12, 1), D(2025, 12, 31), "December 2025"),
    ],
)
def test_parse_and_print(kind, value, first, last, label):
    period = Period.parse(kind, value)

    assert (period.first, period.last, period.label) == (first, last, label)
    assert period.slug == value
    assert period.get_absolute_url() == f"/{kind}/{value}/"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("day", "2026-02-30"),
        ("day", "26-1-1"),
        ("week", "2026-W54"),
        ("month", "2026-13"),
        ("month", "2026-03-01"),
        ("week", "2026-W1x"),
    ],
)
def test_nonsense_is_refused(kind, value):
    with pytest.raises(ValueError):
        Period.parse(kind, value)


def test_switching_kind_keeps_the_start():
    day = Period.parse("day", "2026-03-05")

    assert day.of_kind("week").slug == "2026-W10"
    assert day.of_kind("month").slug == "2026-03"


@pytest.mark.django_db
def test_neighbours_skip_periods_without_papers(django_assert_num_queries):
    for day in (D(2026, 1, 2), D(2026, 1, 20), D(2026, 3, 1)):
        PaperFactory(daily_date=day)

    with django_assert_num_queries(1):
        earlier, later = Period.parse("day", "2026-01-20").neighbours()
    assert (earlier.slug, later.slug) == ("2026-01-02", "2026-03-01")

    earlier, later = Period.parse("month", "2026-01").neighbours()
    assert (earlier, later.slug) == (None, "2026-03")
    assert newest_day() == D(2026, 3, 1)


@pytest.mark.django_db
def test_listing_day_prefers_the_daily_list_then_publication_then_arrival():
    hf = PaperFactory(daily_date=D(2026, 1, 5), published_at="2025-12-31T23:00:00-05:00")
    arxiv = PaperFactory(published_at="2025-12-31T23:00:00-05:00")  # 1 Jan in UTC
    bib = PaperFactory(first_seen_at="2026-02-03T10:00:00+00:00")
    for paper in (hf, arxiv, bib):
        paper.refresh_from_db()

    assert [hf.listed_on, arxiv.listed_on, bib.listed_on] == [
        D(2026, 1, 5),
        D(2026, 1, 1),
        D(2026, 2, 3),
    ]
