"""OAI-PMH responses of arXiv (`export.arxiv.org/oai2`): GetRecord and ListRecords.

Metadata formats `arXiv` (structured authors, created/updated dates), `arXivRaw` (authors
as one string, the full version history) and `oai_dc`. Elements are matched by local
name: some recorded responses lost their namespaces, or put the arXiv metadata in the
OAI namespace, and nothing else in an OAI-PMH response shares those names.

`noRecordsMatch` is OAI-PMH's way of saying "nothing new", so it is an empty result;
every other OAI-PMH error is the request failing and raises `SourceError`.
Deleted records carry no metadata and are skipped.
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from itertools import chain

from papers.sources.identifiers import arxiv_categories, normalize_doi, parse_arxiv_id
from papers.sources.records import Page, PaperRecord, RecordError, SourceError, VersionRecord
from papers.sources.safexml import (
    Damage,
    Document,
    Element,
    count_of,
    local_name,
    named_child,
    named_children,
    text_of,
)
from papers.sources.text import squash

FORMAT = "arxiv-oai"
_WHAT = "an OAI-PMH response"
_SNIFF = 4096
_ROOT_TAG = re.compile(rb"<(?:[\w.-]+:)?OAI-PMH[\s>/]")
_RECORD_VERBS = ("ListRecords", "GetRecord")
_NOTHING_NEW = "noRecordsMatch"
_PREAMBLE = ("responseDate", "request")
# What to do about the errors a harvest can meet; the server's own message says why.
_ERROR_ADVICE = {
    "badArgument": "check the request's arguments against its verb",
    "badResumptionToken": "the token has expired or was mistyped; restart the harvest",
    "badVerb": "ask for ListRecords or GetRecord",
    "cannotDisseminateFormat": "ask for metadataPrefix arXiv or arXivRaw",
    "idDoesNotExist": "check the arXiv id",
    "noSetHierarchy": "harvest without a set",
}
_VERSION = re.compile(r"v(\d{1,6})")
# arXiv lists several DOIs separated by spaces (some copies use commas or semicolons).
# A semicolon alone is not a separator: old SICI-style DOIs contain one.
_DOI_SEPARATOR = re.compile(r"\s+|[,;](?=\s*10\.\d)")
_AUTHOR_SEPARATOR = re.compile(r"\s*(?:[,;&]|\band\b)\s*")
_NAME_SUFFIX = re.compile(r"(?:Jr|Sr|II|III|IV)\.?")


def looks_like(data: bytes) -> bool:
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") and _ROOT_TAG.search(head) is not None


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    return _read(data)[1]


def parse_page(data: bytes) -> Page:
    """One OAI-PMH response and where the list goes on.

    `next_token` is the resumptionToken, None on the last page (no token, or an empty
    one); `total` is its completeListSize when the server gives one, 0 for
    noRecordsMatch. A page damaged half-way has a `RecordError` among its items and has
    lost its token, which comes last: a fetcher should ask for that page again rather
    than take it as the last one.
    """
    document, items = _read(data)
    page_items = list(items)
    if document is None:
        return Page(items=[], total=0)
    verb = _verb_element(document.root)
    token = named_child(verb, "resumptionToken") if verb is not None else None
    if token is None:
        return Page(items=page_items, complete=not document.damaged)
    return Page(
        items=page_items,
        total=count_of(token.get("completeListSize", "")),
        next_token=squash(text_of(token)) or None,
        complete=not document.damaged,
    )


def _read(data: bytes) -> tuple[Document | None, Iterator[PaperRecord | RecordError]]:
    document = Document(data, what=_WHAT)
    root = document.root
    if local_name(root) != "OAI-PMH":
        raise SourceError(f"not {_WHAT}: the document is <{local_name(root)}>, not <OAI-PMH>")
    records = document.records(_is_record)
    # Errors and the verb come before the first record: reading up to it settles
    # whether there is anything to import before anything is imported.
    first = next(records, None)
    errors = named_children(root, "error")
    if errors:
        _raise_for(errors)
        return None, iter(())
    if _verb_element(root) is None:
        if isinstance(first, Damage):
            raise SourceError(
                f"{_WHAT} that breaks off before its records, at line {first.line} "
                f"({first.message}); fetch it again"
            )
        verbs = [name for child in root if (name := local_name(child)) not in _PREAMBLE]
        kind = f"an OAI-PMH {verbs[0]} response" if verbs else f"{_WHAT} without a verb"
        raise SourceError(
            f"{kind}, which has no records to import; harvest with verb=ListRecords or GetRecord"
        )
    numbered = enumerate(chain([first] if first is not None else [], records), 1)
    items = (_item(record, number) for number, record in numbered)
    return document, (item for item in items if item is not None)


def _raise_for(errors: list[Element]) -> None:
    failures = []
    for error in errors:
        code = error.get("code", "").strip() or "unknown"
        if code == _NOTHING_NEW:
            continue
        message = squash(text_of(error)) or "no message"
        advice = _ERROR_ADVICE.get(code)
        failures.append(f"{code}: {message}" + (f" ({advice})" if advice else ""))
    if failures:
        raise SourceError("the OAI-PMH server answered with an error: " + "; ".join(failures))


def _verb_element(root: Element) -> Element | None:
    for child in root:
        if local_name(child) in _RECORD_VERBS:
            return child
    return None


def _is_record(element: Element) -> bool:
    parent = element.getparent()
    return (
        local_name(element) == "record"
        and parent is not None
        and local_name(parent) in _RECORD_VERBS
    )


def _item(record: Element | Damage, number: int) -> PaperRecord | RecordError | None:
    if isinstance(record, Damage):
        return RecordError(
            f"line {record.line}",
            f"the XML is broken from here on ({record.message}); the records before it were read, "
            "any after it were not",
        )
    position = f"record {number} (line {record.sourceline})"
    header = named_child(record, "header")
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = named_child(record, "metadata")
    body = next(iter(metadata), None) if metadata is not None else None
    if body is None:
        return RecordError(position, "a record without metadata")
    reader = _READERS.get(local_name(body))
    if reader is None:
        return RecordError(
            position,
            f"metadata format <{local_name(body)}> is not read here; "
            "harvest with metadataPrefix arXiv or arXivRaw",
        )
    oai_id = squash(text_of(named_child(header, "identifier") if header is not None else None))
    return reader(body, position, oai_id)


def _arxiv(body: Element, position: str, oai_id: str) -> PaperRecord | RecordError:
    fields = _common(body, position, oai_id)
    if isinstance(fields, RecordError):
        return fields
    authors = named_child(body, "authors")
    created = _day(text_of(named_child(body, "created")))
    return PaperRecord(
        **fields,
        authors=tuple(
            name
            for author in (named_children(authors, "author") if authors is not None else [])
            if (name := _author_name(author))
        ),
        published_at=created,
        # arXiv leaves <updated> out while a paper has one version, dated `created`.
        updated_at=_day(text_of(named_child(body, "updated"))) or created,
    )


def _arxiv_raw(body: Element, position: str, oai_id: str) -> PaperRecord | RecordError:
    fields = _common(body, position, oai_id)
    if isinstance(fields, RecordError):
        return fields
    versions = sorted(
        (version for element in named_children(body, "version") if (version := _version(element))),
        key=lambda version: version.number,
    )
    first = next((version for version in versions if version.number == 1), None)
    return PaperRecord(
        **fields,
        authors=_split_authors(text_of(named_child(body, "authors"))),
        arxiv_version=versions[-1].number if versions else None,
        published_at=(first or versions[0]).submitted_at if versions else None,
        updated_at=versions[-1].submitted_at if versions else None,
        versions=tuple(versions),
    )


def _dublin_core(body: Element, position: str, oai_id: str) -> PaperRecord | RecordError:
    identifiers = [squash(text_of(element)) for element in named_children(body, "identifier")]
    identity = next(
        (found for text in [*identifiers, oai_id] if (found := parse_arxiv_id(text))), None
    )
    if identity is None:
        return RecordError(position, "a record without an arXiv id")
    title = squash(text_of(named_child(body, "title")))
    if not title:
        return RecordError(position, f"arXiv {identity[0]} has no title")
    descriptions = [squash(text_of(element)) for element in named_children(body, "description")]
    comments = [text for text in descriptions if text.startswith("Comment:")]
    # One dc:date per version, so the earliest is v1 and the latest the newest version.
    days = sorted(
        day for element in named_children(body, "date") if (day := _day(text_of(element)))
    )
    return PaperRecord(
        source=FORMAT,
        position=position,
        title=title,
        abstract=next((text for text in descriptions if text and text not in comments), ""),
        authors=tuple(
            name
            for element in named_children(body, "creator")
            if (name := _inverted_name(squash(text_of(element))))
        ),
        arxiv_id=identity[0],
        doi=next((doi for text in identifiers if (doi := normalize_doi(text))), None),
        comment=comments[0].removeprefix("Comment:").strip() if comments else "",
        published_at=days[0] if days else None,
        updated_at=days[-1] if days else None,
    )


_READERS = {"arXiv": _arxiv, "arXivRaw": _arxiv_raw, "dc": _dublin_core}


def _common(body: Element, position: str, oai_id: str) -> dict | RecordError:
    """The fields `arXiv` and `arXivRaw` share, or why the record cannot be taken."""
    identity = parse_arxiv_id(squash(text_of(named_child(body, "id")))) or parse_arxiv_id(oai_id)
    if identity is None:
        return RecordError(position, "a record without an arXiv id")
    title = squash(text_of(named_child(body, "title")))
    if not title:
        return RecordError(position, f"arXiv {identity[0]} has no title")
    return {
        "source": FORMAT,
        "position": position,
        "title": title,
        "abstract": squash(text_of(named_child(body, "abstract"))),
        "arxiv_id": identity[0],
        "doi": _first_doi(text_of(named_child(body, "doi"))),
        "categories": arxiv_categories(text_of(named_child(body, "categories")).split()),
        "comment": squash(text_of(named_child(body, "comments"))),
        "journal_ref": squash(text_of(named_child(body, "journal-ref"))),
    }


def _author_name(author: Element) -> str:
    # Collaborations sometimes come as several keynames, or as a lone ":" between them.
    parts = [text_of(part) for part in named_children(author, "forenames")]
    parts += [text_of(part) for part in named_children(author, "keyname")]
    parts += [text_of(part) for part in named_children(author, "suffix")]
    name = squash(" ".join(parts))
    return name if any(character.isalnum() for character in name) else ""


def _split_authors(text: str) -> tuple[str, ...]:
    """arXivRaw's "A. One, B. Two (Univ X) and C. Three" as a list of names."""
    names: list[str] = []
    for part in _AUTHOR_SEPARATOR.split(_without_parentheses(text)):
        name = squash(part)
        if not any(character.isalnum() for character in name):
            continue
        if names and _NAME_SUFFIX.fullmatch(name):
            names[-1] = f"{names[-1]} {name}"
        else:
            names.append(name)
    return tuple(names)


def _without_parentheses(text: str) -> str:
    """Text outside parentheses: arXiv puts affiliations there, and commas within them."""
    kept: list[str] = []
    depth = 0
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(character)
    # An unclosed parenthesis would swallow the rest of the names; keep them instead.
    return "".join(kept) if depth == 0 else text


def _inverted_name(name: str) -> str:
    family, comma, given = name.partition(",")
    return squash(f"{given} {family}") if comma else name


def _version(element: Element) -> VersionRecord | None:
    match = _VERSION.fullmatch(element.get("version", "").strip())
    if not match:
        return None
    return VersionRecord(
        number=int(match.group(1)),
        submitted_at=_email_date(text_of(named_child(element, "date"))),
        size=squash(text_of(named_child(element, "size"))),
    )


def _first_doi(text: str) -> str | None:
    for part in _DOI_SEPARATOR.split(text):
        if doi := normalize_doi(part):
            return doi
    return None


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=UTC)
    except ValueError:
        return None


def _email_date(text: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None
