import pytest
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F

from papers import importing, search
from papers.models import Paper
from papers.sources import PaperRecord

pytestmark = pytest.mark.django_db


def run_import(*records):
    return importing.import_and_process(records, run=importing.start_run(source="test"))


def record(title, **fields):
    return PaperRecord(source="test", position="entry 1", title=title, **fields)


def ranked(query):
    q = SearchQuery(query, search_type="websearch")
    return list(
        Paper.objects.filter(search_vector=q)
        .annotate(rank=SearchRank(F("search_vector"), q))
        .order_by("-rank")
        .values_list("title", flat=True)
    )


def test_title_outweighs_abstract_which_outweighs_authors():
    run_import(
        record("Retrieval for everyone", abstract="Nothing else."),
        record("Something else", abstract="We talk about retrieval."),
        record("Third paper", abstract="Unrelated.", authors=("Ada Retrieval",)),
    )

    assert ranked("retrieval") == ["Retrieval for everyone", "Something else", "Third paper"]


def test_import_leaves_vectors_empty_until_indexed():
    importing.import_records([record("Sparse experts")], run=importing.start_run(source="test"))
    assert Paper.objects.get().search_vector is None

    assert search.index_papers() == 1
    assert ranked("experts") == ["Sparse experts"]
    assert search.index_papers() == 0


def test_changed_text_is_indexed_again_and_unchanged_text_is_not():
    run_import(record("Sparse experts", abstract="About routing.", arxiv_id="2401.00001"))

    importing.import_records(
        [record("Sparse experts", abstract="About load balancing.", arxiv_id="2401.00001")],
        run=importing.start_run(source="test"),
    )
    assert Paper.objects.get().search_vector is None
    search.index_papers()
    assert ranked("balancing") == ["Sparse experts"]
    assert ranked("routing") == []

    importing.import_records(
        [record("Sparse experts", arxiv_id="2401.00001", comment="now with code")],
        run=importing.start_run(source="test"),
    )
    assert Paper.objects.get().search_vector is not None


def test_index_named_papers_only():
    importing.import_records(
        [record("One paper"), record("Another paper")], run=importing.start_run(source="test")
    )
    one = Paper.objects.get(title="One paper")

    assert search.index_papers(paper_ids=[one.pk]) == 1
    assert ranked("paper") == ["One paper"]


# Searching, as the search page does it.


def titles(**criteria):
    return [paper.title for paper in search.find(**criteria)]


@pytest.fixture
def corpus():
    import datetime

    from tests.factories import PaperTagFactory, TagFactory

    run_import(
        record(
            "Reinforcement learning for robot arms",
            abstract="A robot learns to grasp with reinforcement learning.",
            authors=("Grace Hopper",),
            published_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
        ),
        record(
            "Reinforcement learning from human feedback",
            abstract="Language models tuned with preferences.",
            authors=("Alan Turing",),
            published_at=datetime.datetime(2026, 2, 5, tzinfo=datetime.UTC),
            code_url="https://github.com/a/rlhf",
        ),
        record(
            "Learning to reinforce bridges",
            abstract="Civil engineering meets learning.",
            authors=("Ada Lovelace",),
            published_at=datetime.datetime(2026, 3, 5, tzinfo=datetime.UTC),
        ),
        record(
            "Diffusion models for video",
            abstract="Video generation with diffusion.",
            authors=("Grace Hopperson",),
            published_at=datetime.datetime(2026, 3, 6, tzinfo=datetime.UTC),
        ),
    )
    tag = TagFactory(name="Robotics")
    PaperTagFactory(
        paper=Paper.objects.get(title__startswith="Reinforcement learning for"), tag=tag
    )
    return tag


def test_phrases_or_and_exclusion(corpus):
    assert set(titles(q='"reinforcement learning"')) == {
        "Reinforcement learning for robot arms",
        "Reinforcement learning from human feedback",
    }
    assert titles(q='"reinforcement learning" -robot') == [
        "Reinforcement learning from human feedback"
    ]
    assert set(titles(q="bridges OR video")) == {
        "Learning to reinforce bridges",
        "Diffusion models for video",
    }


