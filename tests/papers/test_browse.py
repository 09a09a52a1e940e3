"""The pages a visitor browses: daily lists, trending, latest, authors, votes, follows."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Preferences
from papers.models import Author, Authorship, Paper, RelatedPaper, Vote
from tests.factories import PaperFactory, PaperTagFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def on_day(day, count=1, **fields):
    return PaperFactory.create_batch(count, daily_date=day, **fields)


def with_author(paper, name="Grace Hopper"):
    author, _ = Author.objects.get_or_create(name=name, name_key=name.lower())
    Authorship.objects.create(paper=paper, author=author, position=0)
    return author


def test_home_shows_the_newest_day_most_voted_first_with_the_day_before(client):
    on_day(D(2026, 3, 2))
    PaperFactory(title="Quiet", daily_date=D(2026, 3, 5), vote_count=1)
    PaperFactory(title="Loud", daily_date=D(2026, 3, 5), vote_count=9)

    response = client.get(reverse("home"))

    assert [p.title for p in response.context["page"]] == ["Loud", "Quiet"]
    assert "Thursday, 5 March 2026" in response.text
    assert 'href="/day/2026-03-02/"' in response.text
    assert 'href="/week/2026-W10/"' in response.text and 'href="/month/2026-03/"' in response.text


def test_week_and_month_pages_gather_their_days(client):
    on_day(D(2026, 3, 2), 2)
    on_day(D(2026, 3, 8))
    on_day(D(2026, 3, 9))  # next week

    week = client.get(reverse("period", args=["week", "2026-W10"]))
    month = client.get(reverse("period", args=["month", "2026-03"]))

    assert week.context["page"].paginator.count == 3
    assert 'href="/week/2026-W11/"' in week.text
    assert month.context["page"].paginator.count == 4


def test_an_empty_day_says_so_and_a_nonsense_one_is_404(client):
    on_day(D(2026, 3, 2))

    empty = client.get(reverse("period", args=["day", "2026-03-03"]))

    assert "No papers were listed on this day" in empty.text
    assert 'href="/day/2026-03-02/"' in empty.text
    for kind, value in [("day", "2026-02-30"), ("week", "2026-W60"), ("month", "x")]:
        assert client.get(f"/{kind}/{value}/").status_code == 404


def test_trending_ranks_recent_papers_and_leaves_out_old_ones(client, settings):
    settings.TRENDING_DAYS = 30
    PaperFactory(title="Fresh", daily_date=D(2026, 3, 5), vote_count=3)
    PaperFactory(title="Fresher, no votes", daily_date=D(2026, 3, 6))
    PaperFactory(title="Last year", daily_date=D(2025, 3, 6), vote_count=500)

    titles = [p.title for p in client.get(reverse("trending")).context["page"]]

    assert titles == ["Fresh", "Fresher, no votes"]


def test_latest_lists_newest_first(client):
    PaperFactory(title="Older", daily_date=D(2026, 3, 1))
    PaperFactory(title="Newer", daily_date=D(2026, 3, 4))

    assert [p.title for p in client.get(reverse("latest")).context["page"]] == ["Newer", "Older"]


def test_pagination_keeps_the_other_parameters(client, settings):
    settings.PAPERS_PER_PAGE = 1
    on_day(D(2026, 3, 2), 3, abstract="diffusion everywhere")
    from papers.search import index_papers

    index_papers()

    html = client.get(reverse("search"), {"q": "diffusion", "sort": "newest"}).text

    assert 'href="?q=diffusion&amp;sort=newest&amp;page=2"' in html


def test_paper_page_links_authors_related_papers_and_safe_links_only(client):
    paper = PaperFactory(code_url="javascript:alert(1)", project_url="https://example.org/p")
    author = with_author(paper)
    other = PaperFactory(title="A close cousin")
    RelatedPaper.objects.create(paper=paper, related=other, score=0.8)

    html = client.get(paper.get_absolute_url()).text

    assert f'href="{author.get_absolute_url()}"' in html
    assert "A close cousin" in html and f'href="{other.get_absolute_url()}"' in html
    assert "javascript:" not in html
    assert 'href="https://example.org/p"' in html
    assert "Sign in to save to a reading list" in html


def test_author_page_lists_their_papers(client):
    mine = PaperFactory(title="Mine", daily_date=D(2026, 3, 2))
    author = with_author(mine)
    PaperFactory(title="Not mine")

    response = client.get(author.get_absolute_url())

    assert [p.title for p in response.context["page"]] == ["Mine"]
    assert "<svg" in response.text and "Papers per week" in response.text
    assert client.get(reverse("author", args=[987654])).status_code == 404


def test_tag_index_groups_tags(client):
    TagFactory(name="Retrieval")

    assert 'href="/tags/retrieval/"' in client.get(reverse("tags")).text


# Query counts: the same for 1 and for 50 papers, for visitors and for readers.


def fifty_or_one(count):
    tag = TagFactory(name="Retrieval")
    papers = on_day(D(2026, 3, 5), count, abstract="retrieval augmented generation")
    author = None
    for paper in papers:
        PaperTagFactory(paper=paper, tag=tag)
        author = with_author(paper)
    for paper in papers[1:]:
        RelatedPaper.objects.create(paper=papers[0], related=paper, score=0.5)
    from papers.search import index_papers

    index_papers()
    return papers[0], tag, author


PAGES = {
    # name: (url, queries for a visitor)
    "home": (lambda p, t, a: "/", 5),
    "week": (lambda p, t, a: "/week/2026-W10/", 4),
    "trending": (lambda p, t, a: "/trending/", 4),
    "latest": (lambda p, t, a: "/latest/", 3),
    "tag": (lambda p, t, a: t.get_absolute_url(), 6),
    "author": (lambda p, t, a: a.get_absolute_url(), 6),
    "search": (lambda p, t, a: "/search/?q=retrieval&tag=retrieval&code=&sort=relevance", 6),
    "paper": (lambda p, t, a: p.get_absolute_url(), 5),
}
# A signed-in reader adds: the session and user, which of the papers they voted for,
# which of their reading lists hold each (not on the paper page, which loads its save
# control separately), and, on tag and author pages and searches, whether they follow it.
READER_EXTRA = {"tag": 5, "author": 5, "search": 5, "paper": 3}


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "reader"])
@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("name", PAGES)
def test_query_count_does_not_grow_with_papers(
    client, settings, django_assert_num_queries, name, count, signed_in
):
    settings.PAPERS_PER_PAGE = 50
    paper, tag, author = fifty_or_one(count)
    url, queries = PAGES[name]
    if signed_in:
        client.force_login(UserFactory())
        queries += READER_EXTRA.get(name, 4)

    with django_assert_num_queries(queries):
        response = client.get(url(paper, tag, author))

    assert response.status_code == 200
    if name == "paper":
        assert len(response.context["related"]) == count - 1
    elif name != "week":
        assert len(response.context["page"]) == count


# Votes and follows: a reader's writes, with and without JavaScript.


def test_voting_needs_a_sign_in(client):
    paper = PaperFactory()

    response = client.post(reverse("vote", args=[paper.pk]), {"vote": "on"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Vote.objects.count() == 0


def test_a_vote_counts_once_and_can_be_taken_back(client):
    paper = PaperFactory()
    client.force_login(UserFactory())
    url = reverse("vote", args=[paper.pk])

    client.post(url, {"vote": "on", "next": "/"})
    client.post(url, {"vote": "on", "next": "/"})  # a double click
    paper.refresh_from_db()
    assert (paper.vote_count, Vote.objects.count()) == (1, 1)

    response = client.post(url, {"vote": "off"})
    paper.refresh_from_db()
    assert (paper.vote_count, Vote.objects.count()) == (0, 0)
    assert response["Location"] == paper.get_absolute_url()


def test_htmx_vote_returns_the_button_only(client):
    paper = PaperFactory(vote_count=4)
    client.force_login(UserFactory())

    response = client.post(
        reverse("vote", args=[paper.pk]), {"vote": "on"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<form class="vote"')
    assert 'aria-pressed="true"' in response.text and ">5<" in response.text


def test_votes_refuse_get_and_missing_csrf():
    paper = PaperFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    url = reverse("vote", args=[paper.pk])

    assert client.get(url).status_code == 405
    assert client.post(url, {"vote": "on"}).status_code == 403
    assert Vote.objects.count() == 0


def test_following_a_tag_and_an_author(client):
    tag = TagFactory(name="Retrieval")
    author = with_author(PaperFactory())
    user = UserFactory()
    client.force_login(user)

    client.post(reverse("follow-tag", args=[tag.slug]), {"follow": "on"})
    response = client.post(
        reverse("follow-author", args=[author.pk]), {"follow": "on"}, headers={"HX-Request": "true"}
    )

    preferences = Preferences.objects.get(user=user)
    assert list(preferences.followed_tags.all()) == [tag]
    assert list(preferences.followed_authors.all()) == [author]
    assert "Following" in response.text
    assert "Following" in client.get(tag.get_absolute_url()).text

    client.post(reverse("follow-tag", args=[tag.slug]), {"follow": "off"})
    assert not preferences.followed_tags.exists()


def test_following_needs_a_sign_in_and_a_real_tag(client):
    tag = TagFactory(name="Retrieval")

    assert client.post(reverse("follow-tag", args=[tag.slug]), {"follow": "on"}).status_code == 302
    client.force_login(UserFactory())
    assert client.post(reverse("follow-tag", args=["nope"]), {"follow": "on"}).status_code == 404
    assert Paper.objects.count() == 0


def test_a_vote_without_javascript_returns_only_to_this_site(client):
    paper = PaperFactory()
    client.force_login(UserFactory())
    url = reverse("vote", args=[paper.pk])

    assert client.post(url, {"vote": "on", "next": "/latest/?page=2"})["Location"] == (
        "/latest/?page=2"
    )
    for elsewhere in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(url, {"vote": "on", "next": elsewhere})
        assert response["Location"] == paper.get_absolute_url()


def test_an_htmx_vote_after_the_session_ended_goes_to_the_sign_in_page(client):
    paper = PaperFactory()

    response = client.post(
        reverse("vote", args=[paper.pk]),
        {"vote": "on"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/latest/"},
    )

    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert Vote.objects.count() == 0


def test_visitors_get_a_kept_page_until_an_import(client, django_assert_num_queries):
    from papers import results

    PaperFactory(title="First", daily_date=D(2026, 3, 5))
    assert "First" in client.get("/latest/").text

    PaperFactory(title="Second", daily_date=D(2026, 3, 5))
    with django_assert_num_queries(0):
        kept = client.get("/latest/")
    assert "Second" not in kept.text  # the kept copy, for up to a minute

    results.corpus_changed()  # what every import does
    assert "Second" in client.get("/latest/").text


def test_readers_and_visitors_with_a_notice_get_fresh_pages(client):
    PaperFactory(title="First", daily_date=D(2026, 3, 5))
    client.get("/latest/")
    PaperFactory(title="Second", daily_date=D(2026, 3, 5))

    client.cookies["messages"] = "a notice for this visitor only"
    assert "Second" in client.get("/latest/").text
    del client.cookies["messages"]
    client.force_login(UserFactory())
    assert "Second" in client.get("/latest/").text
