import datetime
import itertools
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from papers.charts import weekly_chart, weekly_counts
from papers.models import Paper
from tests.factories import PaperFactory, PaperTagFactory, TagFactory

SVG = "{http://www.w3.org/2000/svg}"
D = datetime.date


def listed_on(day, **fields):
    return PaperFactory(daily_date=day, **fields)


def parse(svg):
    return ET.fromstring(str(svg))


def bars(root):
    return root.findall(f"{SVG}rect")


# weekly_counts


@pytest.mark.django_db
def test_counts_across_a_year_boundary():
    # 1 Jan 2026 is a Thursday: its ISO week runs Monday 29 Dec 2025 to Sunday 4 Jan 2026.
    for day in [
        D(2025, 12, 22),  # Monday, first day of the window
        D(2025, 12, 28),  # Sunday, same week
        D(2025, 12, 29),
        D(2025, 12, 31),
        D(2026, 1, 1),
        D(2026, 1, 4),  # Sunday ending the week of 1 Jan
        D(2026, 1, 5),  # Monday of the week containing `end`
        D(2026, 1, 7),
    ]:
        listed_on(day)

    counts = weekly_counts(Paper.objects.all(), end=D(2026, 1, 7), weeks=3)

    assert counts == [(D(2025, 12, 22), 2), (D(2025, 12, 29), 4), (D(2026, 1, 5), 2)]


@pytest.mark.django_db
def test_papers_outside_the_window_are_ignored():
    listed_on(D(2025, 12, 21))  # Sunday before the window
    listed_on(D(2026, 1, 12))  # Monday after the week containing `end`
    listed_on(D(2024, 12, 30))
    listed_on(D(2025, 12, 22))

    counts = weekly_counts(Paper.objects.all(), end=D(2026, 1, 7), weeks=3)

    assert counts == [(D(2025, 12, 22), 1), (D(2025, 12, 29), 0), (D(2026, 1, 5), 0)]


@pytest.mark.django_db
def test_the_week_containing_end_is_counted_whole():
    listed_on(D(2026, 1, 11))  # Sunday after `end`, same ISO week

    counts = weekly_counts(Paper.objects.all(), end=D(2026, 1, 7), weeks=1)

    assert counts == [(D(2026, 1, 5), 1)]


@pytest.mark.django_db
def test_listed_on_falls_back_to_the_utc_date_of_publication():
    # 23:30 in New York on Sunday 4 Jan is already Monday 5 Jan in UTC.
    new_york = datetime.timezone(datetime.timedelta(hours=-5))
    PaperFactory(published_at=datetime.datetime(2026, 1, 4, 23, 30, tzinfo=new_york))

    counts = weekly_counts(Paper.objects.all(), end=D(2026, 1, 7), weeks=2)

    assert counts == [(D(2025, 12, 29), 0), (D(2026, 1, 5), 1)]


@pytest.mark.django_db
def test_a_year_of_weeks_zero_filled_oldest_first():
    listed_on(D(2026, 3, 9))

    counts = weekly_counts(Paper.objects.all(), end=D(2026, 11, 26))

    assert len(counts) == 52
    assert counts[0][0] == D(2025, 12, 1)
    assert counts[-1][0] == D(2026, 11, 23)
    assert all(
        later - earlier == datetime.timedelta(weeks=1)
        for (earlier, _), (later, _) in itertools.pairwise(counts)
    )
    assert [(monday, n) for monday, n in counts if n] == [(D(2026, 3, 9), 1)]
    assert sum(n for _, n in counts) == 1


@pytest.mark.django_db
def test_counts_only_the_papers_given_in_their_order():
    tag = TagFactory(name="Diffusion")
    for day in [D(2026, 1, 5), D(2026, 1, 6), D(2025, 12, 30)]:
        PaperTagFactory(tag=tag, paper=listed_on(day))
    listed_on(D(2026, 1, 5))  # untagged

    # An ordered queryset: its ORDER BY must not split the weekly groups.
    papers = Paper.objects.tagged(tag).latest_listed()
    counts = weekly_counts(papers, end=D(2026, 1, 7), weeks=2)

    assert counts == [(D(2025, 12, 29), 1), (D(2026, 1, 5), 2)]


