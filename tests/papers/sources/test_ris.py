from datetime import UTC, datetime
from pathlib import Path

import pytest
import rispy
from hypothesis import given
from hypothesis import strategies as st

from papers import sources
from papers.sources import PaperRecord, RecordError, SourceError, bibtex, ris

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "ris" / "well-known-papers.ris"
DEMO = Path(__file__).resolve().parents[3] / "papers" / "demo"
DASH = "\u2013"


def fixture_items() -> list[PaperRecord | RecordError]:
    return list(ris.parse(FIXTURE.read_bytes()))


def parse(text: str) -> list[PaperRecord | RecordError]:
    return list(ris.parse(text.encode()))


def test_fixture_gives_six_records_and_the_untitled_one_as_an_error():
    items = fixture_items()

    assert [item.position for item in items] == [
        "record 1 (line 1)",
        "record 2 (line 22)",
        "record 3 (line 40)",
        "record 4 (line 54)",
        "record 5 (line 62)",
        "record 6 (line 73)",
        "record 7 (line 89)",
    ]
    assert items[4] == RecordError(
        "record 5 (line 62)", "the record has no title; add a `TI  - ` line"
    )
    assert [item.title for item in items if isinstance(item, PaperRecord)] == [
        "Deep learning",
        "Attention Is All You Need",
        "Deep Residual Learning for Image Recognition",
        "Adam: A Method for Stochastic Optimization",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
    ]


def test_a_full_journal_record():
    record = fixture_items()[0]

    assert record.source == "ris"
    assert record.authors == ("Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton")
    assert record.doi == "10.1038/nature14539"
    assert record.journal_ref == f"Nature 521(7553), 436{DASH}444 (2015)"
    assert record.published_at == datetime(2015, 5, 28, tzinfo=UTC)
    assert record.keywords == ("deep learning", "representation learning")
    assert record.abs_url == "https://doi.org/10.1038/nature14539"
    # Continuation lines are joined; a bare "&" is text.
    assert record.abstract.startswith("A review of representation learning with many layers:")
    assert record.abstract.endswith("what they achieved in vision, speech & language.")


def test_alternative_tags_and_an_arxiv_url():
    record = fixture_items()[1]

    assert record.title == "Attention Is All You Need"  # T1
    assert record.authors[-2:] == ("Łukasz Kaiser", "Illia Polosukhin")  # A1
    assert record.abstract.startswith("Sequence transduction with attention alone")  # N2
    assert (record.arxiv_id, record.arxiv_version) == ("1706.03762", 5)
    assert record.journal_ref == (
        f"Advances in Neural Information Processing Systems 30, 5998{DASH}6008 (2017)"
    )
    assert record.published_at == datetime(2017, 1, 1, tzinfo=UTC)  # Y1 2017///


def test_doi_as_address_and_code_link():
    record = fixture_items()[2]

    assert record.doi == "10.1109/cvpr.2016.90"
    assert record.code_url == "https://github.com/KaimingHe/deep-residual-networks"
    assert record.abs_url == ""


def test_arxiv_ids_from_journal_string_doi_and_notes():
    items = fixture_items()

    adam, lora, bert = items[3], items[5], items[6]
    assert adam.arxiv_id == "1412.6980"
    assert adam.journal_ref == ""  # an arXiv preprint has no venue
    assert lora.arxiv_id == "2106.09685"
    assert lora.doi is None  # the arXiv DOI only restates the id
    assert lora.published_at == datetime(2021, 6, 17, tzinfo=UTC)
    assert bert.arxiv_id == "1810.04805"
    assert bert.doi == "10.18653/v1/n19-1423"
    assert bert.published_at == datetime(2019, 6, 1, tzinfo=UTC)
    assert bert.journal_ref.startswith("Proceedings of the 2019 Conference of the North American")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["AU  - Hinton, Geoffrey E."], ("Geoffrey E. Hinton",)),
        (["AU  - King, Martin Luther, Jr."], ("Martin Luther King Jr.",)),
        (["AU  - OpenAI"], ("OpenAI",)),
        (["A1  - Doe, Jane", "A1  - Roe, Richard"], ("Jane Doe", "Richard Roe")),
        (["AU  - ", "AU  - Doe, Jane"], ("Jane Doe",)),
    ],
)
def test_author_names(lines, expected):
    [record] = parse("\n".join(["TY  - JOUR", "TI  - T", *lines, "ER  - "]))

    assert record.authors == expected


