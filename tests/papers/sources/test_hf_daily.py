import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.sources import PaperRecord, RecordError, SourceError, hf_daily

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HF = FIXTURES / "hf-daily"
# Items per file, counted with `len(json.load(f))` on each file.
SAMPLES = {"2024-05-27": 13, "2024-11-01": 13, "2025-06-02": 20, "2025-12-01": 23}
MALFORMED = {
    "2024-12-11": 26,
    "2024-12-13": 23,
    "2024-12-17": 23,
    "2024-12-19": 18,
    "2024-12-23": 11,
    "2024-12-25": 9,
    "2024-12-27": 4,
    "2024-12-31": 13,
    "2025-01-03": 18,
    "2025-01-07": 16,
    "2025-01-09": 13,
}


def sample(day: str) -> bytes:
    return (HF / "samples" / f"{day}.json").read_bytes()


def malformed(day: str) -> bytes:
    return (HF / "malformed" / f"{day}.json").read_bytes()


def parse_items(items) -> list:
    return list(hf_daily.parse(json.dumps(items).encode()))


def an_item() -> dict:
    """The first item of the late-2025 sample, to vary one field at a time."""
    return json.loads(sample("2025-12-01"))[0]


@pytest.mark.parametrize(("day", "count"), SAMPLES.items())
def test_each_sample_gives_one_record_per_item_dated_by_its_list(day, count):
    items = list(hf_daily.parse(sample(day)))

    assert len(items) == count
    assert all(isinstance(item, PaperRecord) for item in items)
    assert [item.position for item in items] == [f"item {n}" for n in range(1, count + 1)]
    assert {item.daily_date for item in items} == {date.fromisoformat(day)}
    assert all(item.source == "hf-daily" for item in items)
    assert all(item.arxiv_id and item.title and item.authors for item in items)


def test_a_2024_item_has_the_paper_and_its_upvotes_only():
    first = next(iter(hf_daily.parse(sample("2024-05-27"))))

    assert first.arxiv_id == "2405.15738"
    assert first.arxiv_version is None
    # HF wraps titles and abstracts where arXiv did; both are collapsed.
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert first.abstract.startswith("High-resolution Large Multimodal Models (LMMs) encounter")
    assert "\n" not in first.abstract
    assert len(first.authors) == 9
    assert first.authors[:3] == ("Chunjiang Ge", "Sijie Cheng", "Ziming Wang")
    assert first.published_at == datetime(2024, 5, 24, 17, 34, 15, tzinfo=UTC)
    assert first.upvotes == 32
    assert first.github_stars is None
    assert first.keywords == ()
    # No githubRepo field yet: the repository is the one the abstract links to.
    assert first.code_url == "https://github.com/alibaba/conv-llava"
    assert first.abs_url == "https://arxiv.org/abs/2405.15738"
    assert first.pdf_url == "https://arxiv.org/pdf/2405.15738"


def test_a_late_2025_item_has_repository_stars_keywords_and_pick_date():
    first = next(iter(hf_daily.parse(sample("2025-12-01"))))

    assert first.arxiv_id == "2511.22699"
    assert first.authors[0] == "Z-Image Team"
    assert len(first.authors) == 21
    assert first.published_at == datetime(2025, 11, 27, 18, 52, 7, tzinfo=UTC)
    assert first.daily_date == date(2025, 12, 1)
    assert first.upvotes == 42
    assert first.github_stars == 2931
    assert first.code_url == "https://github.com/Tongyi-MAI/Z-Image"
    assert first.project_url == "https://tongyi-mai.github.io/Z-Image-blog/"
    assert len(first.keywords) == 11
    assert first.keywords[:3] == (
        "Scalable Single-Stream Diffusion Transformer",
        "S3-DiT",
        "diffusion transformer",
    )


def test_published_at_is_the_arxiv_time_not_the_shifted_top_level_one():
    # 2025-06-02 item 1: top-level publishedAt 13:59:01Z, paper.publishedAt 17:59:01Z.
    first = next(iter(hf_daily.parse(sample("2025-06-02"))))

    assert first.published_at == datetime(2025, 5, 30, 17, 59, 1, tzinfo=UTC)
    assert first.daily_date == date(2025, 6, 2)


def test_generations_differ_in_what_they_carry():
    by_day = {day: list(hf_daily.parse(sample(day))) for day in SAMPLES}

    assert not any(item.keywords for day in ("2024-05-27", "2024-11-01") for item in by_day[day])
    assert sum(bool(item.keywords) for item in by_day["2025-06-02"]) == 19
    assert sum(bool(item.keywords) for item in by_day["2025-12-01"]) == 23
    assert sum(item.github_stars is not None for item in by_day["2025-12-01"]) == 6
    assert all(item.github_stars is None for item in by_day["2025-06-02"])


