import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers.sources import arxiv_api, arxiv_oai, listing
from papers.sources.records import Page, PaperRecord, RecordError, SourceError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CURRENT = FIXTURES / "arxiv-api" / "2026"
LEGACY = FIXTURES / "arxiv-api" / "2016"
OAI = FIXTURES / "arxiv-oai"
DEMO_LISTING = (
    Path(__file__).resolve().parents[3]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)
INDEX = [
    entry
    for entry in json.loads((CURRENT / "INDEX.json").read_text())
    if (CURRENT / entry["body_file"]).exists()
]
FIRST_PAGE = CURRENT / "q_testing_s0_m10_bc5a6c384fe9.body.xml"


def _body(prefix: str) -> bytes:
    (path,) = CURRENT.glob(f"{prefix}_s*.body.xml")
    return path.read_bytes()


def _page(start: int) -> bytes:
    (path,) = CURRENT.glob(f"q_testing_s{start}_m10_*.body.xml")
    return path.read_bytes()


def _legacy(name: str) -> bytes:
    return (LEGACY / name).read_bytes()


def _only(data: bytes) -> PaperRecord:
    (record,) = arxiv_api.parse(data)
    assert isinstance(record, PaperRecord)
    return record


def test_every_copied_response_is_checked():
    assert len(INDEX) == 11


@pytest.mark.parametrize("entry", INDEX, ids=lambda entry: entry["body_file"][:30])
def test_entry_counts_match_the_recorded_index(entry):
    data = (CURRENT / entry["body_file"]).read_bytes()

    if entry["status_code"] != 200:
        with pytest.raises(SourceError):
            arxiv_api.parse_page(data)
        return
    page = arxiv_api.parse_page(data)

    assert len(page.items) == entry["entries"]
    assert all(isinstance(item, PaperRecord) for item in page.items)
    assert list(arxiv_api.parse(data)) == page.items


def test_pages_carry_the_listing_total_and_continue_each_other():
    pages = {start: arxiv_api.parse_page(_page(start)) for start in (0, 5, 10)}
    ids = {start: [item.arxiv_id for item in page.items] for start, page in pages.items()}

    assert {page.total for page in pages.values()} == {214881}
    assert {page.next_token for page in pages.values()} == {None}
    assert ids[5][:5] == ids[0][5:]
    assert ids[10][:5] == ids[5][5:]
    assert not set(ids[0]) & set(ids[10])


def test_a_page_entry_has_every_field():
    record = arxiv_api.parse_page(FIRST_PAGE.read_bytes()).items[0]

    assert record == PaperRecord(
        source="arxiv-api",
        position="entry 1 (line 10)",
        title=(
            "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
        ),
        abstract=record.abstract,
        authors=("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"),
        arxiv_id="2202.12139",
        arxiv_version=1,
        doi="10.1109/icstw55395.2022.00035",
        categories=("cs.SE", "cs.LG"),
        comment="Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022",
        journal_ref=(
            "Artificial Intelligence in Software Testing @ 2022 IEEE International Conference "
            "on Software Testing, Verification and Validation Workshops (ICSTW)"
        ),
        published_at=datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC),
        updated_at=datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC),
        abs_url="https://arxiv.org/abs/2202.12139v1",
        pdf_url="https://arxiv.org/pdf/2202.12139v1",
    )
    assert record.abstract.startswith("Deep Learning (DL) has revolutionized")
    assert "  " not in record.abstract


def test_a_versioned_id_gives_the_bare_id_and_the_version():
    record = _only(_body("id_2104.12255v1"))

    assert (record.arxiv_id, record.arxiv_version) == ("2104.12255", 1)
    # A real title that is just a digit: "0" must not read as missing.
    assert record.title == "0"
    assert record.categories == ("cs.CR",)


def test_an_old_style_id():
    record = _only(_body("id_astro-ph_0601001"))

    assert (record.arxiv_id, record.arxiv_version) == ("astro-ph/0601001", 1)
    assert record.authors == (
        "Andrew Gould",
        "Susan Dorsher",
        "B. Scott Gaudi",
        "Andrzej Udalski",
    )
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert record.comment.startswith("62 pages including 16 figures")
    assert record.abs_url == "https://arxiv.org/abs/astro-ph/0601001v1"


