"""Papers per week: counted in the database, drawn as a small server-rendered SVG.

Tag and author pages show the shape of a year at a glance. The SVG is built here as
text so that pages need no chart library in the browser, and it reads as a sentence
to a screen reader (its <title> and <desc>) rather than as 52 unlabelled shapes.
"""

import datetime
import hashlib

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import dateformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Geometry in viewBox units. The chart scales to its container, so these only fix
# proportions: 52 weeks are 364 units wide, which leaves the 10-unit labels about
# 10 px tall on a 390 px phone.
STEP = 7  # one week: a bar and the gap after it
BAR_WIDTH = 5
BARS_TOP = 4
BARS_BOTTOM = 80  # the baseline; month labels sit below it
HEIGHT = 96
FONT_SIZE = 10
ZERO_HEIGHT = 1  # a week without papers still shows, so gaps read as gaps
MIN_HEIGHT = 2.5  # the smallest non-empty week stays taller than an empty one


def weekly_counts(papers, *, end: datetime.date, weeks: int = 52):
    """Papers per ISO week (Monday first), oldest first, for `weeks` weeks up to `end`.

    Returns [(monday, count), ...] with exactly `weeks` entries, zero-filled, from one
    query. The week containing `end` is counted whole.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    last_monday = end - datetime.timedelta(days=end.weekday())
    first_monday = last_monday - datetime.timedelta(weeks=weeks - 1)
    rows = (
        papers.listed_between(first_monday, last_monday + datetime.timedelta(days=6))
        # Whatever order the caller's queryset had would otherwise join the GROUP BY.
        .order_by()
        .annotate(week=TruncWeek("listed_on"))
        .values_list("week")
        .annotate(count=Count("id"))
    )
    found = dict(rows)
    mondays = (first_monday + datetime.timedelta(weeks=i) for i in range(weeks))
    return [(monday, found.get(monday, 0)) for monday in mondays]


def weekly_chart(counts, *, label: str) -> SafeString:
    """An inline <svg> bar chart of weekly_counts(), titled `label` (escaped here)."""
    if not counts:
        raise ValueError("a weekly chart needs at least one week")
    width = len(counts) * STEP
    # Ids unique per chart, yet the same for the same chart, so cached pages stay equal.
    key = hashlib.blake2s(repr((label, counts)).encode(), digest_size=4).hexdigest()
    title_id, desc_id = f"chart-{key}-title", f"chart-{key}-desc"
    peak = max(count for _, count in counts)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" '
            'preserveAspectRatio="xMinYMid meet" role="img" aria-labelledby="{} {}" '
            'font-size="{}">',
            width,
            HEIGHT,
            title_id,
            desc_id,
            FONT_SIZE,
        ),
        format_html('<title id="{}">{}</title>', title_id, label),
        format_html('<desc id="{}">{}</desc>', desc_id, _description(counts)),
        format_html_join(
            "",
            '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="currentColor">'
            "<title>{}</title></rect>",
            (_bar(i, monday, count, peak) for i, (monday, count) in enumerate(counts)),
        ),
        format_html_join(
            "",
            '<text class="chart-label" x="{}" y="{}" fill="currentColor">{}</text>',
            ((x, HEIGHT - 3, text) for x, text in _month_labels(counts, width)),
        ),
    ]
    if peak == 0:
        parts.append(
            format_html(
                '<text class="chart-empty" x="{}" y="{}" text-anchor="middle" '
                'fill="currentColor">{}</text>',
                _number(width / 2),
                _number(BARS_BOTTOM / 2),
                _nothing(counts),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def _bar(index, monday, count, peak):
    if count:
        height = max(count / peak * (BARS_BOTTOM - BARS_TOP), MIN_HEIGHT)
        css = "chart-bar"
    else:
        height, css = ZERO_HEIGHT, "chart-bar chart-zero"
    papers = "paper" if count == 1 else "papers"
    return (
        css,
        index * STEP,
        _number(BARS_BOTTOM - height),
        BAR_WIDTH,
        _number(height),
        f"Week of {_day(monday)}: {count} {papers}",
    )


def _description(counts):
    total = sum(count for _, count in counts)
    if not total:
        return _nothing(counts)
    peak_week, peak = max(counts, key=lambda week: week[1])
    first, last = counts[0][0], counts[-1][0]
    span = f"week of {_day(first)}" if first == last else f"weeks of {_day(first)} to {_day(last)}"
    return (
        f"Papers per week, {span}: {total} in all, at most {peak} in the week of {_day(peak_week)}."
    )


def _nothing(counts):
    weeks = len(counts)
    if weeks in (52, 53):
        period = "the last year"
    elif weeks == 1:
        period = "the last week"
    else:
        period = f"the last {weeks} weeks"
    return f"No papers in {period}"


def _month_labels(counts, width):
    """(x, text) under the week in which a month begins: every month for charts of a
    few months, every quarter for longer ones, so the labels never crowd."""
    every = 1 if len(counts) <= 20 else 3
    labels = []
    for index, (monday, _) in enumerate(counts):
        first_of_month = (monday + datetime.timedelta(days=6)).replace(day=1)
        if not monday <= first_of_month or (first_of_month.month - 1) % every:
            continue
        text = dateformat.format(first_of_month, "M Y" if first_of_month.month == 1 else "M")
        x = index * STEP
        # Text past the right edge would be clipped mid-word: leave it out instead.
        if x + len(text) * FONT_SIZE * 0.6 <= width:
            labels.append((x, text))
    return labels


def _day(day):
    return dateformat.format(day, "j M Y")


def _number(value):
    # Short attribute values: 76, 40.5 — not 40.500000001.
    return f"{round(value, 1):g}"