@pytest.mark.parametrize(
    ("lines", "published"),
    [
        (["PY  - 2015"], datetime(2015, 1, 1, tzinfo=UTC)),
        (["PY  - 2015/05/28/"], datetime(2015, 5, 28, tzinfo=UTC)),
        (["PY  - 2015///Spring"], datetime(2015, 1, 1, tzinfo=UTC)),
        (["PY  - 2015", "DA  - 2015/05"], datetime(2015, 5, 1, tzinfo=UTC)),
        (["PY  - 2015", "DA  - 2014/05/28"], datetime(2015, 1, 1, tzinfo=UTC)),  # not the year
        (["DA  - 2015/02/30"], datetime(2015, 2, 1, tzinfo=UTC)),
        (["PY  - 2015/13/01"], datetime(2015, 1, 1, tzinfo=UTC)),
        (["PY  - n.d."], None),
    ],
)
def test_publication_dates(lines, published):
    [record] = parse("\n".join(["TY  - JOUR", "TI  - T", *lines, "ER  - "]))

    assert record.published_at == published


def test_missing_title_and_a_record_cut_short_cost_only_themselves():
    items = parse(
        "TY  - JOUR\nTI  - First\nER  - \n"
        "TY  - JOUR\nAU  - Doe, Jane\nER  - \n"
        "TY  - JOUR\nTI  - Never closed\n"
        "TY  - JOUR\nTI  - Fourth\nER  - \n"
        "TY  - JOUR\nTI  - Cut sh"
    )

    assert [type(item).__name__ for item in items] == [
        "PaperRecord",
        "RecordError",
        "RecordError",
        "PaperRecord",
        "RecordError",
    ]
    assert items[1].message == "the record has no title; add a `TI  - ` line"
    assert items[2].position == "record 3 (line 7)"
    assert "no `ER  - ` line" in items[2].message
    assert items[4].position == "record 5 (line 12)"
    assert [items[0].title, items[3].title] == ["First", "Fourth"]


def test_input_that_crashes_rispy_on_a_whole_file_costs_nothing():
    # rispy.loads() (0.10) on either text raises: a "UK" tag clashes with the key it keeps
    # unknown tags under (TypeError), and a continuation line straight after TY is
    # appended to a field of the previous record (KeyError).
    unknown_tags = "TY  - JOUR\nUK  - x\nZZ  - y\nUK  - z\n      more\nTI  - Kept\nER  - \n"
    leaking_continuation = (
        "TY  - JOUR\nTI  - First\nAB  - x\nER  - \n"
        "TY  - JOUR\n      continued\nTI  - Second\nER  - \n"
    )
    assert [item.title for item in parse(unknown_tags)] == ["Kept"]
    assert [item.title for item in parse(leaking_continuation)] == ["First", "Second"]


def test_bom_crlf_blank_lines_and_export_header():
    data = (
        b"\xef\xbb\xbfProvider: Example Publisher\r\nContent: text/plain; charset=UTF-8\r\n\r\n"
        + FIXTURE.read_bytes().replace(b"\n", b"\r\n")
    )

    assert ris.looks_like(data)
    items = list(ris.parse(data))
    assert len(items) == 7
    assert items[0].position == "record 1 (line 4)"
    assert items[0].abstract == fixture_items()[0].abstract
    assert items[5].title == "LoRA: Low-Rank Adaptation of Large Language Models"