@pytest.mark.parametrize(("day", "count"), MALFORMED.items())
def test_items_stored_as_python_reprs_are_read(day, count):
    items = list(hf_daily.parse(malformed(day)))

    assert len(items) == count
    assert all(isinstance(item, PaperRecord) for item in items)
    assert all(item.arxiv_id and item.title and item.authors for item in items)
    assert all(item.published_at.tzinfo is UTC for item in items)


def test_a_repr_item_keeps_its_fields():
    first = next(iter(hf_daily.parse(malformed("2024-12-11"))))

    assert first.arxiv_id == "2412.07730"
    assert first.title == "STIV: Scalable Text and Image Conditioned Video Generation"
    assert len(first.authors) == 17
    assert first.upvotes == 54
    assert first.daily_date == date(2024, 12, 11)


def test_papers_posted_the_evening_before_are_on_the_next_days_list():
    # 2025-01-09 item 1 was posted 2025-01-08T22:29Z; the dates come from posting times
    # here, as these items predate submittedOnDailyAt.
    days = {day: [item.daily_date for item in hf_daily.parse(malformed(day))] for day in MALFORMED}
    misses = [
        (day, number)
        for day, dated in days.items()
        for number, daily in enumerate(dated, 1)
        if daily != date.fromisoformat(day)
    ]

    assert days["2025-01-09"][0] == date(2025, 1, 9)
    # The one paper posted late on the list's own day (21:24Z) reads as the next day's.
    assert misses == [("2025-01-09", 10)]


