from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from papers import importing
from papers.models import Author, Authorship, ImportRun, Paper
from papers.sources import PaperRecord, RecordError, listing
from papers.sources.records import VersionRecord

pytestmark = pytest.mark.django_db

DEMO = (
    Path(__file__).resolve().parents[2]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)


def run_import(items, source="test"):
    return importing.import_records(items, run=importing.start_run(source=source))


def record(title="Sparse experts at scale", **fields):
    fields.setdefault("source", "test")
    fields.setdefault("position", "entry 1")
    return PaperRecord(title=title, **fields)


def test_demo_listing_imports_once():
    first = run_import(listing.parse(DEMO.read_bytes()), source=listing.FORMAT)
    second = run_import(listing.parse(DEMO.read_bytes()), source=listing.FORMAT)

    assert (first.seen, first.created, first.updated, first.unchanged, first.failed) == (
        294,
        294,
        0,
        0,
        0,
    )
    assert (second.created, second.updated, second.unchanged) == (0, 0, 294)
    assert second.status == ImportRun.Status.SUCCEEDED
    assert second.finished_at is not None
    assert Paper.objects.count() == 294
    greaselm = Paper.objects.get(title__startswith="GreaseLM")
    assert greaselm.sources == ["hf-listing"]
    assert Paper.objects.exclude(code_url="").count() == 51


def test_import_keeps_the_source_order_within_a_run():
    run_import([record("First listed"), record("Second listed"), record("Third listed")])

    assert [p.title for p in Paper.objects.recent()] == [
        "First listed",
        "Second listed",
        "Third listed",
    ]


def test_changed_fields_update_the_paper():
    run_import([record(abstract="Old abstract.")])
    run = run_import([record(abstract="New abstract.", code_url="https://github.com/a/b")])

    paper = Paper.objects.get()
    assert (run.created, run.updated, run.unchanged) == (0, 1, 0)
    assert paper.abstract == "New abstract."
    assert paper.code_url == "https://github.com/a/b"


def test_a_missing_field_does_not_erase_a_known_one():
    run_import([record(abstract="Known abstract.", comment="12 pages")])
    run = run_import([record()])

    paper = Paper.objects.get()
    assert run.unchanged == 1
    assert (paper.abstract, paper.comment) == ("Known abstract.", "12 pages")


def test_same_title_is_one_paper_across_case_and_punctuation():
    run_import([record("GreaseLM: Graph Reasoning for QA")])
    run = run_import([record("greaselm — graph reasoning for QA", source="other")])

    assert Paper.objects.count() == 1
    assert run.updated == 1
    assert Paper.objects.get().sources == ["test", "other"]


def test_same_title_with_a_different_first_author_is_another_paper():
    run_import([record("A survey of LLMs", authors=("Wayne Xin Zhao", "Kun Zhou"))])
    run_import([record("A survey of LLMs", authors=("Humza Naveed",))])

    assert Paper.objects.count() == 2


def test_arxiv_id_is_the_identity_even_when_the_title_changes():
    run_import([record("Old title", source="arxiv-api", arxiv_id="2401.00001", arxiv_version=1)])
    run = run_import(
        [record("New title", source="arxiv-api", arxiv_id="2401.00001", arxiv_version=2)]
    )

    paper = Paper.objects.get()
    assert run.updated == 1
    assert (paper.title, paper.arxiv_version, paper.arxiv_label) == ("New title", 2, "2401.00001v2")


def test_authors_are_kept_in_byline_order_and_shared():
    run_import(
        [
            record("Paper one", authors=("Ada Lovelace", "Alan Turing")),
            record("Paper two", authors=("Alan Turing", "Ada Lovelace")),
        ]
    )

    assert Author.objects.count() == 2
    two = Paper.objects.get(title="Paper two")
    assert [a.author.name for a in two.authorships.select_related("author")] == [
        "Alan Turing",
        "Ada Lovelace",
    ]
    assert two.author_names == ["Alan Turing", "Ada Lovelace"]


