import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.sources import PaperRecord, RecordError, SourceError, snapshot
from papers.sources.records import VersionRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIRST_200 = (FIXTURES / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz").read_bytes()
QUIRKS = (FIXTURES / "arxiv-cs" / "quirks.jsonl").read_bytes()
KAGGLE = (FIXTURES / "arxiv-kaggle" / "kaggle-snapshot.jsonl").read_bytes()


def compress(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def parse_lines(*objects) -> list:
    lines = (obj if isinstance(obj, str) else json.dumps(obj) for obj in objects)
    return list(snapshot.parse("\n".join(lines).encode() + b"\n"))


def kaggle_rows() -> list[dict]:
    return [json.loads(line) for line in KAGGLE.splitlines()]


def listing_row() -> dict:
    return json.loads(gzip.decompress(FIRST_200).split(b"\n", 1)[0])


def test_the_listing_slice_gives_200_records_in_line_order():
    items = list(snapshot.parse(FIRST_200))

    assert len(items) == 200
    assert all(isinstance(item, PaperRecord) for item in items)
    assert [item.position for item in items] == [f"line {n}" for n in range(1, 201)]
    assert len({item.arxiv_id for item in items}) == 200
    assert all(item.source == "arxiv-snapshot" for item in items)


def test_a_listing_record_keeps_its_fields():
    first = next(iter(snapshot.parse(FIRST_200)))

    assert first.arxiv_id == "2503.11677"
    assert first.arxiv_version is None
    assert first.title == (
        "Simulation of prosthetic vision with PRIMA system and enhancement of face representation"
    )
    assert first.authors == (
        "Jungyeon Park",
        "Anna Kochnev Goldstein",
        "Yueming Zhou",
        "Nathan Jensen",
        "Daniel Palanker",
    )
    assert first.categories == ("cs.HC", "cs.CV")
    # arXiv's hard line breaks are gone from the abstract.
    assert first.abstract.startswith("Objective. Patients implanted with the PRIMA photovoltaic")
    assert "\n" not in first.abstract and "  " not in first.abstract
    assert first.comment == ""
    assert first.published_at == datetime(2025, 3, 18, tzinfo=UTC)
    assert first.updated_at is None
    assert first.abs_url == "https://arxiv.org/abs/2503.11677"
    assert first.pdf_url == "https://arxiv.org/pdf/2503.11677"


def test_plain_and_gzip_input_give_the_same_records():
    plain = gzip.decompress(FIRST_200)

    assert list(snapshot.parse(plain)) == list(snapshot.parse(FIRST_200))
    assert list(snapshot.parse(compress(QUIRKS))) == list(snapshot.parse(QUIRKS))


def test_null_comments_are_empty_and_real_ones_kept():
    items = list(snapshot.parse(FIRST_200))

    # 106 of the 200 lines have "comment": null (counted with json.loads on each line).
    assert sum(item.comment == "" for item in items) == 106
    assert items[27].comment.startswith("11 pages, 13 figures")


def test_the_string_none_is_no_comment():
    items = {item.arxiv_id: item for item in snapshot.parse(QUIRKS)}

    assert items["2504.19839"].comment == ""
    assert items["2510.18988"].comment == ""


@pytest.mark.parametrize(
    ("arxiv_id", "categories"),
    [
        # MSC codes and ACM classes, each group in one entry.
        ("2503.11954", ("eess.IV", "cs.AI", "cs.CV", "cs.IT", "cs.LG", "math.IT")),
        ("2503.14513", ("cs.CV", "cs.AI", "eess.IV")),  # "A.I"
        # Free-text descriptions whose lower-case words look like category names.
        ("2504.18380", ("cs.SE", "cs.AI", "cs.GR", "cs.HC")),
        ("2505.11177", ("cs.CL", "cs.AI")),
        # Two categories in one entry, comma-separated; the primary stays first.
        ("2508.01712", ("cs.CV", "cs.AI", "cs.MM")),
    ],
)
def test_only_arxiv_categories_are_kept(arxiv_id, categories):
    items = {item.arxiv_id: item for item in snapshot.parse(QUIRKS)}

    assert items[arxiv_id].categories == categories


def test_class_strings_in_the_slice_are_filtered():
    items = list(snapshot.parse(FIRST_200))

    # Lines 28, 76, 88 and 187 carry MSC/ACM class strings among their categories.
    assert items[75].categories == ("cs.RO", "cs.CV")
    assert items[87].categories == ("cs.CV",)
    assert items[186].categories == ("cs.CV", "cs.AI", "cs.LG", "eess.IV", "stat.ML")
    assert all(category[0].islower() for item in items for category in item.categories)


def test_kaggle_snapshot_lines_give_versions_and_publication_details():
    first, second = snapshot.parse(KAGGLE)

    assert first.arxiv_id == "0704.0001"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    # authors_parsed has the accents decoded; the authors string keeps TeX.
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert first.abstract.startswith("A fully differential calculation in perturbative")
    assert first.versions == (
        VersionRecord(1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        VersionRecord(2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)),
    )
    assert first.arxiv_version == 2
    assert first.published_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert first.updated_at == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert first.doi == "10.1103/physrevd.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comment == "37 pages, 15 figures; published version"
    assert first.categories == ("hep-ph",)
    assert first.abs_url == "https://arxiv.org/abs/0704.0001"

    assert second.arxiv_id == "hep-th/9901001"
    assert second.arxiv_version == 3
    assert second.authors == ("Yosuke Imamura",)
    assert second.published_at == datetime(1999, 1, 1, 1, 1, 10, tzinfo=UTC)
    assert second.updated_at == datetime(1999, 5, 10, 4, 45, 54, tzinfo=UTC)
    assert second.pdf_url == "https://arxiv.org/pdf/hep-th/9901001"


def test_kaggle_authors_come_from_the_string_when_not_parsed():
    row = kaggle_rows()[0]
    del row["authors_parsed"]
    other = dict(row, authors="Ann Author, Bob Writer and Cy Coder")

    first, second = parse_lines(row, other)

    assert first.authors == ("C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert second.authors == ("Ann Author", "Bob Writer", "Cy Coder")


def test_a_kaggle_suffix_follows_the_name():
    row = dict(kaggle_rows()[1], authors_parsed=[["King", "Martin Luther", "Jr"], ["Solo"]])

    (record,) = parse_lines(row)

    assert record.authors == ("Martin Luther King Jr", "Solo")


def test_both_shapes_may_share_a_file():
    data = compress(KAGGLE + QUIRKS)

    items = list(snapshot.parse(data))

    assert len(items) == 9
    assert [item.arxiv_id for item in items[:3]] == ["0704.0001", "hep-th/9901001", "2503.11954"]
    assert items[0].versions and not items[2].versions


def test_a_truncated_gzip_stream_keeps_what_came_before_as_records():
    cut = FIRST_200[: len(FIRST_200) // 2]

    items = list(snapshot.parse(cut))

    *records, damage = items
    assert records and all(isinstance(item, PaperRecord) for item in records)
    assert records == list(snapshot.parse(FIRST_200))[: len(records)]
    assert isinstance(damage, RecordError)
    assert damage.position == f"line {len(records) + 1}"
    assert "cut off or damaged" in damage.message


@pytest.mark.parametrize("missing", [1, 4, 8, 500, len(FIRST_200) - 2000])
def test_any_cut_of_a_gzip_stream_is_one_record_error_at_the_end(missing):
    items = list(snapshot.parse(FIRST_200[:-missing]))

    errors = [item for item in items if isinstance(item, RecordError)]
    assert errors == [items[-1]]


def test_garbage_after_a_gzip_stream_is_one_record_error():
    items = list(snapshot.parse(FIRST_200 + b"not gzip at all"))

    assert len(items) == 201
    assert isinstance(items[-1], RecordError)


def test_bad_lines_are_record_errors_and_the_rest_still_come_through():
    row = listing_row()
    items = parse_lines(
        row,
        "{not json",
        "[1, 2]",
        "",
        {k: v for k, v in row.items() if k != "id"},
        dict(row, title=" \n "),
        dict(row, id="not an id"),
        dict(row, authors="Jungyeon Park"),
        dict(row, listing_dates=["18 March"]),
        {"id": "2503.11677", "title": "Unknown shape"},
        dict(kaggle_rows()[0], versions=[{"version": "first"}]),
        dict(kaggle_rows()[0], versions=[{"version": "v1", "created": "yesterday"}]),
        dict(kaggle_rows()[0], authors_parsed=["Balázs, C."]),
        dict(kaggle_rows()[0], versions=[{"version": "v1", "created": 1175541522}]),
        dict(kaggle_rows()[0], categories=["hep-ph"]),
        row,
    )

    assert [(item.position, getattr(item, "message", "record")) for item in items] == [
        ("line 1", "record"),
        ("line 2", "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("line 3", "an array, not a JSON object"),
        ("line 5", "no id"),
        ("line 6", "no title"),
        ("line 7", "id 'not an id' is not an arXiv id"),
        ("line 8", "authors should be an array, not a string"),
        ("line 9", "listing_dates starts with '18 March', not a date"),
        ("line 10", "neither a Kaggle snapshot record nor a listing record (unknown fields)"),
        ("line 11", "version 'first' is not like 'v2'"),
        ("line 12", "version date 'yesterday' is not a date"),
        ("line 13", "authors_parsed should hold [last, first, suffix] lists of strings"),
        ("line 14", "versions[].created should be a string, not a whole number"),
        ("line 15", "categories should be a string, not an array"),
        ("line 16", "record"),
    ]


def test_a_line_that_is_not_utf8_is_a_record_error():
    data = QUIRKS + b'{"id": "2503.11677", "title": "caf\xe9"}\n' + QUIRKS

    items = list(snapshot.parse(data))

    assert items[7] == RecordError("line 8", "not JSON (not UTF-8 text)")
    assert len(items) == 15


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\n \n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"\x1f\x8b\x08\x00garbage that is not deflate", "cannot be decompressed"),
        (b"\x1f\x8b", "cannot be decompressed"),
        (compress(b""), "empty once decompressed"),
        (compress(b"id,title\n2503.11677,A paper\n"), "line 1 is not JSON"),
        (b"hello\n", "line 1 is not JSON"),
        (b'\n\n["2503.11677"]\n', "line 3 is an array, not a JSON object"),
        (b'{"id": "2503.11677", "title": "T"}\n', "neither the Kaggle snapshot's fields"),
        (b'{"status": "ok", "data": [{"paper": {}}]}\n', "neither the Kaggle snapshot's fields"),
        (b"\xff\xfe{\x00", "binary"),
        (b'{"title": "caf\xe9", "versions": []}\n', "not UTF-8"),
        (b"[" * 100_000, "line 1 is not JSON"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    # parse() itself raises: nothing is yielded from input that is not this format.
    with pytest.raises(SourceError, match=message):
        snapshot.parse(data)


def test_the_real_hf_daily_format_is_refused():
    hf = (FIXTURES / "hf-daily" / "samples" / "2024-05-27.json").read_bytes()

    with pytest.raises(SourceError, match="line 1 is not JSON"):
        snapshot.parse(hf)


def test_records_are_produced_lazily():
    # A damaged stream still gives its first record before the damage is reached.
    items = snapshot.parse(FIRST_200[:60_000])

    assert isinstance(items, Iterator)
    assert next(items).arxiv_id == "2503.11677"


@pytest.mark.parametrize("data", [gzip.decompress(FIRST_200), QUIRKS, KAGGLE])
def test_snapshots_are_recognised(data):
    assert snapshot.looks_like(data)
    assert snapshot.looks_like(compress(data))


def test_a_stream_cut_before_its_first_line_ends_is_refused():
    with pytest.raises(SourceError, match="cannot be decompressed"):
        snapshot.parse(FIRST_200[:200])


@pytest.mark.parametrize(
    "data",
    [
        b"Get trending papers in your email inbox once a day!\nA title\nAn abstract\n",
        b"@article{vaswani2017, title={Attention is all you need}}\n",
        b"TY  - JOUR\nTI  - Attention is all you need\nER  - \n",
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        (FIXTURES / "hf-daily" / "samples" / "2025-12-01.json").read_bytes(),
        b'[{"paper": {"id": "2405.15738", "title": "T"}}]',
        b'{"status": "ok", "date": "2024-05-27", "data": [{"paper": {}}]}',
        compress(b"2024-05-27.json\x00\x00\x00tar header"),
        b"",
        b"\x1f\x8b\x08\x00",
    ],
)
def test_other_formats_are_not_taken_for_snapshots(data):
    assert not snapshot.looks_like(data)


def only_records_or_declared_errors(data: bytes) -> None:
    try:
        items = list(snapshot.parse(data))
    except SourceError as exc:
        assert str(exc)
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    only_records_or_declared_errors(data)


@given(st.binary(max_size=2000))
def test_arbitrary_compressed_bytes_give_records_or_declared_errors(data):
    only_records_or_declared_errors(compress(data))


def containers_of(children):
    return st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=8), children, max_size=3
    )


# Any JSON value, often one of the strings the fields of this format hold.
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "v2",
            "hep-th/9901001v2",
            "Mon, 2 Apr 2007 19:18:42 GMT",
            "Fri, 31 Dec 9999 23:59:59 -1200",
            "2025-03-18",
            "None",
            "cs.CL 68T50, I.2.7",
            "https://arxiv.org/abs/1",
        ]
    ),
    containers_of,
    max_leaves=8,
)


