from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papers import sources
from papers.sources import PaperRecord, RecordError, SourceError, listing
from papers.sources.text import find_links

DEMO = (
    Path(__file__).resolve().parents[2]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)
HEADER = (
    b"Get trending papers in your email inbox once a day!\n"
    b"Get trending papers in your email inbox!\n"
)


def test_demo_listing_has_294_papers():
    items = list(listing.parse(DEMO.read_bytes()))

    assert len(items) == 294
    assert all(isinstance(item, PaperRecord) for item in items)
    first = items[0]
    assert (
        first.title == "GreaseLM: Graph REASoning Enhanced Language Models for Question Answering"
    )
    assert first.abstract.startswith("Answering complex questions about textual narratives")
    assert first.position == "line 3"
    assert len({item.title for item in items}) == 294


def test_demo_listing_links():
    items = list(listing.parse(DEMO.read_bytes()))
    with_code = [item for item in items if item.code_url]

    assert len(with_code) == 51
    assert all(item.code_url.startswith("https://github.com/") for item in with_code)
    assert not any(item.code_url.endswith((".", ",", ")", ".git")) for item in with_code)


def test_listing_is_recognised_by_its_header():
    assert sources.detect(DEMO.read_bytes()) is listing
    assert listing.looks_like(b"\xef\xbb\xbf" + HEADER)
    assert not listing.looks_like(b'[{"paper": {}}]')


def test_glued_subscribe_is_removed_only_from_the_first_title():
    data = HEADER + b"SubscribeFirst paper\nAbstract one.\nSubscribers and voters\nAbstract two.\n"

    titles = [item.title for item in listing.parse(data)]

    assert titles == ["First paper", "Subscribers and voters"]


def test_a_title_without_abstract_is_a_record_error():
    data = HEADER + b"A paper\nIts abstract.\nA lonely title\n"

    items = list(listing.parse(data))

    assert isinstance(items[0], PaperRecord)
    assert items[1] == RecordError("line 5", "title without an abstract line after it")


def test_an_overlong_title_is_a_record_error_and_the_rest_still_parse():
    data = HEADER + b"x" * 600 + b"\nabstract\nGood title\nGood abstract\n"

    items = list(listing.parse(data))

    assert isinstance(items[0], RecordError)
    assert "longer than 500" in items[0].message
    assert items[1].title == "Good title"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (HEADER + b"caf\xe9\n", "not UTF-8"),
        (b'[{"paper": {"id": "2401.00001"}}]', "not a listing"),
    ],
)
def test_unreadable_input_is_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        listing.parse(data)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    try:
        items = list(listing.parse(data))
    except SourceError:
        return
    assert all(isinstance(item, PaperRecord | RecordError) for item in items)


@pytest.mark.parametrize(
    ("text", "code", "project"),
    [
        ("Code at https://github.com/a/b.", "https://github.com/a/b", ""),
        ("See github.com/MiuLab/SpokenVec for code", "https://github.com/MiuLab/SpokenVec", ""),
        ("(https://github.com/naver/gdc)", "https://github.com/naver/gdc", ""),
        (
            "https://github.com/EmpathYang/TinyHelen.git",
            "https://github.com/EmpathYang/TinyHelen",
            "",
        ),
        ("Demo: https://sites.google.com/view/lmnav", "", "https://sites.google.com/view/lmnav"),
        (
            "https://huggingface.co/x/y and https://github.com/x/y",
            "https://github.com/x/y",
            "https://huggingface.co/x/y",
        ),
        (
            "serengeti{https://github.com/UBC-NLP/serengeti}}",
            "https://github.com/UBC-NLP/serengeti",
            "",
        ),
        ("Only https://github.com/ itself", "", ""),
        ("no links, just a ratio of 3.5/4", "", ""),
    ],
)
def test_find_links(text, code, project):
    assert find_links(text) == (code, project)
