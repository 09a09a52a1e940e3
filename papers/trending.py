"""What is trending: one score, used by the home page, search, feeds and the API."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

# A save says more than a vote: the reader means to come back to the paper.
SAVE_WEIGHT = 2
# How fast interest fades: the exponent of the age in the score's denominator.
GRAVITY = 1.5


def trending_score(today: datetime.date | None = None):
    """(points + 1) / (age in days + 2) ** GRAVITY, as a database expression.

    Points are the site's votes, the Hugging Face upvotes and twice the saves; the age
    counts from the day the paper was listed. The + 1 lets a paper nobody has voted on
    yet still rank by freshness; the + 2 keeps today's papers from dividing by ~0, so
    a few early votes cannot put a new paper above everything for a day.
    """
    today = today or timezone.localdate()
    points = F("vote_count") + Coalesce(F("hf_upvotes"), 0) + SAVE_WEIGHT * F("save_count") + 1
    # date - date is a whole number of days in PostgreSQL.
    age_days = Greatest(
        Func(
            Value(today),
            F("listed_on"),
            arg_joiner=" - ",
            template="(%(expressions)s)",
            output_field=models.IntegerField(),
        ),
        Value(0),
    )
    return models.ExpressionWrapper(
        Func(points, output_field=models.FloatField(), function="float8")
        / Func(age_days + 2, Value(GRAVITY), function="power"),
        output_field=models.FloatField(),
    )


def trending_window_start(newest: datetime.date) -> datetime.date:
    """The oldest listing day still ranked: older papers cannot trend any more."""
    return newest - datetime.timedelta(days=settings.TRENDING_DAYS)
