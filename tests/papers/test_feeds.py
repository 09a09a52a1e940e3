import datetime
import html

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers import identity, search
from papers.models import Author, Authorship, PaperTag
from tests.factories import PaperFactory, PaperTagFactory, TagFactory

pytestmark = pytest.mark.django_db

FORMATS = ["rss", "atom"]
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
VERSIONS = {"rss": "rss20", "atom": "atom10"}
UTC = datetime.UTC


def day(n):
    return datetime.date(2024, 3, 1) + datetime.timedelta(days=n)


def fetch(client, name, fmt, args=(), params=None):
    """The feed as a feed reader sees it; fails unless it is well-formed and valid."""
    response = client.get(reverse(f"{name}-{fmt}", args=args), params or {})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == VERSIONS[fmt]
    return parsed


def text(entry, field):
    """A field's text as a reader would display it: HTML content is unescaped once."""
    value, detail = entry[field], entry[f"{field}_detail"]
    if detail.type == "text/html":
        # Parsed as HTML, so it must not carry markup of its own, only escaped text.
        assert "<" not in value, value
        return html.unescape(value)
    assert detail.type == "text/plain"
    return value


def link_of(paper):
    return f"http://testserver{paper.get_absolute_url()}"


def links(parsed):
    return [entry.link for entry in parsed.entries]


def self_link(parsed):
    return next(link.href for link in parsed.feed.links if link.rel == "self")


def author(name, *papers):
    person, _ = Author.objects.get_or_create(name=name, name_key=identity.author_key(name))
    for paper in papers:
        Authorship.objects.create(paper=paper, author=person, position=0)
    return person


@pytest.mark.parametrize("fmt", FORMATS)
def test_latest_feed_lists_the_newest_listed_papers_first(client, fmt):
    middle = PaperFactory(daily_date=day(1))
    newest = PaperFactory(daily_date=day(2))
    oldest = PaperFactory(daily_date=day(0))

    parsed = fetch(client, "feed-latest", fmt)

    assert parsed.feed.title == "paperfeed — latest papers"
    assert parsed.feed.link == "http://testserver/latest/"
    assert self_link(parsed) == f"http://testserver/feeds/latest.{fmt}"
    assert links(parsed) == [link_of(newest), link_of(middle), link_of(oldest)]
    assert [entry.title for entry in parsed.entries] == [newest.title, middle.title, oldest.title]


@pytest.mark.parametrize("fmt", FORMATS)
def test_latest_feed_stops_at_feed_items(client, settings, fmt):
    settings.FEED_ITEMS = 3
    papers = [PaperFactory(daily_date=day(n)) for n in range(5)]

    parsed = fetch(client, "feed-latest", fmt)

    assert links(parsed) == [link_of(paper) for paper in reversed(papers[2:])]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_entry_carries_what_a_reader_needs(client, fmt):
    paper = PaperFactory(
        title="Sparse experts at scale",
        abstract="We scale sparse experts.",
        author_names=["Ada Lovelace", "Alan Turing"],
        published_at=datetime.datetime(2024, 3, 5, 17, 30, tzinfo=UTC),
        updated_at=datetime.datetime(2024, 4, 2, 9, 0, tzinfo=UTC),
    )
    PaperTagFactory(paper=paper, tag=TagFactory(name="Retrieval"))
    PaperTagFactory(paper=paper, tag=TagFactory(name="Agents"))
    PaperTagFactory(paper=paper, tag=TagFactory(name="Robotics"), status=PaperTag.Status.REJECTED)

    [entry] = fetch(client, "feed-latest", fmt).entries

    assert entry.link == link_of(paper)
    assert entry.id == link_of(paper)
    assert text(entry, "title") == "Sparse experts at scale"
    assert text(entry, "summary") == "We scale sparse experts."
    assert entry.author == "Ada Lovelace, Alan Turing"
    assert sorted(tag.term for tag in entry.tags) == ["Agents", "Retrieval"]
    published = datetime.datetime(*entry.published_parsed[:6], tzinfo=UTC)
    assert published == paper.published_at
    if fmt == "atom":  # RSS 2.0 has no element for it
        assert datetime.datetime(*entry.updated_parsed[:6], tzinfo=UTC) == paper.updated_at


