import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers import results, search
from papers.models import Author, Authorship, Paper, PaperTag, PaperVersion, RelatedPaper, Vote
from tests.factories import PaperFactory, PaperTagFactory, TagFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 5)


def _paper(days_ago=0, **fields):
    fields.setdefault("daily_date", DAY - dt.timedelta(days=days_ago))
    return PaperFactory(**fields)


def _author(paper, name, position=0):
    from papers.identity import author_key

    author, _ = Author.objects.get_or_create(name_key=author_key(name), defaults={"name": name})
    Authorship.objects.create(paper=paper, author=author, position=position)
    return author


def _walk(api, url):
    """Every item of a listing, following `next` to the end."""
    items, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        url, pages = response.json()["next"], pages + 1
    return items, pages


def test_a_paper_in_a_list_carries_what_its_card_shows(api):
    tag = TagFactory(name="Retrieval")
    paper = _paper(
        arxiv_id="2603.01234",
        arxiv_version=2,
        categories=["cs.CL", "cs.IR"],
        code_url="https://github.com/example/rag",
        project_url="javascript:alert(1)",
        hf_upvotes=7,
        vote_count=2,
    )
    PaperTagFactory(paper=paper, tag=tag, status=PaperTag.Status.CONFIRMED)
    PaperTagFactory(paper=paper, tag=TagFactory(name="Rejected"), status=PaperTag.Status.REJECTED)
    _author(paper, "Ada Lovelace")

    [item] = api.get("/api/papers/").json()["results"]

    assert item["id"] == paper.pk
    assert item["url"] == f"http://testserver/api/papers/{paper.pk}/"
    assert item["html_url"] == f"http://testserver/papers/{paper.pk}/"
    assert item["arxiv_id"] == "2603.01234" and item["arxiv_version"] == 2
    assert item["authors"] == [{"id": Author.objects.get().pk, "name": "Ada Lovelace"}]
    assert item["categories"] == ["cs.CL", "cs.IR"]
    assert item["tags"] == [
        {"slug": "retrieval", "name": "Retrieval", "kind": "topic", "status": "confirmed"}
    ]
    assert item["links"]["code"] == "https://github.com/example/rag"
    assert item["links"]["project"] == ""  # only http(s) addresses ever leave
    assert (item["votes"], item["hf_upvotes"], item["saves"], item["voted"]) == (2, 7, 0, False)
    assert item["listed_on"] == DAY.isoformat()


def test_cursor_pages_give_every_paper_once_in_order_even_within_a_day(api):
    papers = [_paper(days_ago=n % 3) for n in range(11)]
    expected = sorted(papers, key=lambda p: (-p.daily_date.toordinal(), p.pk))

    items, pages = _walk(api, "/api/papers/?limit=3")

    assert [item["id"] for item in items] == [p.pk for p in expected]
    assert pages == 4


def test_papers_arriving_between_pages_neither_repeat_nor_push_others_out(api):
    old = [_paper(days_ago=5) for _ in range(4)]
    first = api.get("/api/papers/?limit=2").json()
    _paper(days_ago=0)  # newer than everything: belongs before the cursor
    rest, _ = _walk(api, first["next"])
    assert [i["id"] for i in first["results"] + rest] == [p.pk for p in old]


def test_orderings(api, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
    quiet = _paper(days_ago=0, vote_count=0)
    voted = _paper(days_ago=3, vote_count=9)
    upvoted = _paper(days_ago=40, hf_upvotes=12)

    def ids(ordering):
        return [i["id"] for i in api.get(f"/api/papers/?ordering={ordering}").json()["results"]]

    assert ids("newest") == [quiet.pk, voted.pk, upvoted.pk]
    assert ids("votes") == [upvoted.pk, voted.pk, quiet.pk]
    assert ids("trending") == [voted.pk, quiet.pk, upvoted.pk]


def test_trending_pages_rank_as_of_the_first_page_s_day(api, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 6, 23, 59, tzinfo=dt.UTC))
    papers = [_paper(days_ago=n, vote_count=n * n) for n in range(6)]
    first = api.get("/api/papers/?ordering=trending&limit=3").json()
    time_machine.move_to(dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC))  # scores moved
    rest, _ = _walk(api, first["next"])
    ids = [i["id"] for i in first["results"] + rest]
    assert sorted(ids) == sorted(p.pk for p in papers)
    assert len(set(ids)) == len(papers)