@pytest.mark.parametrize("prefix", ["id_0000.0000", "id_0808.05394"])
def test_an_unknown_id_is_an_empty_page(prefix):
    page = arxiv_api.parse_page(_body(prefix))

    assert page == Page(items=[], total=0)
    assert list(arxiv_api.parse(_body(prefix))) == []


def test_an_unknown_id_next_to_a_known_one_leaves_the_known_one():
    record = _only(_body("id_0808.05394_1707.08567"))

    assert record.arxiv_id == "1707.08567"
    assert len(record.authors) == 34


def test_a_malformed_id_is_refused_with_arxivs_own_words():
    data = _body("id_abc")

    with pytest.raises(SourceError, match="incorrect id format for abc"):
        arxiv_api.parse(data)
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        arxiv_api.parse_page(data)


def test_the_2016_format_with_doi_and_journal_ref():
    record = _only(_legacy("id_list=1111.2011v2.xml"))

    assert (record.arxiv_id, record.arxiv_version) == ("1111.2011", 2)
    assert record.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert record.doi == "10.1103/physrevb.85.115117"
    assert record.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert record.comment == "8 pages, 3 figures. Published version"
    assert record.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert record.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert record.published_at == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert record.updated_at == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert (record.abs_url, record.pdf_url) == (
        "http://arxiv.org/abs/1111.2011v2",
        "http://arxiv.org/pdf/1111.2011v2",
    )


def test_the_2016_format_pages_and_affiliations():
    page = arxiv_api.parse_page(
        _legacy("search_query=au_del_maestro+ANDNOT+(ti_checkerboard+OR+ti_Pyrochlore).xml")
    )

    assert (len(page.items), page.total) == (10, 24)
    assert all("Del Maestro" in " ".join(item.authors) for item in page.items)
    # arxiv:affiliation sits inside <author> next to <name> and is not part of it.
    assert all("(" not in author for item in page.items for author in item.authors)


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("search_query=au_del_maestro+AND+ti_checkerboard.xml", 1),
        ("search_query=au_del_maestro+AND+ti_quantum+criticality.xml", 2),
    ],
)
def test_the_2016_format_counts(name, count):
    page = arxiv_api.parse_page(_legacy(name))

    assert len(page.items) == page.total == count
    assert all(item.doi and item.journal_ref for item in page.items)


def test_a_truncated_page_keeps_the_entries_before_the_damage():
    data = FIRST_PAGE.read_bytes()
    sixth = data.index(b"<entry>", data.index(b"</entry>", 0) + 1)
    for _ in range(4):
        sixth = data.index(b"<entry>", sixth + 1)
    cut = data[: sixth + 300]

    last_line = cut.count(b"\n") + 1

    page = arxiv_api.parse_page(cut)

    assert [type(item) for item in page.items] == [PaperRecord] * 5 + [RecordError]
    assert page.items[-1].position == f"line {last_line}"
    assert "broken from here on" in page.items[-1].message
    assert page.total == 214881
    assert list(arxiv_api.parse(cut)) == page.items


def test_garbage_in_the_middle_keeps_the_entries_before_it():
    data = FIRST_PAGE.read_bytes()
    third = data.index(b"<entry>", data.index(b"<entry>", data.index(b"<entry>") + 1) + 1)
    damaged = data[:third] + b"<entry><<<" + data[third:]

    items = list(arxiv_api.parse(damaged))

    assert [type(item) for item in items] == [PaperRecord, PaperRecord, RecordError]


def test_an_entry_without_a_title_is_a_record_error_and_the_rest_still_parse():
    data = FIRST_PAGE.read_bytes().replace(
        b"<title>Testing Deep Learning Models: A First Comparative Study of Multiple Testing "
        b"Techniques</title>",
        b"<title>  </title>",
    )

    items = list(arxiv_api.parse(data))

    assert items[0] == RecordError("entry 1 (line 10)", "arXiv 2202.12139 has no title")
    assert all(isinstance(item, PaperRecord) for item in items[1:])
    assert len(items) == 10