def test_a_changed_byline_replaces_the_authorships():
    run_import([record(authors=("Ada Lovelace",))])
    run_import([record(authors=("Ada Lovelace", "Grace Hopper"))])

    assert Authorship.objects.count() == 2
    assert Author.objects.get(authorships__position=1).name == "Grace Hopper"


def test_bad_records_are_reported_and_good_ones_land():
    items = [
        record("Good one"),
        RecordError("line 7", "title without an abstract line after it"),
        record("   "),
        record("Too long a link", code_url="https://github.com/" + "a" * 600),
        record("Good two"),
    ]

    run = run_import(items)

    assert (run.seen, run.created, run.failed) == (5, 2, 3)
    assert run.errors == [
        {"position": "line 7", "message": "title without an abstract line after it"},
        {"position": "entry 1", "message": "no title"},
        {"position": "entry 1", "message": "code_url is longer than 500 characters"},
    ]
    assert set(Paper.objects.values_list("title", flat=True)) == {"Good one", "Good two"}


def test_only_the_first_hundred_errors_are_kept():
    run = run_import([RecordError(f"line {n}", "broken") for n in range(150)])

    assert run.failed == 150
    assert len(run.errors) == ImportRun.MAX_ERRORS


def test_a_crash_marks_the_run_failed_and_keeps_whole_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)

    def records_then_crash():
        yield record("Batch one, paper one")
        yield record("Batch one, paper two")
        yield record("Batch two, paper one")
        raise OSError("disk went away")

    run = importing.start_run(source="test")
    with pytest.raises(OSError):
        importing.import_records(records_then_crash(), run=run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "disk went away" in run.message
    assert set(Paper.objects.values_list("title", flat=True)) == {
        "Batch one, paper one",
        "Batch one, paper two",
    }


def test_a_higher_ranked_source_is_not_overwritten_by_a_lower_one():
    run_import([record("Attention Is All You Need", source="arxiv-api", arxiv_id="1706.03762")])
    run_import(
        [
            record(
                "Attention is all you need",
                source="bibtex",
                arxiv_id="1706.03762",
                journal_ref="NeurIPS 2017",
                code_url="https://github.com/tensorflow/tensor2tensor",
            )
        ]
    )
    run_import(
        [
            record(
                "Attention is all you need",
                source="hf-daily",
                arxiv_id="1706.03762",
                code_url="https://github.com/official/transformer",
                upvotes=12,
            )
        ]
    )

    paper = Paper.objects.get()
    assert paper.title == "Attention Is All You Need"  # arXiv's, not the reference manager's
    assert paper.journal_ref == "NeurIPS 2017"  # an empty field takes any source's value
    assert paper.code_url == "https://github.com/official/transformer"  # the daily list's link
    assert paper.hf_upvotes == 12
    assert paper.sources == ["arxiv-api", "bibtex", "hf-daily"]


def test_signals_take_the_latest_value():
    run_import([record("Sparse experts", source="hf-daily", upvotes=3, keywords=("moe",))])
    run = run_import(
        [record("Sparse experts", source="hf-daily", upvotes=40, keywords=("moe", "routing"))]
    )

    paper = Paper.objects.get()
    assert run.updated == 1
    assert (paper.hf_upvotes, paper.keywords) == (40, ["moe", "routing"])


def test_a_paper_from_the_listing_merges_with_its_arxiv_record():
    run_import(
        [
            record(
                "GreaseLM: Graph REASoning Enhanced Language Models",
                source="hf-listing",
                abstract="Short abstract from the listing…",
            )
        ]
    )
    run_import(
        [
            record(
                "GreaseLM: Graph REASoning Enhanced Language Models",
                source="arxiv-api",
                arxiv_id="2201.08860",
                arxiv_version=2,
                authors=("Xikun Zhang", "Antoine Bosselut"),
                abstract="The full abstract.",
            )
        ]
    )

    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.abstract) == ("2201.08860", "The full abstract.")
    assert paper.sources == ["hf-listing", "arxiv-api"]