def test_search_ranks_title_matches_first_and_pages_by_relevance(api):
    in_title = [
        _paper(title=f"Speculative decoding, trick {n}", abstract="Faster.") for n in range(3)
    ]
    in_abstract = _paper(title="Faster inference", abstract="We use speculative decoding.")
    _paper(title="Unrelated", abstract="Graph networks.")
    search.index_papers()

    items, _ = _walk(api, "/api/papers/?search=speculative+decoding&limit=2")

    assert {i["id"] for i in items[:3]} == {p.pk for p in in_title}
    assert [i["id"] for i in items[3:]] == [in_abstract.pk]


def test_filters(api):
    rag, agents = TagFactory(name="RAG"), TagFactory(name="Agents")
    both = _paper(days_ago=1, code_url="https://github.com/x/y", categories=["cs.CL"])
    only_rag = _paper(days_ago=2, categories=["cs.IR", "cs.CL"])
    only_agents = _paper(days_ago=10, categories=["cs.AI"])
    for paper, tag in [(both, rag), (both, agents), (only_rag, rag), (only_agents, agents)]:
        PaperTagFactory(paper=paper, tag=tag)
    PaperTagFactory(paper=only_agents, tag=rag, status=PaperTag.Status.REJECTED)
    _author(only_rag, "Geoffrey E. Hinton")

    def ids(query):
        response = api.get(f"/api/papers/?{query}")
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["results"]}

    assert ids("tag=rag") == {both.pk, only_rag.pk}
    assert ids("tag=rag&tag=agents") == {both.pk, only_rag.pk, only_agents.pk}
    assert ids("tag=rag&tag=agents&tag_mode=all") == {both.pk}
    assert ids("author=hinton") == {only_rag.pk}
    assert ids("author=hint") == set()
    assert ids("category=cs.CL") == {both.pk, only_rag.pk}
    assert ids(f"since={DAY - dt.timedelta(days=2)}") == {both.pk, only_rag.pk}
    assert ids(f"until={DAY - dt.timedelta(days=2)}") == {only_rag.pk, only_agents.pk}
    assert ids("has_code=true") == {both.pk}
    assert ids("has_code=false") == {only_rag.pk, only_agents.pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-02-30", "since"),
        ("since=2026-03-05&until=2026-03-01", "until"),
        ("tag=no-such-tag", "tag"),
        ("tag_mode=all", "tag_mode"),
        ("tag=rag&tag_mode=some", "tag_mode"),
        ("ordering=relevance", "ordering"),
        ("ordering=random", "ordering"),
        ("search=%21%21%21", "search"),
        ("has_code=perhaps", "has_code"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm90IGpzb24", "cursor"),  # base64 of "not json"
        ("cursor=eyJhZnRlciI6WzFdfQ", "cursor"),  # a key of the wrong length
        ("cursor=eyJhZnRlciI6WyJub3QgYSBkYXkiLDFdfQ", "cursor"),  # not a date
        ("ordering=trending&cursor=eyJhZnRlciI6WzEsMV0sImNhcnJ5Ijp7ImRheSI6M319", "cursor"),
        ("author=" + "x" * 201, "author"),
        ("until=", "until"),
        ("ordering=", "ordering"),
        ("has_code=", "has_code"),
    ],
)
def test_bad_parameters_get_field_messages_not_server_errors(api, query, field):
    TagFactory(name="RAG")
    _paper()
    response = api.get(f"/api/papers/?{query}")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["status"] == 400
    assert list(error["fields"]) == [field]
    assert all(isinstance(message, str) and message for message in error["fields"][field])


@pytest.mark.parametrize(
    "query",
    ["search=%00%01", "search=" + "word+" * 2000, "search=select+*+from+users;--", "search=-"],
)
def test_odd_searches_never_break(api, query):
    _paper(title="select everything")
    assert api.get(f"/api/papers/?{query}").status_code in (200, 400)