def test_an_entry_with_a_foreign_id_is_a_record_error():
    data = FIRST_PAGE.read_bytes().replace(
        b"<id>http://arxiv.org/abs/2202.12139v1</id>", b"<id>urn:uuid:1234</id>"
    )

    items = list(arxiv_api.parse(data))

    assert isinstance(items[0], RecordError)
    assert "urn:uuid:1234" in items[0].message


def test_only_web_links_are_kept():
    data = _body("id_2104.12255v1").replace(
        b'href="https://arxiv.org/abs/2104.12255v1"', b'href="javascript:alert(1)"'
    )

    record = _only(data)

    assert record.abs_url == ""
    assert record.pdf_url == "https://arxiv.org/pdf/2104.12255v1"


def test_utf8_names_come_through():
    data = _body("id_2104.12255v1").replace(b"Quan Thoi Minh Nguyen", "Dirk Wübben".encode())

    assert _only(data).authors == ("Dirk Wübben",)


def test_every_api_response_is_recognised():
    files = [*CURRENT.glob("*.body.xml"), *LEGACY.glob("*.xml")]

    assert len(files) == 15
    assert all(arxiv_api.looks_like(path.read_bytes()) for path in files)


@pytest.mark.parametrize(
    "data",
    [
        *(path.read_bytes() for path in sorted(OAI.glob("*/*.xml"))),
        DEMO_LISTING.read_bytes(),
        b'[{"paper": {"id": "2401.00001", "title": "<feed> of http://www.w3.org/2005/Atom"}}]',
        b'{"id": "2401.00001", "title": "Atom <feed xmlns=\\"http://www.w3.org/2005/Atom\\">"}\n'
        b'{"id": "2401.00002", "title": "http://a9.com/-/spec/opensearch/1.1/"}\n',
        b"@article{key, title={An <feed> http://www.w3.org/2005/Atom "
        b"http://a9.com/-/spec/opensearch/1.1/}}",
        b"TY  - JOUR\nTI  - <feed> http://www.w3.org/2005/Atom\nER  - \n",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>a blog</title></feed>',
    ],
)
def test_other_formats_are_not_recognised(data):
    assert not arxiv_api.looks_like(data)


def test_the_oai_parser_does_not_claim_api_responses():
    assert not any(arxiv_oai.looks_like(path.read_bytes()) for path in CURRENT.glob("*.xml"))
    assert not listing.looks_like(FIRST_PAGE.read_bytes())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not readable as XML"),
        (b'[{"paper": {"id": "2401.00001"}}]', "not readable as XML"),
        (b"@article{key, title={A}}", "not readable as XML"),
        (FIRST_PAGE.read_bytes()[:200], "breaks off before its first entry"),
        (
            (OAI / "arXivOAIHarvester-arXivRaw" / "GetRecordResponse.xml").read_bytes(),
            "not an Atom feed",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id></entry></feed>',
            "without opensearch:totalResults",
        ),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "HTML page"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        arxiv_api.parse(data)
    with pytest.raises(SourceError, match=message):
        arxiv_api.parse_page(data)


def _parses_cleanly(data: bytes) -> None:
    try:
        items = list(arxiv_api.parse(data))
        page = arxiv_api.parse_page(data)
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)
    assert page.items == items
    assert page.next_token is None


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    _parses_cleanly(data)


@settings(max_examples=200)
@given(st.data())
def test_damaged_real_responses_give_records_or_declared_errors(data):
    original = data.draw(st.sampled_from([FIRST_PAGE, *LEGACY.glob("id_list*")])).read_bytes()
    start = data.draw(st.integers(0, len(original)))
    end = data.draw(st.integers(start, min(len(original), start + 50)))
    replacement = data.draw(
        st.binary(max_size=20) | st.sampled_from([b"<", b"&", b"]]>", b"</entry>", b"\x00"])
    )
    truncate = data.draw(st.booleans())

    damaged = original[:start] if truncate else original[:start] + replacement + original[end:]

    _parses_cleanly(damaged)
