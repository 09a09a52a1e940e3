from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers.sources import arxiv_api, arxiv_oai, listing
from papers.sources.records import Page, PaperRecord, RecordError, SourceError, VersionRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "arxiv-oai"
RAW = FIXTURES / "arXivOAIHarvester-arXivRaw"
HEPCRAWL = FIXTURES / "hepcrawl"
LIST_RECORDS = RAW / "ListRecordsResponse.xml"
DEMO_LISTING = (
    Path(__file__).resolve().parents[3]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)
OAI_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
    b"<responseDate>2015-08-06T08:00:18Z</responseDate>\n"
)


def _records(data: bytes) -> list[PaperRecord]:
    items = list(arxiv_oai.parse(data))
    assert all(isinstance(item, PaperRecord) for item in items)
    return items


def test_arxiv_raw_list_records_with_token_and_list_size():
    page = arxiv_oai.parse_page(LIST_RECORDS.read_bytes())

    assert [item.arxiv_id for item in page.items] == [
        "0704.0471",
        "0704.0716",
        "0704.0874",
        "0704.1109",
        "0704.1114",
        "0704.1586",
    ]
    assert page.next_token == "726959|1001"
    assert page.total == 58011
    assert list(arxiv_oai.parse(LIST_RECORDS.read_bytes())) == page.items


def test_arxiv_raw_version_history():
    record = _records(LIST_RECORDS.read_bytes())[1]

    assert record.versions == (
        VersionRecord(1, datetime(2007, 4, 5, 12, 45, 3, tzinfo=UTC), "43kb"),
        VersionRecord(2, datetime(2007, 9, 28, 15, 13, 43, tzinfo=UTC), "48kb"),
        VersionRecord(3, datetime(2008, 2, 29, 16, 5, 39, tzinfo=UTC), "48kb"),
        VersionRecord(4, datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC), "49kb"),
    )
    assert record.arxiv_version == 4
    assert record.published_at == datetime(2007, 4, 5, 12, 45, 3, tzinfo=UTC)
    assert record.updated_at == datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC)
    assert record.title == "Limit distributions and scaling functions"
    assert record.categories == ("math-ph", "math.MP")
    assert record.comment.startswith("54 pages, 2 figures; v2 updated and slightly expanded; v3")
    assert record.journal_ref == (
        "Polygons, polyominoes and polycubes, 247-299, Lecture Notes in Phys., 775, "
        "Springer, Dordrecht, 2009"
    )


def test_arxiv_raw_authors_and_dois():
    records = _records(LIST_RECORDS.read_bytes())

    assert records[0].authors == ("D.V. Shetty", "S.J. Yennello", "G.A. Souliotis")
    assert records[3].authors == ("Valeria M. Rosa", "Patricio S. letelier")
    # Two DOIs (paper and erratum) separated by a space: the paper's comes first.
    assert records[0].doi == "10.1103/physrevc.76.024606"
    assert records[0].abstract.startswith("The density dependence of the symmetry energy")
    assert '" stiff "' in records[0].abstract


def test_arxiv_raw_get_record():
    page = arxiv_oai.parse_page((RAW / "GetRecordResponse.xml").read_bytes())

    (record,) = page.items
    assert (page.total, page.next_token) == (None, None)
    assert record.arxiv_id == "1302.2146"
    assert record.arxiv_version == 2
    assert [version.size for version in record.versions] == ["853kb", "849kb"]
    assert record.authors == (
        "Joshua Berger",
        "Maxim Perelstein",
        "Michael Saelim",
        "Philip Tanedo",
    )
    assert record.categories == ("hep-ph", "hep-ex")
    assert record.updated_at == datetime(2013, 4, 2, 1, 50, 8, tzinfo=UTC)


def test_no_records_match_is_an_empty_result():
    data = (RAW / "ErrorResponseNoRecordsMatch.xml").read_bytes()

    assert list(arxiv_oai.parse(data)) == []
    assert arxiv_oai.parse_page(data) == Page(items=[], total=0, next_token=None)


