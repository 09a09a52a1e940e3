"""RIS files, as EndNote, Zotero, Mendeley and publishers' "export citation" write them.

A record runs from a `TY  - ` line to an `ER  - ` line; every other line is `XX  - value`
or, in wrapped exports, a continuation of the line before. The records are found here
and each is handed to rispy on its own, so that one broken record is reported with its
line number and costs nobody else; rispy reads the tags.
"""

import re
from collections.abc import Iterator
from datetime import datetime

import rispy

from papers.sources import citation
from papers.sources.records import PaperRecord, RecordError, SourceError
from papers.sources.text import decode_text, squash

FORMAT = "ris"
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 4096
# The tag rule rispy applies: two characters, upper-case letter first, then "  -".
_TAG = re.compile(r"([A-Z][A-Z0-9])  -")
# Some exports open with a few "Provider: …" / "Content: …" header lines before the
# first record.
_SNIFF_HEADER = re.compile(rb"[A-Za-z][\w ]*: ")
# PY, Y1 and DA: "2015", "2015/05/28/", "2015///", "2015-05".
_DATE = re.compile(r"(\d{4})(?:[/-](\d{1,2})?(?:[/-](\d{1,2}))?)?")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# "UK" is rispy's key for the tags it does not know; a record using "UK" as a real tag
# would crash it, and unknown tags carry nothing a PaperRecord uses.
_MAPPING = {tag: name for tag, name in rispy.TAG_KEY_MAPPING.items() if tag != "UK"}
_VENUE_KEYS = (
    "alternate_title3",  # JF: the journal's full name
    "journal_name",  # JO
    "secondary_title",  # T2: journal, book or conference, by record type
    "alternate_title2",  # JA
    "alternate_title1",  # J2
)


def looks_like(data: bytes) -> bool:
    """A `TY  - ` line first, after blank lines and an export's `Name: value` header."""
    for line in data[:_SNIFF_BYTES].removeprefix(_BOM).splitlines():
        if not line.strip():
            continue
        if line.startswith(b"TY  -"):
            return True
        if not _SNIFF_HEADER.match(line):
            return False
    return False


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    text = decode_text(data, what="RIS")
    lines = _LINE_BREAK.split(text)
    spans = list(_record_spans(lines))
    if not spans:
        raise SourceError("not RIS: no record starts with a `TY  - ` line")
    return _records(lines, spans)


def _record_spans(lines: list[str]) -> Iterator[tuple[int, int, bool]]:
    """`(first, end, closed)` line indexes of each record; `closed` when it has its ER."""
    start = None
    for index, line in enumerate(lines):
        tag = _tag(line)
        if tag == "TY":
            if start is not None:
                yield start, index, False
            start = index
        elif tag == "ER" and start is not None:
            yield start, index + 1, True
            start = None
        # Lines between records (blank lines, export headers) are not part of any.
    if start is not None:
        yield start, len(lines), False


def _tag(line: str) -> str | None:
    match = _TAG.match(line)
    return match.group(1) if match else None


def _records(
    lines: list[str], spans: list[tuple[int, int, bool]]
) -> Iterator[PaperRecord | RecordError]:
    parser = rispy.RisParser(mapping=_MAPPING, skip_unknown_tags=True)
    for number, (first, end, closed) in enumerate(spans, 1):
        position = f"record {number} (line {first + 1})"
        if not closed:
            yield RecordError(
                position,
                "the record has no `ER  - ` line before the next record or the end of the "
                "file; add one (if the file was cut short, export it again)",
            )
            continue
        try:
            fields = parser.parse_lines(_unwrapped(lines[first:end]))
        except Exception as exc:
            # rispy assumes well-formed tags and fails on some odd input with whatever
            # Python raises; that costs this record, not the file.
            yield RecordError(
                position, f"rispy cannot read this record ({type(exc).__name__}: {str(exc)[:200]})"
            )
            continue
        if len(fields) != 1:
            yield RecordError(position, "rispy did not find exactly one record here")
            continue
        yield _record(fields[0], position)


def _unwrapped(lines: list[str]) -> Iterator[str]:
    """Tag lines with the continuation lines of wrapped values joined on.

    rispy can join them itself, but it appends each one to the value so far, which is
    quadratic in the length of a value wrapped over many lines.
    """
    current: list[str] = []
    for line in lines:
        if current and not _TAG.match(line):
            current.append(line.strip())
            continue
        if current:
            yield " ".join(current)
        current = [line]
    if current:
        yield " ".join(current)


def _record(fields: dict, position: str) -> PaperRecord | RecordError:
    title = _one(fields, "title") or _one(fields, "primary_title")
    if not title:
        return RecordError(position, "the record has no title; add a `TI  - ` line")
    urls = [url for url in _many(fields, "urls") if url]
    doi, doi_arxiv = citation.split_doi(_one(fields, "doi"))
    if not doi and not doi_arxiv:
        for url in urls:
            doi, doi_arxiv = citation.split_doi(url)
            if doi or doi_arxiv:
                break
    venue = next((value for key in _VENUE_KEYS if (value := _one(fields, key))), "")
    volume = _one(fields, "volume")
    arxiv = doi_arxiv or citation.arxiv_id_in(
        *urls,
        venue,
        # DBLP's form of an arXiv paper, copied by many tools: T2 CoRR, VL abs/2101.06569.
        volume.removeprefix("abs/") if citation.mentions_arxiv(venue) else "",
        *_many(fields, "notes"),
        _one(fields, "note"),
        _one(fields, "accession_number"),
    )
    year = _one(fields, "year") or _one(fields, "publication_year")
    links = citation.links(urls + _many(fields, "file_attachments1"))
    return PaperRecord(
        source=FORMAT,
        position=position,
        title=title,
        abstract=_one(fields, "abstract") or _one(fields, "notes_abstract"),
        authors=tuple(
            name
            for name in map(citation.flip_name, _many(fields, "authors", "first_authors"))
            if name
        ),
        arxiv_id=arxiv[0] if arxiv else None,
        arxiv_version=arxiv[1] if arxiv else None,
        doi=doi,
        journal_ref=citation.journal_ref(
            venue,
            volume=volume,
            number=_one(fields, "number"),
            pages=citation.page_range(_one(fields, "start_page"), _one(fields, "end_page")),
            year=year,
        ),
        published_at=_published(year, _one(fields, "date")),
        abs_url=links["abs_url"],
        pdf_url=links["pdf_url"],
        code_url=links["code_url"],
        keywords=citation.keywords(_many(fields, "keywords")),
    )


def _one(fields: dict, key: str) -> str:
    value = fields.get(key)
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    return squash(value) if isinstance(value, str) else ""


def _many(fields: dict, *keys: str) -> list[str]:
    values = []
    for key in keys:
        value = fields.get(key) or []
        values.extend(squash(item) for item in (value if isinstance(value, list) else [value]))
    return [value for value in values if value]


def _published(year: str, date: str) -> datetime | None:
    """From PY (`2015` or `2015/05/28/`), refined by DA when that names the same year."""
    stated = _date_parts(year) or _date_parts(date)
    if stated is None:
        return None
    refined = _date_parts(date)
    if stated[1] is None and refined and refined[0] == stated[0]:
        stated = refined
    return citation.publication_date(*stated)


def _date_parts(text: str) -> tuple[str, int | None, int | None] | None:
    match = _DATE.match(text)
    if not match:
        return None
    month, day = (int(part) if part else None for part in match.group(2, 3))
    if not month or month > 12:
        return match.group(1), None, None
    return match.group(1), month, day