@pytest.mark.parametrize("day", MALFORMED)
def test_a_broken_repr_among_good_ones_is_one_record_error(day):
    entries = json.loads(malformed(day))
    entries[1] = entries[1][: len(entries[1]) // 2]

    items = list(hf_daily.parse(json.dumps(entries).encode()))

    assert len(items) == MALFORMED[day]
    assert isinstance(items[1], RecordError)
    assert items[1].position == "item 2"
    assert "not a readable Python repr" in items[1].message
    assert all(isinstance(item, PaperRecord) for item in items[:1] + items[2:])


def test_a_repr_string_is_never_evaluated():
    entries = json.loads(malformed("2024-12-27"))
    entries.append("__import__('os').system('echo evaluated')")

    items = list(hf_daily.parse(json.dumps(entries).encode()))

    assert isinstance(items[-1], RecordError)
    assert items[-1].position == "item 5"


def test_the_wrapped_variant_is_read_and_its_date_names_the_list():
    # No wrapped file survived in the archive; this is the shape the collector wrote.
    entries = json.loads(sample("2024-05-27"))
    for entry in entries:
        entry["publishedAt"] = "2024-05-20T03:00:00.000Z"
    wrapped = {"status": "success", "date": "2024-05-27", "count": 13, "data": entries}

    items = list(hf_daily.parse(json.dumps(wrapped).encode()))

    assert len(items) == 13
    assert all(isinstance(item, PaperRecord) for item in items)
    assert {item.daily_date for item in items} == {date(2024, 5, 27)}


def test_the_wrapped_variant_may_hold_repr_strings():
    wrapped = {
        "status": "success",
        "date": "2025-01-09",
        "data": json.loads(malformed("2025-01-09")),
    }

    items = list(hf_daily.parse(json.dumps(wrapped).encode()))

    assert len(items) == 13
    assert {item.daily_date for item in items} == {date(2025, 1, 9)}


def test_an_item_without_a_pick_date_or_posting_time_has_no_daily_date():
    # 2025-03-11 to 03-14: no submittedOnDailyAt, and the top-level publishedAt is the
    # arXiv time four hours back rather than a posting time.
    item = an_item()
    del item["paper"]["submittedOnDailyAt"]
    item["publishedAt"] = "2025-11-27T14:52:07.000Z"
    posted = copy.deepcopy(item)
    posted["publishedAt"] = "2025-11-30T22:05:31.123Z"

    shifted_record, posted_record = parse_items([item, posted])

    assert shifted_record.daily_date is None
    assert posted_record.daily_date == date(2025, 12, 1)


def test_an_empty_list_has_no_records():
    assert list(hf_daily.parse(b"[]")) == []
    assert list(hf_daily.parse(b'{"status": "success", "date": "2024-06-01", "data": []}')) == []


def test_only_web_addresses_are_kept():
    item = an_item()
    item["paper"]["githubRepo"] = "javascript:alert(1)"
    item["paper"]["projectPage"] = " https://tongyi-mai.github.io/Z-Image-blog/"
    item["paper"]["summary"] = "Code: github.com/someone/else."
    other = an_item()
    other["paper"]["projectPage"] = "ftp://example.org/paper"
    other["paper"]["summary"] = "No links here."

    first, second = parse_items([item, other])

    # A bad githubRepo falls back to the repository the abstract names.
    assert first.code_url == "https://github.com/someone/else"
    # Real projectPage values sometimes start with a space.
    assert first.project_url == "https://tongyi-mai.github.io/Z-Image-blog/"
    assert second.project_url == ""


def test_an_id_that_is_not_arxiv_keeps_the_paper_without_arxiv_links():
    item = an_item()
    item["paper"]["id"] = "not-an-arxiv-id"

    (record,) = parse_items([item])

    assert isinstance(record, PaperRecord)
    assert record.arxiv_id is None
    assert record.abs_url == record.pdf_url == ""


def test_a_versioned_id_keeps_its_version_apart():
    item = an_item()
    item["paper"]["id"] = "2511.22699v3"

    (record,) = parse_items([item])

    assert (record.arxiv_id, record.arxiv_version) == ("2511.22699", 3)
    assert record.abs_url == "https://arxiv.org/abs/2511.22699"


def test_hidden_authors_are_kept_in_order():
    item = an_item()
    item["paper"]["authors"][1]["hidden"] = True

    (record,) = parse_items([item])

    assert record.authors[:3] == ("Z-Image Team", "Huanqia Cai", "Sihan Cao")


def without_title(item):
    del item["paper"]["title"]
    del item["title"]


def set_paper(key, value):
    def change(item):
        item["paper"][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (without_title, "no title"),
        (set_paper("title", "   "), "no title"),
        (set_paper("upvotes", "42"), "paper.upvotes should be a whole number, not a string"),
        (set_paper("upvotes", True), "paper.upvotes should be a whole number, not true or false"),
        (set_paper("githubStars", 1.5), "paper.githubStars should be a whole number, not a number"),
        (set_paper("authors", "Z-Image Team"), "paper.authors should be an array, not a string"),
        (set_paper("authors", ["Z-Image Team"]), "paper.authors should hold objects"),
        (set_paper("authors", [{"name": 7}]), "paper.authors[].name should be a string"),
        (set_paper("ai_keywords", ["ok", 3]), "paper.ai_keywords should hold strings"),
        (set_paper("publishedAt", "last Tuesday"), "paper.publishedAt is not a date"),
        (set_paper("submittedOnDailyAt", 20251201), "paper.submittedOnDailyAt should be a string"),
    ],
)
def test_an_item_with_a_wrong_field_is_a_record_error_and_the_rest_still_parse(change, message):
    bad = an_item()
    change(bad)

    good, error, also_good = parse_items([an_item(), bad, an_item()])

    assert isinstance(good, PaperRecord)
    assert isinstance(also_good, PaperRecord)
    assert error.position == "item 2"
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (42, "the item is a whole number, not an object"),
        (["paper"], "the item is an array, not an object"),
        ({"paper": None, "title": "x"}, '"paper" is null, not an object'),
        ({"paper": "2511.22699", "title": "x"}, '"paper" is a string, not an object'),
        ("{'paper': {'title': 'cut off", "the item is a string that is not a readable"),
        ("['paper', 'list']", "the item is an array, not an object"),
    ],
)
def test_an_unreadable_item_is_a_record_error(entry, message):
    items = parse_items([an_item(), entry])

    assert isinstance(items[0], PaperRecord)
    assert items[1].position == "item 2"
    assert items[1].message.startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b'[{"paper": {"title": "caf\xe9"}}]', "not UTF-8"),
        (b'[{"paper": {"title": "unterminated', "not JSON"),
        (b"Get trending papers in your email inbox once a day!\n", "not JSON"),
        (b"@article{key, title={A paper}}", "not JSON"),
        (b'"a string"', "the JSON is a string, not an array of papers"),
        (b'{"papers": []}', 'an object with a "data" array was expected'),
        (b'{"status": "error", "data": "rate limited"}', '"data" is a string, not an array'),
        (b"[1, 2, 3]", 'none of its 3 array items has a "paper" object'),
        (b'[{"id": "2401.00001", "title": "T"}]', 'none of its 1 array items has a "paper"'),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    # parse() itself raises: nothing is yielded from input that is not this format.
    with pytest.raises(SourceError, match=message):
        hf_daily.parse(data)