@pytest.mark.parametrize(
    ("name", "code", "server_says"),
    [
        ("ErrorResponseBadArgument.xml", "badArgument", "illegal argument 'identifier'"),
        ("ErrorResponseBadResumptionToken.xml", "badResumptionToken", "supplied is illegal"),
        ("ErrorResponseBadVerb.xml", "badVerb", "Verb 'wah' not implemented"),
        (
            "ErrorResponseIdDoesNotExist.xml",
            "idDoesNotExist",
            "'oai:arXiv.org:0813.2274' has correct form",
        ),
    ],
)
def test_other_oai_errors_fail_the_request_naming_the_code(name, code, server_says):
    data = (RAW / name).read_bytes()

    with pytest.raises(SourceError) as from_parse:
        arxiv_oai.parse(data)
    with pytest.raises(SourceError) as from_page:
        arxiv_oai.parse_page(data)

    for refused in (from_parse, from_page):
        assert f"{code}: " in str(refused.value)
        assert server_says in str(refused.value)


def test_cannot_disseminate_format_names_the_formats_we_read():
    data = OAI_HEAD + (
        b'<request verb="ListRecords" metadataPrefix="marc">http://export.arxiv.org/oai2</request>'
        b"<error code=\"cannotDisseminateFormat\">'marc' is not supported</error></OAI-PMH>"
    )

    with pytest.raises(SourceError, match="cannotDisseminateFormat: 'marc' is not supported"):
        arxiv_oai.parse(data)


def test_arxiv_format_fields():
    (record,) = _records((HEPCRAWL / "unit_sample_arxiv_record0.xml").read_bytes())

    assert record.arxiv_id == "1601.03238"
    assert record.arxiv_version is None
    assert record.title == "Irreversible degradation of quantum coherence under relativistic motion"
    assert record.authors == (
        "Planck Collaboration",
        "Jieci Wang",
        "Zehua Tian",
        "Jiliang Jing",
        "Heng Fan",
    )
    # Primary category first, as arXiv lists it.
    assert record.categories == ("quant-ph", "gr-qc", "hep-th", "chao-dyn", "nlin.CD")
    assert record.comment == "6 pages, 4 figures, conference paper"
    assert record.journal_ref == "Phys.Rev. D93 (2015) 016005"
    # A list of three DOIs with mixed separators: the first is the paper's.
    assert record.doi == "10.1103/physrevd.93.016005"
    assert record.published_at == datetime(2016, 1, 13, tzinfo=UTC)
    # One version only: arXiv sends no <updated>, and the only version is the created one.
    assert record.updated_at == record.published_at
    assert record.versions == ()


def test_arxiv_format_list_with_updated_dates():
    records = _records((HEPCRAWL / "functional_arxiv-physics-hep-ex.xml").read_bytes())

    assert len(records) == 3
    assert records[0].arxiv_id == "1706.05371"
    assert records[0].published_at == datetime(2017, 6, 16, tzinfo=UTC)
    assert records[0].updated_at == datetime(2017, 12, 12, tzinfo=UTC)
    assert records[0].categories == ("physics.ins-det", "hep-ex")


def test_arxiv_format_author_shapes():
    records = _records((HEPCRAWL / "unit_sample_arxiv_record.xml").read_bytes())
    by_id = {record.arxiv_id: record for record in records}

    assert len(records) == 12
    # This <arXiv> element lost its namespace upstream and sits in the OAI one.
    assert by_id["1601.03238"].title.startswith("Irreversible degradation")
    # Two keynames for one author; affiliations are not part of names.
    assert "Curtis J. Saxton Walton" in by_id["1606.07066"].authors
    assert "Ziri Younsi" in by_id["1606.07066"].authors
    # A lone ":" keyname between the collaboration and its members is no author.
    assert ":" not in by_id["1606.07538"].authors
    assert by_id["1606.07538"].authors[:2] == ("Super-Kamiokande Collaboration", "K. Abe")


def test_arxiv_format_name_suffix():
    (record,) = _records((HEPCRAWL / "unit_sample_arxiv_record4.xml").read_bytes())

    assert record.authors[:3] == ("Keck Array", "BICEP2 Collaborations", "P. Ade")
    assert "R. W. IV" in record.authors
    # 66 <author> elements, one of them the ":" between collaboration and members.
    assert len(record.authors) == 65
    assert record.title == (
        "BICEP2 / Keck Array VII: Matrix based E/B Separation applied to BICEP2 and the Keck Array"
    )


