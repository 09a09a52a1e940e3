"""arXiv metadata snapshots: JSON Lines, plain or gzip-compressed, one paper a line.

Two shapes are read, told apart line by line by their keys:
- the Kaggle arXiv snapshot (`arxiv-metadata-oai-snapshot.json`): authors as one string
  plus `authors_parsed`, categories space-separated, a `versions` history;
- daily listing dumps (`id`, `title`, `authors` list, `categories` list, `abstract`,
  `comment`, `abs_url`, `pdf_url`, `listing_dates`).

Snapshots run to millions of lines, so the input is decompressed and decoded a line at a
time and records are produced lazily.
"""

import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from itertools import count
from typing import BinaryIO

from papers.sources.identifiers import arxiv_categories, normalize_doi, parse_arxiv_id
from papers.sources.jsonish import Unreadable, describe, field, strings, web_url
from papers.sources.records import PaperRecord, RecordError, SourceError, VersionRecord
from papers.sources.text import squash

FORMAT = "arxiv-snapshot"
_WHAT = "arXiv JSON Lines"
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 65536
_KAGGLE_KEYS = ("versions", "authors_parsed", "submitter", "update_date")
_LISTING_KEYS = ("listing_dates", "abs_url")
# What a damaged gzip stream raises while it is being read.
_DAMAGE = (EOFError, OSError, zlib.error)
_AUTHOR_SEPARATOR = re.compile(r",\s*(?:and\s+)?|\s+and\s+")
# The listing dumps write a missing comment as the string "None" in some rows.
_NO_COMMENT = "None"


def looks_like(data: bytes) -> bool:
    head = data[:_SNIFF]
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, _SNIFF)
        except zlib.error:
            return False
    first_line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if not first_line.startswith(b"{"):
        return False
    try:
        obj = json.loads(first_line)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and _builder(obj) is not None


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    return parse_file(io.BytesIO(data))


def parse_file(file: BinaryIO) -> Iterator[PaperRecord | RecordError]:
    """The same from an open binary file, read only as records are asked for: a snapshot
    of any size streams through in constant memory."""
    head = file.read(_SNIFF)
    file.seek(0)
    if not head or (len(head) < _SNIFF and head.isspace()):
        raise SourceError("the file is empty")
    compressed = head.startswith(_GZIP_MAGIC)
    if not compressed and b"\x00" in head:
        raise SourceError(f"the file is binary: neither gzip nor {_WHAT}")
    stream = gzip.GzipFile(fileobj=file) if compressed else file
    lines = _lines(stream)
    # The first non-empty line settles, before anything is imported, that this is a
    # snapshot at all; the lines after it are read only as records are asked for.
    number, line = _first_content_line(lines, compressed=compressed)
    first = _first_object(number, line)
    return _records(number, first, lines)


