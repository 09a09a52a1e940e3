from pathlib import Path

import pytest

from papers.sources import arxiv_api, arxiv_oai
from papers.sources.records import SourceError
from papers.sources.safexml import Damage, Document, local_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LIST_RECORDS = FIXTURES / "arxiv-oai" / "arXivOAIHarvester-arXivRaw" / "ListRecordsResponse.xml"

# Eleven levels of ten: 10**11 "lol"s if anything ever expanded it.
_LEVELS = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 12))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY l0 "lol">{_LEVELS}]>'
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
    "<opensearch:totalResults>1</opensearch:totalResults>"
    "<entry><id>http://arxiv.org/abs/2401.00001v1</id><title>&l11;</title></entry></feed>"
).encode()


def _is_child_of_root(element):
    parent = element.getparent()
    return parent is not None and parent.getparent() is None


def _external_entity_feed(system_id: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY secret SYSTEM "{system_id}">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        "<opensearch:totalResults>1</opensearch:totalResults>"
        "<entry><id>http://arxiv.org/abs/2401.00001v1</id><title>T &secret;</title>"
        "<summary>&secret;</summary></entry></feed>"
    ).encode()


@pytest.mark.parametrize("module", [arxiv_api, arxiv_oai])
def test_an_entity_bomb_is_refused_unexpanded(module):
    with pytest.raises(SourceError, match="DOCTYPE") as refused:
        module.parse(BILLION_LAUGHS)

    assert "lol" not in str(refused.value)


def test_an_entity_bomb_is_refused_by_the_document_reader_itself():
    with pytest.raises(SourceError, match="refused unread"):
        Document(BILLION_LAUGHS, what="a test document")


@pytest.mark.parametrize("module", [arxiv_api, arxiv_oai])
def test_an_external_file_entity_is_never_read(module, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4f1c9e")
    data = _external_entity_feed(secret.as_uri())

    with pytest.raises(SourceError, match="DOCTYPE") as refused:
        list(module.parse(data))

    assert "TOP-SECRET" not in str(refused.value)


def test_an_external_file_entity_is_not_expanded_even_inside_the_reader(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4f1c9e")
    data = _external_entity_feed(secret.as_uri())

    with pytest.raises(SourceError) as refused:
        Document(data, what="a test document")

    assert "TOP-SECRET" not in repr(refused.value)


def test_no_external_dtd_or_entity_is_fetched(httpserver):
    httpserver.expect_request("/evil.dtd").respond_with_data('<!ENTITY x "fetched">')
    httpserver.expect_request("/entity").respond_with_data("fetched")
    documents = [
        f'<!DOCTYPE feed SYSTEM "{httpserver.url_for("/evil.dtd")}"><feed/>'.encode(),
        _external_entity_feed(httpserver.url_for("/entity")),
        (
            f'<!DOCTYPE feed [<!ENTITY % p SYSTEM "{httpserver.url_for("/evil.dtd")}"> %p;]>'
            "<feed>&x;</feed>"
        ).encode(),
    ]

    for data in documents:
        with pytest.raises(SourceError):
            list(arxiv_api.parse(data))
        with pytest.raises(SourceError):
            list(arxiv_oai.parse(data))

    assert httpserver.log == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \n\t", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not readable as XML"),
        (b'{"paper": {"id": "2401.00001"}}', "not readable as XML"),
        (b'<?xml version="1.0"?>', "not readable as XML"),
        (b"<!DOCTYPE html><html><body><p>Rate limited</p></body></html>", "HTML page"),
        (b"<html><head><meta charset=utf-8></head></html>", "HTML page"),
    ],
)
def test_unreadable_documents_are_refused_up_front(data, message):
    with pytest.raises(SourceError, match=message):
        Document(data, what="a test document")


def test_records_before_the_damage_come_through_and_the_damage_has_its_line():
    data = b"<list>\n<item>1</item>\n<item>2</item>\n<item>3<broken</item>\n<item>4</item>\n</list>"

    items = [
        item if isinstance(item, Damage) else item.text
        for item in Document(data, what="a list").records(_is_child_of_root)
    ]

    assert items[:-1] == ["1", "2"]
    assert isinstance(items[-1], Damage)
    assert items[-1].line == 4


def test_a_truncated_document_reports_where_it_ends():
    data = LIST_RECORDS.read_bytes()
    cut = data.index(b"<record>", data.index(b"<record>") + 1) + 40

    document = Document(data[:cut], what="an OAI-PMH response")
    items = list(document.records(lambda element: local_name(element) == "record"))

    assert len(items) == 2
    assert local_name(items[0]) == "record"
    assert items[1].line == data[:cut].count(b"\n") + 1


def test_records_across_chunks_keep_their_lines_and_finished_ones_are_dropped():
    body = b"".join(b"<item>%d</item>\n" % number for number in range(20_000))
    data = b"<list>\n" + body + b"</list>\n"
    assert len(data) > 4 * 64 * 1024
    document = Document(data, what="a list")

    lines, held = [], 0
    for item in document.records(_is_child_of_root):
        lines.append(item.sourceline)
        held = max(held, len(document.root))

    assert lines == list(range(2, 20_002))
    # The parser runs a chunk ahead; what was read before is gone.
    assert held < 10_000