def test_deleted_records_are_skipped():
    deleted = (
        b'<record><header status="deleted"><identifier>oai:arXiv.org:0704.0002</identifier>'
        b"<datestamp>2014-11-18</datestamp></header></record>\n"
    )
    data = LIST_RECORDS.read_bytes().replace(b"<ListRecords>\n", b"<ListRecords>\n" + deleted, 1)

    items = list(arxiv_oai.parse(data))

    assert [item.arxiv_id for item in items][:2] == ["0704.0471", "0704.0716"]
    assert len(items) == 6
    # Positions still point at the records as they stand in the response.
    assert items[0].position.startswith("record 2 ")


def test_an_empty_resumption_token_marks_the_last_page():
    data = LIST_RECORDS.read_bytes().replace(b">726959|1001</resumptionToken>", b"/>")

    page = arxiv_oai.parse_page(data)

    assert (page.next_token, page.total) == (None, 58011)
    assert len(page.items) == 6


def test_a_truncated_list_keeps_the_records_before_the_damage():
    data = LIST_RECORDS.read_bytes()
    fourth = data.index(b"<identifier>oai:arXiv.org:0704.1109")
    cut = data[:fourth]
    last_line = cut.count(b"\n") + 1

    page = arxiv_oai.parse_page(cut)

    assert [type(item) for item in page.items] == [PaperRecord] * 3 + [RecordError]
    assert page.items[-1].position == f"line {last_line}"
    assert "broken from here on" in page.items[-1].message
    # The token comes last, so a damaged page cannot say where the list goes on.
    assert page.next_token is None


def test_a_record_without_a_title_is_a_record_error():
    data = LIST_RECORDS.read_bytes().replace(
        b"<title>Limit distributions and scaling functions</title>", b""
    )

    items = list(arxiv_oai.parse(data))

    assert items[1] == RecordError("record 2 (line 32)", "arXiv 0704.0716 has no title")
    assert sum(isinstance(item, PaperRecord) for item in items) == 5


def test_a_record_in_an_unread_format_says_what_to_ask_for():
    data = OAI_HEAD + (
        b"<ListRecords><record><header><identifier>oai:arXiv.org:1507.03011</identifier>"
        b"</header><metadata><marc:record xmlns:marc='http://www.loc.gov/MARC21/slim'/>"
        b"</metadata></record></ListRecords></OAI-PMH>"
    )

    (error,) = arxiv_oai.parse(data)

    assert isinstance(error, RecordError)
    assert "metadataPrefix arXiv or arXivRaw" in error.message


def test_dublin_core_records_are_read():
    data = OAI_HEAD + (
        b"<GetRecord><record><header><identifier>oai:arXiv.org:1507.03011</identifier></header>"
        b"<metadata><oai_dc:dc xmlns:oai_dc='http://www.openarchives.org/OAI/2.0/oai_dc/' "
        b"xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        b"<dc:title>A Galaxy\n  Title</dc:title>"
        b"<dc:creator>Young, J. E.</dc:creator><dc:creator>de Naray, Rachel Kuzio</dc:creator>"
        b"<dc:subject>Astrophysics - Astrophysics of Galaxies</dc:subject>"
        b"<dc:description>The abstract.</dc:description>"
        b"<dc:description>Comment: 13 pages, 7 figures</dc:description>"
        b"<dc:date>2015-07-10</dc:date><dc:date>2015-09-01</dc:date>"
        b"<dc:identifier>http://arxiv.org/abs/1507.03011</dc:identifier>"
        b"<dc:identifier>doi:10.1093/MNRAS/stv1234</dc:identifier>"
        b"</oai_dc:dc></metadata></record></GetRecord></OAI-PMH>"
    )

    (record,) = _records(data)

    assert record.arxiv_id == "1507.03011"
    assert record.title == "A Galaxy Title"
    assert record.authors == ("J. E. Young", "Rachel Kuzio de Naray")
    assert (record.abstract, record.comment) == ("The abstract.", "13 pages, 7 figures")
    assert record.doi == "10.1093/mnras/stv1234"
    assert record.published_at == datetime(2015, 7, 10, tzinfo=UTC)
    assert record.updated_at == datetime(2015, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("authors", "names"),
    [
        ("A. One, B. Two and C. Three", ("A. One", "B. Two", "C. Three")),
        ("A. One, B. Two, and C. Three", ("A. One", "B. Two", "C. Three")),
        (
            "A. One (1), B. Two (1 and 2) ((1) Univ X, Town, (2) Lab Y)",
            ("A. One", "B. Two"),
        ),
        ("John Smith, Jr., Jane Doe", ("John Smith Jr.", "Jane Doe")),
        ("Anand Alexandrov and Sandra Andersen", ("Anand Alexandrov", "Sandra Andersen")),
        # An unclosed parenthesis is left alone rather than swallowing the names after it.
        ("A. One (Univ X, B. Two", ("A. One (Univ X", "B. Two")),
        ("", ()),
    ],
)
def test_arxiv_raw_author_strings_are_split(authors, names):
    real_authors = b"Joshua Berger, Maxim Perelstein, Michael Saelim and Philip Tanedo"
    data = (RAW / "GetRecordResponse.xml").read_bytes().replace(real_authors, authors.encode())

    (record,) = _records(data)

    assert record.authors == names


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<Identify><repositoryName>arXiv</repositoryName></Identify>", "OAI-PMH Identify"),
        (
            b"<ListIdentifiers><header><identifier>oai:arXiv.org:0704.0001</identifier>"
            b"</header></ListIdentifiers>",
            "OAI-PMH ListIdentifiers",
        ),
    ],
)
def test_responses_without_records_are_refused(body, message):
    with pytest.raises(SourceError, match=message):
        arxiv_oai.parse(OAI_HEAD + body + b"</OAI-PMH>")