@pytest.mark.django_db
def test_counts_take_one_query(django_assert_num_queries):
    for week in range(10):
        listed_on(D(2026, 1, 5) - datetime.timedelta(weeks=week, days=week % 7))

    with django_assert_num_queries(1):
        counts = weekly_counts(Paper.objects.all(), end=D(2026, 1, 7))

    assert sum(n for _, n in counts) == 10


def test_weeks_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        weekly_counts(Paper.objects.none(), end=D(2026, 1, 7), weeks=0)


# weekly_chart


def year_of_counts():
    mondays = [D(2025, 12, 1) + datetime.timedelta(weeks=i) for i in range(52)]
    counts = dict.fromkeys(mondays, 0)
    counts[D(2026, 3, 9)] = 31
    counts[D(2026, 3, 16)] = 1
    counts[D(2026, 6, 1)] = 10
    counts[D(2026, 11, 23)] = 20
    return list(counts.items())


def test_chart_is_an_accessible_svg():
    svg = weekly_chart(year_of_counts(), label="Papers tagged Diffusion")

    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 364 96"
    assert root.get("width") is None  # it scales to its container
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Papers tagged Diffusion"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text == (
        "Papers per week, weeks of 1 Dec 2025 to 23 Nov 2026: 62 in all, "
        "at most 31 in the week of 9 Mar 2026."
    )


def test_one_bar_per_week_scaled_to_the_busiest():
    root = parse(weekly_chart(year_of_counts(), label="x"))
    rects = bars(root)

    assert len(rects) == 52
    assert [r.get("x") for r in rects] == [str(7 * i) for i in range(52)]
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in rects}
    tallest = heights["Week of 9 Mar 2026: 31 papers"]
    assert tallest == max(heights.values())
    assert heights["Week of 1 Jun 2026: 10 papers"] == pytest.approx(tallest * 10 / 31, abs=0.1)
    # Every bar stands on the same baseline.
    assert {float(r.get("y")) + float(r.get("height")) for r in rects} == {80}
    # Empty weeks stay visible, yet lower than the quietest week with a paper.
    empty = heights["Week of 1 Dec 2025: 0 papers"]
    assert 0 < empty < heights["Week of 16 Mar 2026: 1 paper"]
    assert all(r.get("fill") == "currentColor" for r in rects)


def test_months_are_labelled_along_the_bottom():
    root = parse(weekly_chart(year_of_counts(), label="x"))

    labels = [t.text for t in root.findall(f"{SVG}text[@class='chart-label']")]

    assert labels == ["Jan 2026", "Apr", "Jul", "Oct"]
    # 1 Jan 2026 is in the week of 29 Dec 2025, the fifth bar.
    assert root.find(f"{SVG}text[@class='chart-label']").get("x") == "28"


def test_label_text_is_escaped():
    label = 'Papers tagged <script>alert("x")</script> & co'

    svg = weekly_chart(year_of_counts(), label=label)

    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == label


def test_a_year_without_papers_says_so():
    counts = [(D(2025, 12, 1) + datetime.timedelta(weeks=i), 0) for i in range(52)]

    root = parse(weekly_chart(counts, label="Papers by Ada Lovelace"))

    assert root.find(f"{SVG}desc").text == "No papers in the last year"
    assert root.find(f"{SVG}text[@class='chart-empty']").text == "No papers in the last year"
    rects = bars(root)
    assert len(rects) == 52
    assert {r.get("height") for r in rects} == {"1"}


def test_a_short_chart():
    counts = [(D(2025, 12, 22), 2), (D(2025, 12, 29), 4), (D(2026, 1, 5), 0)]

    root = parse(weekly_chart(counts, label="x"))

    assert len(bars(root)) == 3
    assert root.find(f"{SVG}desc").text == (
        "Papers per week, weeks of 22 Dec 2025 to 5 Jan 2026: 6 in all, "
        "at most 4 in the week of 29 Dec 2025."
    )


def test_a_chart_needs_weeks():
    with pytest.raises(ValueError):
        weekly_chart([], label="x")
