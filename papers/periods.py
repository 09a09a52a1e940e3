"""The days, weeks and months the daily lists are browsed by."""

import datetime
import re
from dataclasses import dataclass

from django.db import connection
from django.urls import reverse

from papers.models import Paper

_PATTERNS = {
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    "week": re.compile(r"(\d{4})-W(\d{2})"),
    "month": re.compile(r"(\d{4})-(\d{2})"),
}
KINDS = {"day": "Day", "week": "Week", "month": "Month"}


@dataclass(frozen=True)
class Period:
    kind: str
    first: datetime.date
    last: datetime.date

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> "Period":
        if kind == "week":
            first = day - datetime.timedelta(days=day.weekday())
            return cls(kind, first, first + datetime.timedelta(days=6))
        if kind == "month":
            first = day.replace(day=1)
            following = (first + datetime.timedelta(days=32)).replace(day=1)
            return cls(kind, first, following - datetime.timedelta(days=1))
        return cls("day", day, day)

    @classmethod
    def parse(cls, kind: str, value: str) -> "Period":
        """The period a URL names, e.g. ("week", "2026-W09"); ValueError if none."""
        match = _PATTERNS[kind].fullmatch(value)
        if not match:
            raise ValueError(f"not a {kind}: {value!r}")
        numbers = [int(group) for group in match.groups()]
        if kind == "week":
            day = datetime.date.fromisocalendar(numbers[0], numbers[1], 1)
        elif kind == "month":
            day = datetime.date(numbers[0], numbers[1], 1)
        else:
            day = datetime.date(*numbers)
        return cls.containing(kind, day)

    @property
    def slug(self) -> str:
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return self.first.strftime("%Y-%m")
        return self.first.isoformat()

    @property
    def label(self) -> str:
        if self.kind == "week":
            return f"Week of {self.first:%-d %B %Y}"
        if self.kind == "month":
            return f"{self.first:%B %Y}"
        return f"{self.first:%A, %-d %B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("period", args=[self.kind, self.slug])

    def of_kind(self, kind: str) -> "Period":
        """The day, week or month this period starts in."""
        return Period.containing(kind, self.first)

    def neighbours(self) -> tuple["Period | None", "Period | None"]:
        """The nearest earlier and later periods of this kind that have papers.

        One query; each side reads a single entry of the listing-date index.
        """
        table = Paper._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT max(listed_on) FROM {table} WHERE listed_on < %s), "
                f"(SELECT min(listed_on) FROM {table} WHERE listed_on > %s)",
                [self.first, self.last],
            )
            before, after = cursor.fetchone()
        return (
            Period.containing(self.kind, before) if before else None,
            Period.containing(self.kind, after) if after else None,
        )


def newest_day() -> datetime.date | None:
    """The newest listing day: the home page shows it."""
    return Paper.objects.order_by("-listed_on").values_list("listed_on", flat=True).first()