@pytest.mark.parametrize(
    "data",
    [
        b"TY  - JOUR\n",
        b"\xef\xbb\xbf\nTY  - JOUR\r\nTI  - A\r\n",
        b"Provider: Elsevier\nDatabase: ScienceDirect\n\nTY  - JOUR\n",
    ],
)
def test_looks_like_ris(data):
    assert ris.looks_like(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        (DEMO / "hf-papers-listing-language-models.txt").read_bytes(),
        b'[{"paper": {"id": "2401.00001", "title": "TY  - JOUR"}}]',
        b'{"id": "2401.00001", "title": "A"}\n{"id": "2401.00002", "title": "B"}\n',
        b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        b"@article{k, title = {T}}\nTY  - JOUR\n",
        b"Some notes about papers\nTY  - JOUR\n",
        b"  TY  - JOUR\n",
    ],
)
def test_looks_like_other_formats(data):
    assert not ris.looks_like(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \r\n", "the file is empty"),
        (b"TY  - JOUR\x00\x00\x01", "binary"),
        ("TY  - JOUR\nTI  - Caf\xe9\nER  - \n".encode("cp1252"), "save it as UTF-8 RIS"),
        (b'[{"paper": {"id": "2401.00001"}}]', "not RIS"),
        (b"TI  - A title but no record start\nER  - \n", "not RIS"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        ris.parse(data)


def test_ris_is_recognised_by_its_content():
    assert sources.detect(FIXTURE.read_bytes()) is ris


def test_the_other_parser_refuses_ris():
    with pytest.raises(SourceError, match="no BibTeX entries"):
        bibtex.parse(FIXTURE.read_bytes())


def test_round_trip_through_rispys_writer():
    # What a reading-list export will write; the parser must read back the same paper.
    written = rispy.dumps(
        [
            {
                "type_of_reference": "JOUR",
                "title": "Schrödinger's cat & 100% of DNA; a study",
                "authors": ["Schmidhuber, Jürgen", "Kaiser, Łukasz"],
                "journal_name": "Journal of Ünusual Results",
                "volume": "12",
                "number": "3",
                "start_page": "45",
                "end_page": "67",
                "year": "2024/03/05/",
                "doi": "10.1000/XYZ_123",
                "urls": ["https://arxiv.org/abs/2403.01234v2", "https://example.org/a_b?x=1"],
                "abstract": "One line.\nAnother line.",
                "keywords": ["cats", "quantum"],
            }
        ]
    )

    [record] = ris.parse(written.encode())

    assert record.title == "Schrödinger's cat & 100% of DNA; a study"
    assert record.authors == ("Jürgen Schmidhuber", "Łukasz Kaiser")
    assert record.journal_ref == f"Journal of Ünusual Results 12(3), 45{DASH}67 (2024)"
    assert record.published_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert record.doi == "10.1000/xyz_123"
    assert (record.arxiv_id, record.arxiv_version) == ("2403.01234", 2)
    assert record.abs_url == "https://arxiv.org/abs/2403.01234v2"
    assert record.abstract == "One line. Another line."
    assert record.keywords == ("cats", "quantum")


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    try:
        items = list(ris.parse(data))
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)


@given(
    start=st.integers(0, FIXTURE.stat().st_size - 1),
    length=st.integers(0, 3000),
    edits=st.lists(
        st.tuples(
            st.integers(0, 3000),
            st.integers(0, 40),
            st.binary(max_size=4)
            | st.sampled_from([b"TY  - ", b"ER  - ", b"UK  - ", b"\n      ", b"\r", b"AU  - ,"]),
        ),
        max_size=6,
    ),
)
def test_cut_and_mutated_ris_gives_records_or_declared_errors(start, length, edits):
    data = bytearray(FIXTURE.read_bytes()[start : start + length])
    for at, removed, inserted in edits:
        at = min(at, len(data))
        data[at : at + removed] = inserted

    try:
        items = list(ris.parse(bytes(data)))
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)