def test_filters_combine(corpus):
    import datetime

    assert titles(q="learning", tag=corpus) == ["Reinforcement learning for robot arms"]
    assert titles(q="learning", has_code=True) == ["Reinforcement learning from human feedback"]
    assert titles(author="grace hopper") == ["Reinforcement learning for robot arms"]
    assert titles(author="Hopper") == ["Reinforcement learning for robot arms"]
    assert titles(
        q="learning", since=datetime.date(2026, 2, 1), until=datetime.date(2026, 2, 28)
    ) == ["Reinforcement learning from human feedback"]


def test_sorts(corpus):
    newest = titles(q="learning", sort="newest")
    assert newest == [
        "Learning to reinforce bridges",
        "Reinforcement learning from human feedback",
        "Reinforcement learning for robot arms",
    ]
    # Relevance: a word in the title (and abstract) beats a word in the abstract alone.
    assert titles(q="engineering OR video", sort="relevance") == [
        "Diffusion models for video",
        "Learning to reinforce bridges",
    ]
    assert set(titles(q="learning", sort="trending")) == set(newest)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "!!!",
        "((((",
        '"',
        "-",
        "OR",
        "a:*|!&",
        "\x00\x01 robot",
        "é" * 10_000,
        "robot " * 2000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "the of and",
    ],
)
def test_any_query_gives_a_page(client, corpus, raw):
    response = client.get("/search/", {"q": raw})

    assert response.status_code == 200
    assert "Search" in response.text


def test_friendly_messages(client, corpus):
    assert "has no words to look for" in client.get("/search/", {"q": "?!"}).text
    assert "Type a few words" in client.get("/search/").text
    long = client.get("/search/", {"q": "robot " * 2000})
    assert "only its first 300 characters" in long.text
    assert long.context["page"].paginator.count == 1
    nothing = client.get("/search/", {"q": "zebra"})
    assert "No papers match" in nothing.text
    bad_dates = client.get("/search/", {"q": "robot", "since": "2026-13-01"})
    assert "Enter a valid date" in bad_dates.text and bad_dates.context["page"] is None
    backwards = client.get("/search/", {"since": "2026-03-01", "until": "2026-01-01"})
    assert "end date is before the start date" in backwards.text
    assert "no such tag" in client.get("/search/", {"tag": "nope"}).text


def test_snippets_mark_matches_and_escape_the_rest(client):
    run_import(
        record(
            "Robots <script>alert(1)</script>",
            abstract="Robot arms & <img src=x onerror=alert(1)> grasping robots.",
        )
    )

    html = client.get("/search/", {"q": "robot"}).text

    assert "<mark>Robots</mark> &lt;script&gt;" in html
    assert "<mark>Robot</mark> arms &amp; &lt;img src=x" in html
    assert "<script>alert" not in html and "<img src=x" not in html


def test_clean_query_cuts_at_a_word():
    query = search.Query.clean("word " * 100)

    assert query.shortened and len(query.text) <= search.MAX_QUERY_CHARS
    assert query.text.endswith("word")
    assert search.Query.clean("a\x00b\x1fc").text == "a b c"


def test_a_search_is_ranked_once_and_an_import_shows_new_papers_at_once(
    client, django_assert_max_num_queries
):
    from tests.factories import UserFactory

    client.force_login(UserFactory())  # a reader: their pages are never kept whole
    run_import(record("Retrieval one"), record("Retrieval two"))
    first = client.get("/search/", {"q": "retrieval"})
    assert first.context["ranked"].total == 2

    # session and user, the form's tags, page, its tags, marks, votes, lists, follow
    with django_assert_max_num_queries(9) as kept:
        again = client.get("/search/", {"q": "retrieval"})
    assert again.context["ranked"].total == 2
    assert not any("OVER ()" in q["sql"] for q in kept.captured_queries)

    run_import(record("Retrieval three"))
    assert client.get("/search/", {"q": "retrieval"}).context["ranked"].total == 3


def test_broad_searches_show_the_best_results_and_say_so(client, settings):
    settings.MAX_RESULTS = 3
    run_import(*(record(f"Diffusion paper {n}") for n in range(5)))

    response = client.get("/search/", {"q": "diffusion"})

    assert response.context["ranked"].total == 5
    assert response.context["page"].paginator.count == 3
    assert "5 papers; here are the first 3" in response.text