@pytest.mark.parametrize("fmt", FORMATS)
def test_entry_dates_follow_the_listing_day(client, fmt):
    # Picked for a daily list two days after it was published: it is listed (and
    # ordered) on that day, so its date in the feed is that day too.
    picked = PaperFactory(
        daily_date=day(3), published_at=datetime.datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    )
    # Never published anywhere we know of: listed on the day it arrived.
    arrived = PaperFactory(first_seen_at=datetime.datetime(2024, 3, 1, 6, 45, tzinfo=UTC))

    entries = fetch(client, "feed-latest", fmt).entries

    assert [entry.link for entry in entries] == [link_of(picked), link_of(arrived)]
    dates = [datetime.datetime(*entry.published_parsed[:6], tzinfo=UTC) for entry in entries]
    assert dates == [datetime.datetime(2024, 3, 4, tzinfo=UTC), arrived.first_seen_at]
    if fmt == "atom":
        assert entries[0].updated_parsed == entries[0].published_parsed


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "title",
    [
        'Attention <script>alert("x")</script> & <b>bold</b> ]]> claims',
        # Only tags a reader would render: sent as they are, RSS readers would show
        # bold and italics instead of the title's text.
        "Why <i>sparse</i> &amp; <b>dense</b> models differ",
    ],
)
def test_markup_in_imported_text_stays_text(client, fmt, title):
    abstract = "We show that 1 < 2 && 3 > 2. <img src=x onerror=alert(1)> ]]> <![CDATA[ x ]]>"
    PaperFactory(title=title, abstract=abstract, author_names=["Tom & Jerry <tj>"])
    tag = TagFactory(name="R&D <lab>", slug="r-and-d")
    PaperTagFactory(paper=PaperFactory(title="Other", daily_date=day(-5)), tag=tag)

    entries = fetch(client, "feed-latest", fmt).entries

    assert text(entries[0], "title") == title
    assert text(entries[0], "summary") == abstract
    assert entries[0].author == "Tom & Jerry <tj>"
    assert [tag.term for tag in entries[1].tags] == ["R&D <lab>"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_characters_xml_forbids_do_not_break_the_feed(client, fmt):
    paper = PaperFactory(
        title="Vertical\x0btab and \x1b[1mANSI\x1b[0m title",
        abstract="Form\x0cfeed, bell\x07 and a \ufffe non-character.",
        author_names=["Ada\x08 Lovelace"],
    )
    PaperTagFactory(paper=paper, tag=TagFactory(name="Odd\x1ftag", slug="odd-tag"))

    response = client.get(reverse(f"feed-latest-{fmt}"))
    [entry] = fetch(client, "feed-latest", fmt).entries

    assert b"\x0b" not in response.content and b"\x1b" not in response.content
    assert text(entry, "title") == "Vertical tab and  [1mANSI [0m title"
    assert text(entry, "summary") == "Form feed, bell  and a   non-character."
    assert entry.author == "Ada  Lovelace"
    assert [tag.term for tag in entry.tags] == ["Odd tag"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_feed_is_still_valid(client, fmt):
    parsed = fetch(client, "feed-latest", fmt)

    assert parsed.entries == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_tag_feed_lists_the_tags_papers(client, fmt):
    retrieval = TagFactory(name="Retrieval")
    older = PaperFactory(daily_date=day(0))
    newer = PaperFactory(daily_date=day(1))
    for paper in (older, newer):
        PaperTagFactory(paper=paper, tag=retrieval)
    PaperTagFactory(
        paper=PaperFactory(daily_date=day(2)), tag=retrieval, status=PaperTag.Status.REJECTED
    )
    PaperTagFactory(paper=PaperFactory(daily_date=day(3)), tag=TagFactory(name="Agents"))

    parsed = fetch(client, "feed-tag", fmt, args=["retrieval"])

    assert parsed.feed.title == "paperfeed — papers tagged Retrieval"
    assert parsed.feed.link == "http://testserver/tags/retrieval/"
    assert self_link(parsed) == f"http://testserver/tags/retrieval/feed.{fmt}"
    assert links(parsed) == [link_of(newer), link_of(older)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_author_feed_lists_the_authors_papers(client, fmt):
    older = PaperFactory(daily_date=day(0))
    newer = PaperFactory(daily_date=day(1))
    PaperFactory(daily_date=day(2))
    hinton = author("Geoffrey Hinton", older, newer)

    parsed = fetch(client, "feed-author", fmt, args=[hinton.pk])

    assert parsed.feed.title == "paperfeed — papers by Geoffrey Hinton"
    assert parsed.feed.link == f"http://testserver/authors/{hinton.pk}/"
    assert self_link(parsed) == f"http://testserver/authors/{hinton.pk}/feed.{fmt}"
    assert links(parsed) == [link_of(newer), link_of(older)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_tags_and_authors_are_not_found(client, fmt):
    assert client.get(reverse(f"feed-tag-{fmt}", args=["no-such-tag"])).status_code == 404
    assert client.get(reverse(f"feed-author-{fmt}", args=[123456])).status_code == 404
    # Beyond any database integer: still a 404, not a crash.
    assert client.get(f"/authors/{10**30}/feed.{fmt}").status_code == 404


def diffusion_papers():
    """Two matches, where relevance and recency disagree, and one paper that misses."""
    in_title = PaperFactory(title="Diffusion models for text", daily_date=day(0))
    in_abstract = PaperFactory(
        title="Generative text models",
        abstract="A study of diffusion, briefly.",
        daily_date=day(1),
    )
    PaperFactory(title="Sparse experts", daily_date=day(2))
    search.index_papers()
    return in_title, in_abstract


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feed_lists_the_newest_matches(client, fmt):
    in_title, in_abstract = diffusion_papers()

    parsed = fetch(client, "feed-search", fmt, params={"q": "diffusion"})

    assert parsed.feed.title == "paperfeed — search: diffusion"
    assert parsed.feed.link == "http://testserver/search/?q=diffusion&sort=newest"
    assert self_link(parsed) == f"http://testserver/feeds/search.{fmt}?q=diffusion"
    assert links(parsed) == [link_of(in_abstract), link_of(in_title)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feed_keeps_the_order_asked_for(client, fmt):
    in_title, in_abstract = diffusion_papers()

    parsed = fetch(client, "feed-search", fmt, params={"q": "diffusion", "sort": "relevance"})

    assert parsed.feed.title == "paperfeed — search: diffusion, sorted by relevance"
    assert links(parsed) == [link_of(in_title), link_of(in_abstract)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feed_applies_the_filters(client, fmt):
    retrieval = TagFactory(name="Retrieval")
    wanted = PaperFactory(daily_date=day(5), code_url="https://github.com/example/code")
    PaperTagFactory(paper=wanted, tag=retrieval)
    author("Geoffrey Hinton", wanted)
    misses = [
        PaperFactory(daily_date=day(5), code_url="https://github.com/example/other"),
        PaperFactory(daily_date=day(5)),
        PaperFactory(daily_date=day(1), code_url="https://github.com/example/old"),
    ]
    PaperTagFactory(paper=misses[0], tag=retrieval)  # no author
    PaperTagFactory(paper=misses[1], tag=retrieval)
    author("Geoffrey Hinton", misses[1])  # no code
    PaperTagFactory(paper=misses[2], tag=retrieval)
    author("Geoffrey Hinton", misses[2])  # too old

    params = {
        "tag": "retrieval",
        "author": "hinton",
        "since": "2024-03-04",
        "until": "2024-03-31",
        "code": "1",
    }
    parsed = fetch(client, "feed-search", fmt, params=params)

    assert parsed.feed.title == (
        "paperfeed — search: all papers, tagged Retrieval, by hinton, "
        "since 2024-03-04, until 2024-03-31, with code"
    )
    assert links(parsed) == [link_of(wanted)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "  ?!  "}, {"sort": ""}])
def test_search_feed_without_criteria_lists_the_newest_papers(client, fmt, params):
    older = PaperFactory(daily_date=day(0))
    newer = PaperFactory(daily_date=day(1))

    parsed = fetch(client, "feed-search", fmt, params=params)

    assert parsed.feed.title == "paperfeed — search: all papers"
    assert links(parsed) == [link_of(newer), link_of(older)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x0b\x1b"},
        {"q": "<script>]]>&amp;"},
        {"q": "a" * 5000},
        {"q": '"unclosed phrase -'},
        {"q": "x", "author": "\x1b[0m"},
    ],
)
def test_odd_search_text_still_gives_a_valid_feed(client, fmt, params):
    PaperFactory()
    search.index_papers()

    fetch(client, "feed-search", fmt, params=params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_search_feed_title_shows_the_query_as_text(client, fmt):
    parsed = fetch(client, "feed-search", fmt, params={"q": "<b>a & b</b>"})

    assert parsed.feed.title == "paperfeed — search: <b>a & b</b>"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"tag": "no-such-tag"},
        # Django's forms refuse NUL, which PostgreSQL could not store or search for.
        {"q": "diffusion\x00"},
        {"since": "yesterday"},
        {"until": "2024-02-30"},
        {"since": "2024-03-10", "until": "2024-03-01"},
        {"sort": "random"},
    ],
)
def test_search_feed_with_invalid_parameters_is_not_found(client, fmt, params):
    PaperFactory()

    response = client.get(reverse(f"feed-search-{fmt}"), params)

    assert response.status_code == 404


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(feedparser.parse(response.content).entries)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("feed", ["latest", "tag", "author", "search"])
def test_query_count_does_not_grow_with_papers(client, fmt, feed):
    retrieval, agents = TagFactory(name="Retrieval"), TagFactory(name="Agents")
    person = author("Geoffrey Hinton")
    urls = {
        "latest": reverse(f"feed-latest-{fmt}"),
        "tag": reverse(f"feed-tag-{fmt}", args=["retrieval"]),
        "author": reverse(f"feed-author-{fmt}", args=[person.pk]),
        "search": reverse(f"feed-search-{fmt}") + "?q=scaling&tag=retrieval&author=hinton",
    }

    def add_papers(count):
        for paper in PaperFactory.create_batch(count):
            PaperTagFactory(paper=paper, tag=retrieval)
            PaperTagFactory(paper=paper, tag=agents)
            Authorship.objects.create(paper=paper, author=person, position=0)
        search.index_papers()

    add_papers(1)
    queries_for_one, entries = count_queries(client, urls[feed])
    assert entries == 1
    add_papers(19)
    queries_for_twenty, entries = count_queries(client, urls[feed])
    assert entries == 20

    assert queries_for_twenty == queries_for_one
