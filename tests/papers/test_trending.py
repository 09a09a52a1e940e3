import datetime

import pytest

from papers.models import Paper
from papers.trending import trending_score
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


def paper(name, *, days_old, votes=0, saves=0, hf=None):
    return PaperFactory(
        title=name,
        daily_date=TODAY - datetime.timedelta(days=days_old),
        vote_count=votes,
        save_count=saves,
        hf_upvotes=hf,
    )


def ranking():
    papers = Paper.objects.annotate(score=trending_score(TODAY)).order_by("-score", "-id")
    return [p.title for p in papers]


def test_votes_rank_papers_of_the_same_day():
    paper("few", days_old=1, votes=2)
    paper("many", days_old=1, votes=30)
    paper("none", days_old=1)

    assert ranking() == ["many", "few", "none"]


def test_age_wears_popularity_down():
    paper("old and popular", days_old=25, votes=40)
    paper("new and liked", days_old=1, votes=10)
    paper("new, no votes yet", days_old=0)

    assert ranking() == ["new and liked", "new, no votes yet", "old and popular"]


def test_a_save_counts_twice_and_hugging_face_upvotes_count_once():
    paper("two saves", days_old=2, saves=2)
    paper("three votes", days_old=2, votes=3)
    paper("five upvotes on HF", days_old=2, hf=5)

    assert ranking() == ["five upvotes on HF", "two saves", "three votes"]


def test_future_dates_count_as_today():
    # A paper dated after "today" (clocks, time zones) must not divide by a tiny number.
    paper("tomorrow", days_old=-1, votes=1)
    paper("today", days_old=0, votes=1)

    scores = dict(Paper.objects.annotate(s=trending_score(TODAY)).values_list("title", "s"))
    assert scores["tomorrow"] == scores["today"]


def test_trending_queryset_orders_by_the_score():
    paper("a", days_old=3, votes=1)
    paper("b", days_old=0, votes=5)

    assert [p.title for p in Paper.objects.trending()] == ["b", "a"]