def one_item(row: dict) -> PaperRecord | RecordError:
    (item,) = parse_lines(row)
    assert isinstance(item, PaperRecord | RecordError)
    return item


@given(st.sampled_from(sorted(kaggle_rows()[0])), ANY_VALUE)
def test_any_value_in_any_kaggle_field_gives_a_record_or_a_record_error(key, value):
    one_item(dict(kaggle_rows()[0], **{key: value}))


@given(st.sampled_from(["v1", "v3", "v", "v٣", "v99999"]) | ANY_VALUE, ANY_VALUE)
def test_any_version_entry_gives_a_record_or_a_record_error(label, created):
    row = kaggle_rows()[0]
    row["versions"].append({"version": label, "created": created})
    one_item(row)


@given(st.lists(ANY_VALUE, max_size=4))
def test_any_authors_parsed_entry_gives_a_record_or_a_record_error(entry):
    one_item(dict(kaggle_rows()[0], authors_parsed=[["Berger", "E. L.", ""], entry]))


@given(st.sampled_from(sorted(listing_row())), ANY_VALUE)
def test_any_value_in_any_listing_field_gives_a_record_or_a_record_error(key, value):
    one_item(dict(listing_row(), **{key: value}))


@given(
    st.lists(
        st.dictionaries(st.sampled_from([*kaggle_rows()[0], *listing_row()]), ANY_VALUE)
        | ANY_VALUE,
        min_size=1,
        max_size=4,
    )
)
def test_lines_of_any_shape_give_records_or_declared_errors(objects):
    only_records_or_declared_errors(b"\n".join(json.dumps(obj).encode() for obj in objects))


REAL = gzip.decompress(FIRST_200)[:40_000] + KAGGLE


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(
    st.booleans(),
    st.integers(min_value=0, max_value=len(REAL)),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(REAL) - 1), st.binary(max_size=4)),
        max_size=6,
    ),
)
def test_a_cut_or_mutated_real_file_gives_records_or_declared_errors(compressed, cut, mutations):
    data = bytearray(compress(REAL) if compressed else REAL)
    for offset, replacement in mutations:
        offset %= len(data)
        data[offset : offset + len(replacement)] = replacement
    only_records_or_declared_errors(bytes(data[:cut]))