def test_every_oai_response_is_recognised():
    files = sorted(FIXTURES.glob("*/*.xml"))

    assert len(files) == 11
    assert all(arxiv_oai.looks_like(path.read_bytes()) for path in files)
    assert not any(arxiv_api.looks_like(path.read_bytes()) for path in files)
    assert not any(listing.looks_like(path.read_bytes()) for path in files)


@pytest.mark.parametrize(
    "data",
    [
        DEMO_LISTING.read_bytes(),
        b'[{"paper": {"id": "2401.00001", "title": "<OAI-PMH> harvesting"}}]',
        b'{"id": "2401.00001", "title": "<OAI-PMH>"}\n{"id": "2401.00002"}\n',
        b"@article{key, title={Harvesting <OAI-PMH> repositories}}",
        b"TY  - JOUR\nTI  - <OAI-PMH> harvesting\nER  - \n",
        (FIXTURES.parent / "arxiv-api" / "2016" / "id_list=1111.2011v2.xml").read_bytes(),
        b"<feed><title>What &lt;OAI-PMH&gt; is</title></feed>",
    ],
)
def test_other_formats_are_not_recognised(data):
    assert not arxiv_oai.looks_like(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02garbage\xff", "not readable as XML"),
        (b"@article{key, title={A}}", "not readable as XML"),
        (
            (FIXTURES.parent / "arxiv-api" / "2016" / "id_list=1111.2011v2.xml").read_bytes(),
            "not <OAI-PMH>",
        ),
        (LIST_RECORDS.read_bytes()[:400], "breaks off before its records"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        arxiv_oai.parse(data)
    with pytest.raises(SourceError, match=message):
        arxiv_oai.parse_page(data)


def _parses_cleanly(data: bytes) -> None:
    try:
        items = list(arxiv_oai.parse(data))
        page = arxiv_oai.parse_page(data)
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)
    assert page.items == items


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    _parses_cleanly(data)


@settings(max_examples=200)
@given(st.data())
def test_damaged_real_responses_give_records_or_declared_errors(data):
    original = data.draw(
        st.sampled_from([LIST_RECORDS, HEPCRAWL / "unit_sample_arxiv_record.xml"])
    ).read_bytes()
    start = data.draw(st.integers(0, len(original)))
    end = data.draw(st.integers(start, min(len(original), start + 50)))
    replacement = data.draw(
        st.binary(max_size=20)
        | st.sampled_from([b"<", b"&", b"]]>", b"</record>", b' status="deleted"', b"\x00"])
    )
    truncate = data.draw(st.booleans())

    damaged = original[:start] if truncate else original[:start] + replacement + original[end:]

    _parses_cleanly(damaged)