def _lines(stream) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines; a cut-off or damaged gzip stream ends with `(number, None)`."""
    for number in count(1):
        try:
            line = stream.readline()
        except _DAMAGE:
            yield number, None
            return
        if not line:
            return
        yield number, line


def _first_content_line(lines, *, compressed: bool) -> tuple[int, bytes]:
    for number, line in lines:
        if line is None:
            raise SourceError(
                "the file starts like gzip but cannot be decompressed; "
                "check that the download is complete"
            )
        if not line.isspace():
            return number, line
    raise SourceError("the file is empty once decompressed" if compressed else "the file is empty")


def _first_object(number: int, line: bytes) -> dict:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise SourceError(
            f"not {_WHAT}: line {number} is not JSON ({_json_problem(exc)})"
        ) from None
    if not isinstance(obj, dict):
        raise SourceError(f"not {_WHAT}: line {number} is {describe(obj)}, not a JSON object")
    if _builder(obj) is None:
        raise SourceError(
            f"not {_WHAT}: line {number} has neither the Kaggle snapshot's fields "
            f"({', '.join(_KAGGLE_KEYS)}) nor a listing dump's ({', '.join(_LISTING_KEYS)})"
        )
    return obj


def _records(
    first_number: int, first: dict, lines: Iterator[tuple[int, bytes | None]]
) -> Iterator[PaperRecord | RecordError]:
    yield _record(first, first_number)
    for number, line in lines:
        if line is None:
            yield RecordError(
                f"line {number}",
                "the compressed data is cut off or damaged here, so nothing from this line "
                "on could be read; download the file again to import the rest",
            )
            return
        if line.isspace():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield RecordError(f"line {number}", f"not JSON ({_json_problem(exc)})")
            continue
        if not isinstance(obj, dict):
            yield RecordError(f"line {number}", f"{describe(obj)}, not a JSON object")
            continue
        yield _record(obj, number)


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _builder(obj: dict) -> Callable[[dict, str], PaperRecord] | None:
    if not obj.keys().isdisjoint(_KAGGLE_KEYS):
        return _from_kaggle
    if not obj.keys().isdisjoint(_LISTING_KEYS):
        return _from_listing
    return None


def _record(obj: dict, number: int) -> PaperRecord | RecordError:
    position = f"line {number}"
    build = _builder(obj)
    if build is None:
        return RecordError(
            position, "neither a Kaggle snapshot record nor a listing record (unknown fields)"
        )
    try:
        return build(obj, position)
    except Unreadable as exc:
        return RecordError(position, str(exc))


def _from_listing(obj: dict, position: str) -> PaperRecord:
    arxiv_id, arxiv_version = _identity(obj)
    return PaperRecord(
        source=FORMAT,
        position=position,
        title=_title(obj),
        abstract=squash(field(obj, "abstract", str)),
        authors=strings(obj, "authors"),
        arxiv_id=arxiv_id,
        arxiv_version=arxiv_version,
        categories=arxiv_categories(field(obj, "categories", list) or ()),
        comment=_comment(field(obj, "comment", str)),
        published_at=_first_listed(obj),
        abs_url=web_url(field(obj, "abs_url", str)) or f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=web_url(field(obj, "pdf_url", str)) or f"https://arxiv.org/pdf/{arxiv_id}",
    )


def _from_kaggle(obj: dict, position: str) -> PaperRecord:
    arxiv_id, id_version = _identity(obj)
    title = _title(obj)
    versions = _versions(obj)
    return PaperRecord(
        source=FORMAT,
        position=position,
        title=title,
        abstract=squash(field(obj, "abstract", str)),
        authors=_kaggle_authors(obj),
        arxiv_id=arxiv_id,
        arxiv_version=versions[-1].number if versions else id_version,
        doi=normalize_doi(field(obj, "doi", str) or ""),
        categories=arxiv_categories((field(obj, "categories", str) or "",)),
        comment=_comment(field(obj, "comments", str)),
        journal_ref=squash(field(obj, "journal-ref", str)),
        published_at=versions[0].submitted_at if versions else None,
        updated_at=versions[-1].submitted_at if versions else None,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
        versions=versions,
    )


def _identity(obj: dict) -> tuple[str, int | None]:
    raw = field(obj, "id", str)
    if not raw or raw.isspace():
        raise Unreadable("no id")
    parsed = parse_arxiv_id(raw)
    if parsed is None:
        raise Unreadable(f"id {raw[:40]!r} is not an arXiv id")
    return parsed


def _title(obj: dict) -> str:
    title = squash(field(obj, "title", str))
    if not title:
        raise Unreadable("no title")
    return title


def _comment(value: str | None) -> str:
    comment = squash(value)
    return "" if comment == _NO_COMMENT else comment


def _first_listed(obj: dict) -> datetime | None:
    listed = field(obj, "listing_dates", list)
    if not listed:
        return None
    first = listed[0]
    try:
        day = date.fromisoformat(first)
    except (TypeError, ValueError):
        raise Unreadable(f"listing_dates starts with {str(first)[:40]!r}, not a date") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _kaggle_authors(obj: dict) -> tuple[str, ...]:
    parsed = field(obj, "authors_parsed", list)
    if not parsed:
        written = squash(field(obj, "authors", str))
        return tuple(name for name in _AUTHOR_SEPARATOR.split(written) if name)
    names = []
    for entry in parsed:
        if not isinstance(entry, list) or not all(isinstance(part, str) for part in entry):
            raise Unreadable("authors_parsed should hold [last, first, suffix] lists of strings")
        last, first, suffix = (*entry, "", "", "")[:3]
        if name := squash(f"{first} {last} {suffix}"):
            names.append(name)
    return tuple(names)


def _versions(obj: dict) -> tuple[VersionRecord, ...]:
    versions = []
    for entry in field(obj, "versions", list) or ():
        if not isinstance(entry, dict):
            raise Unreadable(f"versions should hold objects, not {describe(entry)}")
        label = entry.get("version")
        digits = label[1:] if isinstance(label, str) and label[:1] == "v" else ""
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 4):
            raise Unreadable(f"version {str(label)[:20]!r} is not like 'v2'")
        created = field(entry, "created", str, where="versions[].")
        versions.append(VersionRecord(int(digits), _created(created) if created else None))
    return tuple(sorted(versions, key=lambda version: version.number))


def _created(value: str) -> datetime:
    """arXiv's `Mon, 2 Apr 2007 19:18:42 GMT` as an aware UTC datetime."""
    try:
        moment = parsedate_to_datetime(value)
        # RFC 2822's "-0000" means no zone given; arXiv's clock is UTC.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, IndexError, OverflowError):
        raise Unreadable(f"version date {value[:40]!r} is not a date") from None