def test_a_newer_version_is_recorded_and_an_older_one_changes_nothing():
    v1_date = datetime(2024, 1, 2, tzinfo=UTC)
    v2_date = datetime(2024, 3, 4, tzinfo=UTC)
    run_import(
        [
            record(
                "First title",
                source="arxiv-api",
                arxiv_id="2401.00001",
                arxiv_version=1,
                abstract="First abstract.",
                published_at=v1_date,
                updated_at=v1_date,
            )
        ]
    )
    run = run_import(
        [
            record(
                "Second title",
                source="arxiv-api",
                arxiv_id="2401.00001",
                arxiv_version=2,
                abstract="First abstract.",
                comment="v2: typos",
                published_at=v1_date,
                updated_at=v2_date,
            )
        ]
    )
    stale = run_import(
        [
            record(
                "First title",
                source="arxiv-api",
                arxiv_id="2401.00001",
                arxiv_version=1,
                published_at=v1_date,
                updated_at=v1_date,
            )
        ]
    )

    paper = Paper.objects.get()
    assert run.updated == 1 and stale.unchanged == 1
    assert (paper.title, paper.arxiv_version, paper.updated_at) == ("Second title", 2, v2_date)
    assert paper.was_updated
    versions = list(
        paper.versions.values_list("number", "submitted_at", "title", "abstract", "comment")
    )
    # Each version keeps the title it had; the abstract did not change.
    assert versions == [
        (1, v1_date, "First title", "", ""),
        (2, v2_date, "Second title", "", "v2: typos"),
    ]


def test_a_version_history_is_recorded_once():
    history = (
        VersionRecord(1, datetime(2007, 4, 2, tzinfo=UTC), "11kb"),
        VersionRecord(2, datetime(2007, 7, 24, tzinfo=UTC), "12kb"),
    )
    for _ in range(2):
        run_import(
            [
                record(
                    "Calculation of prompt diphoton production",
                    source="arxiv-oai",
                    arxiv_id="0704.0001",
                    versions=history,
                )
            ]
        )

    paper = Paper.objects.get()
    assert paper.arxiv_version == 2
    assert list(paper.versions.values_list("number", "size")) == [(1, "11kb"), (2, "12kb")]


def test_a_link_that_is_not_http_is_a_record_error():
    run = run_import([record("Sneaky", code_url="javascript:alert(1)"), record("Fine")])

    assert run.errors == [{"position": "entry 1", "message": "code_url is not an http(s) address"}]
    assert list(Paper.objects.values_list("title", flat=True)) == ["Fine"]


def test_a_run_that_stopped_beating_is_marked_interrupted():
    dead = importing.start_run(source="test")
    ImportRun.objects.filter(pk=dead.pk).update(
        heartbeat_at=timezone.now() - importing.STALE_AFTER - timedelta(seconds=1)
    )
    alive = importing.start_run(source="test")

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportRun.Status.INTERRUPTED
    assert alive.status == ImportRun.Status.RUNNING


def test_odd_characters_in_lists_survive_the_bulk_write():
    names = ('Anna "Ann" O\\Brien', "{Braces}, and commas", "Zoë Ω")
    run_import([record("Odd names", authors=names, keywords=('quote"d', "back\\slash"))])
    again = run_import([record("Odd names", authors=names, keywords=('quote"d', "back\\slash"))])

    paper = Paper.objects.get()
    assert paper.author_names == list(names)
    assert paper.keywords == ['quote"d', "back\\slash"]
    assert again.unchanged == 1


def test_overlong_keywords_and_categories_are_dropped_not_the_paper():
    run = run_import(
        [record("Graph embeddings", keywords=("graphs", "x" * 150), categories=("cs.LG", "y" * 40))]
    )

    paper = Paper.objects.get()
    assert run.failed == 0
    assert (paper.keywords, paper.categories) == (["graphs"], ["cs.LG"])


def test_a_doi_already_owned_by_another_paper_stays_with_it():
    run_import([record("Sparse experts", source="hf-daily", arxiv_id="2401.00001")])
    run_import([record("Sparse Experts (journal version)", source="bibtex", doi="10.1/j")])

    run = run_import(
        [record("Sparse experts", source="arxiv-oai", arxiv_id="2401.00001", doi="10.1/j")]
    )

    assert run.status == "succeeded" and run.failed == 0
    assert dict(Paper.objects.values_list("title", "doi")) == {
        "Sparse experts": None,
        "Sparse Experts (journal version)": "10.1/j",
    }


