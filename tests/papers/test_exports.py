"""Exports a reference manager accepts: BibTeX, RIS and CSV, read back by other parsers.

Each format is written from a list of awkward papers, then read with the libraries
reference managers' formats are checked with (bibtexparser 2, rispy, csv) and with
paperfeed's own import parsers, which must get back the same papers.
"""

import csv
import datetime
import io

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, RemoveEnclosingMiddleware
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers import exports, lists
from papers.models import ListItem
from papers.sources import bibtex, ris
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Everyone here signs in with force_login: no password is ever checked.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def awkward():
    """A list whose papers and notes carry everything that breaks naive writers."""
    owner = UserFactory()
    papers = [
        PaperFactory(
            title="BERT: Pre-training of {Deep} Bidirectional Transformers & 50% more_fun #1",
            author_names=["Jacob Devlin", "Ming-Wei Chang", "Kristina Toutanova"],
            arxiv_id="1810.04805",
            categories=["cs.CL"],
            doi="10.18653/v1/n19-1423",
            published_at=datetime.datetime(2018, 10, 11, tzinfo=UTC),
            abstract="We introduce a {new} model,\nwith a line break.",
            journal_ref="NAACL 2019",
        ),
        PaperFactory(
            title="Schrödinger\u2019s $\\alpha$-divergence: Ünïcode, 中文 and ~tildes",
            author_names=["José García-Pérez", "Ludwig van Beethoven", "Tom and Jerry Lab"],
            arxiv_id="hep-th/9901001",
            published_at=datetime.datetime(1999, 1, 4, tzinfo=UTC),
        ),
        # Same first author, year and first word as the first paper: keys must differ.
        PaperFactory(
            title="BERT rediscovered",
            author_names=["Jacob Devlin"],
            doi="10.1000/abc_(x)%20y",
            published_at=datetime.datetime(2018, 1, 1, tzinfo=UTC),
        ),
        PaperFactory(title="No authors, no identifiers", author_names=[], abs_url=""),
    ]
    reading_list = lists.create_list(owner=owner, name="Awkward: papers & “notes”", papers=papers)
    ListItem.objects.filter(paper=papers[0]).update(
        note='Multi-line note}\nER  - \nTY  - JOUR\n@misc{evil, title={x}}\n=HYPERLINK("http://evil")',
        status=ListItem.Status.READ,
    )
    ListItem.objects.filter(paper=papers[1]).update(note="=1+1")
    return owner, reading_list, papers


def export(reading_list, fmt):
    return exports.FORMATS[fmt].write(lists.items_of(reading_list), site_url="https://pf.example")


# BibTeX


def test_bibtex_is_read_back_whole_by_bibtexparser(awkward):
    _, reading_list, _ = awkward

    text = export(reading_list, "bib")

    library = bibtexparser.parse_string(
        text, parse_stack=[RemoveEnclosingMiddleware(), LatexDecodingMiddleware()]
    )
    assert library.failed_blocks == []
    assert len(library.entries) == 4
    first = library.entries[0]
    assert first.entry_type == "article"
    assert first["title"].startswith("BERT: Pre-training of {Deep} Bidirectional")
    assert first["eprint"] == "1810.04805"
    assert first["archivePrefix"] == "arXiv"
    assert first["primaryClass"] == "cs.CL"
    assert first["doi"] == "10.18653/v1/n19-1423"
    assert first["url"] == "https://arxiv.org/abs/1810.04805"
    assert first["month"] == "oct" and first["year"] == "2018"
    assert library.entries[1].entry_type == "misc"


def test_bibtex_citation_keys_are_unique_and_plain(awkward):
    _, reading_list, papers = awkward

    library = bibtexparser.parse_string(export(reading_list, "bib"))

    keys = [entry.key for entry in library.entries]
    assert keys[:3] == ["devlin2018bert", "garciaperez1999schrodinger", "devlin2018berta"]
    assert keys[3] == f"anon{papers[3].listed_on.year}no"
    assert all(key.isascii() and key.isalnum() for key in keys)


def test_bibtex_round_trips_through_paperfeeds_own_parser(awkward):
    _, reading_list, papers = awkward

    records = list(bibtex.parse(export(reading_list, "bib").encode()))

    assert [record.title for record in records] == [paper.title for paper in papers]
    assert [list(record.authors) for record in records] == [p.author_names for p in papers]
    assert [record.arxiv_id for record in records] == ["1810.04805", "hep-th/9901001", None, None]
    assert [record.doi for record in records] == [
        "10.18653/v1/n19-1423",
        None,
        "10.1000/abc_(x)%20y",
        None,
    ]
    assert records[0].abstract == "We introduce a {new} model, with a line break."


def test_bibtex_keeps_inline_math_and_protects_capitals(awkward):
    _, reading_list, _ = awkward

    text = export(reading_list, "bib")

    assert r"$\alpha$-divergence" in text
    assert "{BERT:}" in text  # a style that lower-cases titles leaves it alone
    assert r"\{Deep\}" in text and r"\&" in text and r"50\%" in text
    assert r"{Tom and Jerry Lab}" in text  # one author, not two
    # A note cannot close its field early: its brace is escaped, and the entry goes on.
    assert "annote = {Multi-line note{\\textbraceright} ER - TY - JOUR" in text
    # Each field on one line: a note's line starting with "@" would otherwise be taken
    # for a new entry by bibtexparser.
    assert all(line.startswith(("@", "  ", "}")) or not line for line in text.splitlines())