def test_a_source_error_is_one_line():
    with pytest.raises(SourceError) as raised:
        hf_daily.parse(b'{"status": "error", "data": "rate\\nlimited"}')

    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("path", sorted(HF.glob("*/*.json")), ids=lambda path: path.stem)
def test_every_real_file_is_recognised(path):
    assert hf_daily.looks_like(path.read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"Get trending papers in your email inbox once a day!\nA title\nAn abstract\n",
        b"@article{vaswani2017, title={Attention is all you need}}\n",
        b"TY  - JOUR\nTI  - Attention is all you need\nER  - \n",
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        b'{"id": "2503.11677", "title": "T", "authors": [], "listing_dates": ["2025-03-18"]}\n',
        b'{"id":"0704.0001","title":"T","abstract":"the \'paper\': a study","versions":[]}\n',
        b"[]",
        b"",
        b"\x1f\x8b\x08\x00",
    ],
)
def test_other_formats_are_not_taken_for_daily_papers(data):
    assert not hf_daily.looks_like(data)


def test_the_wrapped_variant_is_recognised():
    wrapped = {"status": "success", "date": "2024-05-27", "data": json.loads(sample("2024-05-27"))}

    assert hf_daily.looks_like(json.dumps(wrapped).encode())


def only_records_or_declared_errors(data: bytes) -> None:
    try:
        items = list(hf_daily.parse(data))
    except SourceError as exc:
        assert str(exc)
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    only_records_or_declared_errors(data)


def containers_of(children):
    return st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=8) | st.just("name"), children, max_size=3
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
            "2024-05-27T03:50:58.348Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+05:00",
            "https://github.com/a/b",
            "javascript:alert(1)",
            "2405.15738v2",
        ]
    ),
    containers_of,
    max_leaves=8,
)


def one_item(item) -> PaperRecord | RecordError:
    (record,) = parse_items([item])
    assert isinstance(record, PaperRecord | RecordError)
    return record


@given(st.sampled_from(sorted(an_item()["paper"])), ANY_VALUE)
def test_any_value_in_any_paper_field_gives_a_record_or_a_record_error(key, value):
    item = an_item()
    item["paper"][key] = value
    one_item(item)
    one_item(repr(item))


@given(st.sampled_from(sorted(an_item())), ANY_VALUE)
def test_any_value_in_any_item_field_gives_a_record_or_a_record_error(key, value):
    item = an_item()
    item[key] = value
    # Alone, an item whose "paper" is not an object would be refused up front.
    first, second = parse_items([an_item(), item])
    assert isinstance(first, PaperRecord)
    assert isinstance(second, PaperRecord | RecordError)


@given(ANY_VALUE, ANY_VALUE)
def test_any_author_entry_gives_a_record_or_a_record_error(entry, name):
    item = an_item()
    item["paper"]["authors"][1] = entry
    item["paper"]["authors"][2]["name"] = name
    one_item(item)


@given(st.lists(ANY_VALUE | ANY_VALUE.map(repr), max_size=4))
def test_arrays_of_anything_give_records_or_declared_errors(entries):
    only_records_or_declared_errors(json.dumps([*entries, an_item()]).encode())
    only_records_or_declared_errors(json.dumps(entries).encode())


@given(ANY_VALUE, ANY_VALUE, ANY_VALUE)
def test_wrapped_responses_of_any_shape_give_records_or_declared_errors(status, day, data):
    wrapped = {"status": status, "date": day, "data": data}
    only_records_or_declared_errors(json.dumps(wrapped).encode())
    wrapped["data"] = [an_item()]
    only_records_or_declared_errors(json.dumps(wrapped).encode())


REAL = sample("2024-05-27")


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(
    st.integers(min_value=0, max_value=len(REAL)),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(REAL) - 1), st.binary(max_size=4)),
        max_size=6,
    ),
)
def test_a_cut_or_mutated_real_file_gives_records_or_declared_errors(cut, mutations):
    data = bytearray(REAL)
    for offset, replacement in mutations:
        data[offset : offset + len(replacement)] = replacement
    only_records_or_declared_errors(bytes(data[:cut]))


REAL_REPRS = json.loads(malformed("2024-12-27"))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(
    st.integers(min_value=0, max_value=len(REAL_REPRS) - 1),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=min(map(len, REAL_REPRS)) - 1),
            st.sampled_from(["'", '"', "\\", "{", "}", "[", ",", ":", "x", " ", "(", "\x00"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_mutated_repr_item_gives_records_or_declared_errors(index, mutations):
    entries = list(REAL_REPRS)
    text = list(entries[index])
    for offset, replacement in mutations:
        text[offset] = replacement
    entries[index] = "".join(text)
    only_records_or_declared_errors(json.dumps(entries).encode())