def test_an_identifier_gained_mid_batch_is_known_to_the_rest_of_it():
    run_import([record("Journal title", source="bibtex", doi="10.1/j")])

    run = run_import(
        [
            record(
                "Journal title",
                source="arxiv-oai",
                doi="10.1/j",
                arxiv_id="2401.00009",
                arxiv_version=1,
            ),
            record(
                "Revised preprint title", source="arxiv-api", arxiv_id="2401.00009", arxiv_version=2
            ),
        ]
    )

    assert (run.status, run.created, run.failed) == ("succeeded", 0, 0)
    paper = Paper.objects.get()
    assert (paper.title, paper.doi, paper.arxiv_version) == ("Revised preprint title", "10.1/j", 2)


def test_two_arxiv_papers_citing_one_doi_stay_two_papers():
    run_import([record("Alpha", source="arxiv-api", arxiv_id="2401.00001", doi="10.1/x")])
    run = run_import([record("Gamma", source="arxiv-api", arxiv_id="2402.00002", doi="10.1/x")])

    assert run.created == 1
    assert dict(Paper.objects.values_list("arxiv_id", "title")) == {
        "2401.00001": "Alpha",
        "2402.00002": "Gamma",
    }


def test_what_postgresql_cannot_store_is_cleaned_not_fatal():
    run = run_import(
        [
            record("Nul\x00 in the title", abstract="lone \ud800 surrogate"),
            record("Odd numbers", source="hf-daily", upvotes=-1, github_stars=10**12),
            record("Plain paper"),
        ]
    )

    assert (run.created, run.failed) == (3, 0)
    assert Paper.objects.get(title="Nul in the title").abstract == "lone \ufffd surrogate"
    odd = Paper.objects.get(title="Odd numbers")
    assert (odd.hf_upvotes, odd.github_stars) == (None, None)


def test_a_record_the_database_refuses_fails_alone():
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE papers_paper ADD CONSTRAINT test_refuse CHECK (title <> 'Evil')"
        )

    run = run_import([record("Good one"), record("Evil"), record("Good two")])

    assert (run.created, run.failed) == (2, 1)
    assert run.errors == [{"position": "entry 1", "message": "the database refused this record"}]


def test_imports_leave_votes_and_first_seen_alone():
    run_import([record("Sparse experts", abstract="v1")])
    Paper.objects.update(vote_count=5, save_count=2)
    first_seen = Paper.objects.get().first_seen_at

    run_import([record("Sparse experts", abstract="v2")])

    paper = Paper.objects.get()
    assert (paper.abstract, paper.vote_count, paper.save_count) == ("v2", 5, 2)
    assert paper.first_seen_at == first_seen


def test_a_cited_version_does_not_override_arxiv():
    run_import(
        [
            record(
                "Attention Is All You Need",
                source="arxiv-api",
                arxiv_id="1706.03762",
                arxiv_version=2,
                authors=("Ashish Vaswani",),
            )
        ]
    )
    run_import(
        [
            record(
                "Attention is all you need",
                source="bibtex",
                arxiv_id="1706.03762",
                arxiv_version=3,
                authors=("A. Vaswani", "others"),
            )
        ]
    )

    paper = Paper.objects.get()
    assert (paper.title, paper.arxiv_version) == ("Attention Is All You Need", 2)
    assert paper.author_names == ["Ashish Vaswani"]
    assert list(paper.versions.values_list("number", flat=True)) == [2]


def test_fields_a_curator_corrected_are_not_overwritten():
    run_import([record("Lamguage modles", source="hf-daily", upvotes=3)])
    Paper.objects.update(title="Language models", curated_fields=["title"])

    run_import([record("Lamguage modles", source="hf-daily", upvotes=4)])

    paper = Paper.objects.get()
    assert (paper.title, paper.hf_upvotes) == ("Language models", 4)