# RIS


def test_ris_is_read_back_by_rispy_one_record_per_item(awkward):
    _, reading_list, papers = awkward

    text = export(reading_list, "ris")

    entries = rispy.loads(text)
    assert len(entries) == 4  # the note's "ER  - " and "TY  - " lines did not split a record
    first = entries[0]
    assert first["type_of_reference"] == "JOUR"
    assert first["title"] == papers[0].title
    assert first["authors"] == ["Devlin, Jacob", "Chang, Ming-Wei", "Toutanova, Kristina"]
    assert first["year"] == "2018"
    assert first["doi"] == "10.18653/v1/n19-1423"
    assert first["urls"] == ["https://arxiv.org/abs/1810.04805"]
    assert first["abstract"] == "We introduce a {new} model, with a line break."
    assert first["notes"] == [
        'Multi-line note} ER - TY - JOUR @misc{evil, title={x}} =HYPERLINK("http://evil")'
    ]
    assert entries[1]["authors"] == [
        "García-Pérez, José",
        "van Beethoven, Ludwig",
        "Tom and Jerry Lab",
    ]
    assert entries[3]["type_of_reference"] == "GEN"
    lines = text.splitlines()
    assert lines[0] == "TY  - JOUR" and lines[-1].startswith("ER  -")
    assert all(line[:2].isalnum() and line[2:6] == "  - " for line in lines if line)


def test_ris_round_trips_through_paperfeeds_own_parser(awkward):
    _, reading_list, papers = awkward

    records = list(ris.parse(export(reading_list, "ris").encode()))

    assert [record.title for record in records] == [paper.title for paper in papers]
    assert [list(record.authors) for record in records] == [p.author_names for p in papers]
    assert [record.arxiv_id for record in records] == ["1810.04805", "hep-th/9901001", None, None]
    assert records[2].doi == "10.1000/abc_(x)%20y"


# CSV


def test_csv_has_a_header_utf8_and_no_formulas(awkward):
    _, reading_list, papers = awkward

    text = export(reading_list, "csv")

    assert text.startswith("\ufeff")  # so that Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    assert [row["title"] for row in rows] == [paper.title for paper in papers]
    assert rows[0]["authors"] == "Jacob Devlin; Ming-Wei Chang; Kristina Toutanova"
    assert rows[0]["status"] == "Read"
    assert rows[0]["note"].startswith("Multi-line note}\nER")  # kept whole, quoted
    assert rows[1]["note"] == "'=1+1"  # a spreadsheet shows it rather than computing it
    assert rows[1]["paperfeed_url"] == f"https://pf.example/papers/{papers[1].pk}/"
    assert [row["position"] for row in rows] == ["1", "2", "3", "4"]


# Through the pages


@pytest.mark.parametrize(
    ("fmt", "content_type", "filename"),
    [
        ("bib", "application/x-bibtex; charset=utf-8", "awkward-papers-notes.bib"),
        ("ris", "application/x-research-info-systems; charset=utf-8", "awkward-papers-notes.ris"),
        ("csv", "text/csv; charset=utf-8", "awkward-papers-notes.csv"),
    ],
)
def test_export_downloads_a_named_file(client, awkward, fmt, content_type, filename):
    owner, reading_list, _ = awkward
    client.force_login(owner)

    response = client.get(reverse("list-export", args=[reading_list.pk, fmt]))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'


def test_unknown_export_formats_are_not_found(client, awkward):
    owner, reading_list, _ = awkward
    client.force_login(owner)

    assert client.get(f"/lists/{reading_list.pk}/export.json").status_code == 404


@pytest.mark.parametrize("fmt", ["bib", "ris"])
def test_an_export_imported_into_a_new_list_gives_the_same_list(client, awkward, fmt):
    owner, reading_list, papers = awkward
    client.force_login(owner)
    exported = client.get(reverse("list-export", args=[reading_list.pk, fmt])).content
    copy = lists.create_list(owner=owner, name="Copy")

    response = client.post(
        reverse("list-import", args=[copy.pk]),
        {"file": SimpleUploadedFile(f"list.{fmt}", exported)},
    )

    report = response.context["report"]
    assert (report.unmatched, report.unreadable) == ([], [])
    assert [item.paper for item in lists.items_of(copy)] == papers


@pytest.mark.parametrize("fmt", ["bib", "ris", "csv"])
def test_export_query_count_does_not_grow_with_items(client, fmt):
    owner = UserFactory()
    client.force_login(owner)
    counts = []
    for size in (1, 50):
        reading_list = lists.create_list(
            owner=owner, name=f"Size {size}", papers=PaperFactory.create_batch(size)
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("list-export", args=[reading_list.pk, fmt]))
        assert response.status_code == 200
        counts.append(len(queries))

    # Session, user, the list, its items with their papers.
    assert counts == [4, 4]
