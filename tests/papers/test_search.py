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