def test_detail_has_versions_and_related_link(api):
    paper = _paper(comment="12 pages", journal_ref="ACL 2026", keywords=["rag"])
    PaperVersion.objects.create(paper=paper, number=1, size="1 MB")
    PaperVersion.objects.create(paper=paper, number=2, comment="typos")

    data = api.get(f"/api/papers/{paper.pk}/").json()

    assert (data["comment"], data["journal_ref"], data["keywords"]) == (
        "12 pages",
        "ACL 2026",
        ["rag"],
    )
    assert [v["number"] for v in data["versions"]] == [1, 2]
    assert data["related_url"] == f"http://testserver/api/papers/{paper.pk}/related/"


def test_unknown_papers_are_json_404s(api):
    for url in ("/api/papers/999999/", "/api/papers/abc/", "/api/papers/999999/related/"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_related_papers_most_similar_first(api):
    paper, near, nearer = _paper(), _paper(), _paper()
    RelatedPaper.objects.create(paper=paper, related=near, score=0.3)
    RelatedPaper.objects.create(paper=paper, related=nearer, score=0.6)
    ids = [i["id"] for i in api.get(f"/api/papers/{paper.pk}/related/").json()]
    assert ids == [nearer.pk, near.pk]


def test_voting_needs_a_reader_and_can_be_repeated(api, reader, reader_api):
    paper = _paper()
    assert api.post(f"/api/papers/{paper.pk}/vote/").status_code == 401

    for _ in range(2):
        response = reader_api.post(f"/api/papers/{paper.pk}/vote/")
        assert response.json() == {"voted": True, "votes": 1}
    assert reader_api.get("/api/papers/").json()["results"][0]["voted"] is True
    assert reader_api.get(f"/api/papers/{paper.pk}/").json()["voted"] is True

    for _ in range(2):
        assert reader_api.delete(f"/api/papers/{paper.pk}/vote/").json() == {
            "voted": False,
            "votes": 0,
        }
    assert not Vote.objects.exists()
    assert reader_api.post("/api/papers/999999/vote/").status_code == 404


def test_a_session_needs_its_csrf_token_to_write(reader):
    from rest_framework.test import APIClient

    paper = _paper()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(reader)
    refused = browser.post(f"/api/papers/{paper.pk}/vote/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    assert browser.get("/api/papers/").status_code == 200  # reading needs no token
    assert Paper.objects.get().vote_count == 0


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _many_papers(count):
    tags = [TagFactory(name=f"T{n}") for n in range(3)]
    for n in range(count):
        paper = _paper(days_ago=n % 4)
        for tag in tags[: 3 - n % 3]:  # the first paper has them all
            PaperTagFactory(paper=paper, tag=tag)
        _author(paper, f"Author {n}")
        _author(paper, "Shared Author", position=1)


@pytest.mark.parametrize("who", ["anonymous", "reader"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "ordering=trending",
        "ordering=votes",
        "search=sparse",
        "tag=t0&tag=t1",
        "tag=t0&tag=t2&tag_mode=all",
        "author=shared+author",
    ],
)
def test_list_queries_do_not_grow_with_papers(api, reader_api, who, query):
    client = reader_api if who == "reader" else api
    _many_papers(1)
    search.index_papers()
    client.get("/api/papers/")  # a token records its first use once, not on every call
    one = _queries(client, f"/api/papers/?limit=100&{query}")
    _many_papers(49)
    search.index_papers()
    results.corpus_changed()  # as an import does: anonymous answers kept before are stale
    fifty = _queries(client, f"/api/papers/?limit=100&{query}")
    assert one == fifty


def test_detail_and_related_queries_are_fixed(reader_api):
    paper = _paper()
    _author(paper, "A")
    RelatedPaper.objects.create(paper=paper, related=_paper(), score=0.4)
    reader_api.get("/api/papers/")  # a token records its first use once, not on every call
    before = _queries(reader_api, f"/api/papers/{paper.pk}/")
    related_before = _queries(reader_api, f"/api/papers/{paper.pk}/related/")
    for n in range(5):
        PaperVersion.objects.create(paper=paper, number=n + 1)
        other = _paper()
        _author(other, f"B{n}")
        _author(paper, f"C{n}", position=n + 1)
        RelatedPaper.objects.create(paper=paper, related=other, score=0.5)
    assert _queries(reader_api, f"/api/papers/{paper.pk}/") == before
    assert _queries(reader_api, f"/api/papers/{paper.pk}/related/") == related_before
