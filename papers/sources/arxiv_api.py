"""Atom responses of the arXiv API (`export.arxiv.org/api/query`).

Two generations of the format are read alike: the current one declares the `arxiv:` and
`opensearch:` namespaces on the feed, the 2016 one declared them again on each element.
The element names and namespace URIs are the same in both.

A query arXiv cannot run comes back (with HTTP 400) as a feed whose one entry is titled
"Error" and whose id points into arxiv.org/api/errors. That is the whole response
failing, so it raises `SourceError` carrying arXiv's own explanation.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain

from papers.sources.identifiers import arxiv_categories, normalize_doi, parse_arxiv_id
from papers.sources.records import Page, PaperRecord, RecordError, SourceError
from papers.sources.safexml import Damage, Document, Element, count_of, local_name, text_of
from papers.sources.text import squash

FORMAT = "arxiv-api"
_WHAT = "an arXiv API response"
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_SNIFF = 4096
_FEED_TAG = re.compile(rb"<(?:[\w.-]+:)?feed[\s>]")
_ERROR_ID = re.compile(r"arxiv\.org/api/errors", re.IGNORECASE)


def looks_like(data: bytes) -> bool:
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    return (
        head.startswith(b"<")
        and _FEED_TAG.search(head) is not None
        and b"http://www.w3.org/2005/Atom" in head
        and b"http://a9.com/-/spec/opensearch/1.1/" in head
    )


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    return _read(data)[1]


def parse_page(data: bytes) -> Page:
    """One page of results; `total` is opensearch:totalResults, the size of the listing.

    A page damaged half-way has a `RecordError` among its items: its entries after the
    damage are missing, so a fetcher should ask for the page again.
    """
    document, items = _read(data)
    page_items = list(items)
    total = document.root.find(f"{_OPENSEARCH}totalResults")
    return Page(items=page_items, total=count_of(text_of(total)))


def _read(data: bytes) -> tuple[Document, Iterator[PaperRecord | RecordError]]:
    document = Document(data, what=_WHAT)
    if document.root.tag != f"{_ATOM}feed":
        name = local_name(document.root)
        raise SourceError(f"not {_WHAT}: the document is <{name}>, not an Atom feed")
    entries = document.records(_is_entry)
    # Reading up to the first entry settles, before anything is imported, whether this is
    # an arXiv feed at all and whether arXiv refused the query.
    first = next(entries, None)
    if document.root.find(f"{_OPENSEARCH}totalResults") is None:
        if isinstance(first, Damage):
            raise SourceError(
                f"{_WHAT} that breaks off before its first entry, at line {first.line} "
                f"({first.message}); fetch it again"
            )
        raise SourceError(
            f"not {_WHAT}: an Atom feed without opensearch:totalResults, which arXiv always sends"
        )
    if isinstance(first, Element) and _ERROR_ID.search(text_of(first.find(f"{_ATOM}id"))):
        raise SourceError(_refusal(first))
    numbered = enumerate(chain([first] if first is not None else [], entries), 1)
    return document, (_item(entry, number) for number, entry in numbered)


def _is_entry(element: Element) -> bool:
    parent = element.getparent()
    return element.tag == f"{_ATOM}entry" and parent is not None and parent.getparent() is None


def _item(entry: Element | Damage, number: int) -> PaperRecord | RecordError:
    if isinstance(entry, Damage):
        return RecordError(
            f"line {entry.line}",
            f"the XML is broken from here on ({entry.message}); the entries before it were read, "
            "any after it were not",
        )
    position = f"entry {number} (line {entry.sourceline})"
    entry_id = squash(text_of(entry.find(f"{_ATOM}id")))
    if _ERROR_ID.search(entry_id):
        return RecordError(position, _refusal(entry))
    identity = parse_arxiv_id(entry_id)
    if identity is None:
        return RecordError(position, f"the entry id {entry_id[:200]!r} is not an arXiv address")
    arxiv_id, version = identity
    title = squash(text_of(entry.find(f"{_ATOM}title")))
    if not title:
        return RecordError(position, f"arXiv {arxiv_id} has no title")
    primary = entry.find(f"{_ARXIV}primary_category")
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [category.get("term", "") for category in entry.iterfind(f"{_ATOM}category")]
    abs_url, pdf_url = _links(entry)
    return PaperRecord(
        source=FORMAT,
        position=position,
        title=title,
        abstract=squash(text_of(entry.find(f"{_ATOM}summary"))),
        authors=tuple(
            name
            for author in entry.iterfind(f"{_ATOM}author")
            if (name := squash(text_of(author.find(f"{_ATOM}name"))))
        ),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=_doi(entry),
        categories=arxiv_categories(terms),
        comment=squash(text_of(entry.find(f"{_ARXIV}comment"))),
        journal_ref=squash(text_of(entry.find(f"{_ARXIV}journal_ref"))),
        published_at=_timestamp(text_of(entry.find(f"{_ATOM}published"))),
        updated_at=_timestamp(text_of(entry.find(f"{_ATOM}updated"))),
        abs_url=abs_url,
        pdf_url=pdf_url,
    )


def _refusal(entry: Element) -> str:
    explanation = squash(text_of(entry.find(f"{_ATOM}summary"))) or "no reason given"
    where = squash(text_of(entry.find(f"{_ATOM}id")))
    return f"arXiv refused the query: {explanation} ({where}); correct the ids or search terms"


def _doi(entry: Element) -> str | None:
    doi = normalize_doi(text_of(entry.find(f"{_ARXIV}doi")))
    if doi:
        return doi
    for link in entry.iterfind(f"{_ATOM}link"):
        if link.get("title") == "doi":
            return normalize_doi(link.get("href", ""))
    return None


def _links(entry: Element) -> tuple[str, str]:
    abs_url = pdf_url = ""
    for link in entry.iterfind(f"{_ATOM}link"):
        href = link.get("href", "").strip()
        # Only web addresses: these end up as links in pages and e-mails.
        if not href.lower().startswith(("https://", "http://")):
            continue
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf_url = pdf_url or href
        elif link.get("rel", "alternate") == "alternate":
            abs_url = abs_url or href
    return abs_url, pdf_url


def _timestamp(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
