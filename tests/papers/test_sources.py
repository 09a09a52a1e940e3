"""Format recognition across every parser, on real files and on arbitrary bytes."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers import sources
from papers.sources import PaperRecord, RecordError, SourceError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = {
    "hf-listing": ROOT / "papers" / "demo" / "hf-papers-listing-language-models.txt",
    "hf-daily": FIXTURES / "hf-daily" / "samples" / "2024-05-27.json",
    "arxiv-snapshot": FIXTURES / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz",
    "arxiv-api": FIXTURES / "arxiv-api" / "2016" / "id_list=1111.2011v2.xml",
    "arxiv-oai": FIXTURES / "arxiv-oai" / "arXivOAIHarvester-arXivRaw" / "ListRecordsResponse.xml",
    "bibtex": FIXTURES / "bibtex" / "d2l.bib",
    "ris": FIXTURES / "ris" / "well-known-papers.ris",
}


def test_every_format_has_an_example():
    assert set(EXAMPLES) == set(sources.FORMATS)


@pytest.mark.parametrize(("expected", "path"), EXAMPLES.items(), ids=list(EXAMPLES))
def test_each_real_file_is_recognised_as_its_format_only(expected, path):
    data = path.read_bytes()

    recognised = sources.detect(data).FORMAT
    claimed_by = [name for name, module in sources.FORMATS.items() if module.looks_like(data)]
    assert (recognised, claimed_by) == (expected, [expected])


def read_anything(data: bytes):
    try:
        module = sources.detect(data)
        return list(module.parse(data))
    except SourceError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_give_records_or_declared_errors(data):
    items = read_anything(data)
    assert items is None or all(isinstance(i, PaperRecord | RecordError) for i in items)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(EXAMPLES)), st.data())
def test_damaged_real_files_give_records_or_declared_errors(format, data):
    original = EXAMPLES[format].read_bytes()[:20_000]
    cut = data.draw(st.integers(0, len(original)))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, max(cut - 1, 0)), st.integers(0, 255)), max_size=5)
    )
    damaged = bytearray(original[:cut])
    for position, value in flips:
        if position < len(damaged):
            damaged[position] = value

    items = read_anything(bytes(damaged))

    assert items is None or all(isinstance(i, PaperRecord | RecordError) for i in items)
