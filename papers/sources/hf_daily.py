"""Hugging Face daily papers: the JSON of `GET /api/daily_papers?date=YYYY-MM-DD`.

An array with one item per paper on that day's list, `{"paper": {...}, "publishedAt",
"title", "numComments", ...}`. The format grew over time: 2024 items carry the paper's id,
authors, arXiv date, title, summary and upvotes; 2025 adds the GitHub repository and its
stars, a project page, AI keywords and `submittedOnDailyAt`. Two damaged variants that a
collector of these responses wrote are read too: items stored as Python `repr` strings,
and the array wrapped in `{"status", "date", "count", "data": [...]}`.
"""

import ast
import json
import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from papers.sources.identifiers import parse_arxiv_id
from papers.sources.jsonish import Unreadable, describe, field, strings, utc_datetime, web_url
from papers.sources.records import PaperRecord, RecordError, SourceError
from papers.sources.text import decode_text, find_links, squash

FORMAT = "hf-daily"
_WHAT = "a Hugging Face daily papers response"
_SNIFF = 4096
_ITEM_KEY = re.compile(rb"""["']paper["']\s*:""")
# A repr string longer than this is not one paper; refuse it before parsing it.
MAX_REPR = 1_000_000
# Since March 2025 an item's top-level publishedAt is the arXiv time rendered in US
# Eastern time but labelled UTC, i.e. paper.publishedAt minus 4 or 5 whole hours.
_SHIFT_LIMIT = timedelta(hours=12)
# Curators post a day's list from the evening before. In the 2024-25 archive, postings
# from 21:30 UTC on are on the next day's list and none after 16:02 UTC is: 18:00 UTC
# splits that gap.
_NEXT_LIST_LEAD = timedelta(hours=6)


def looks_like(data: bytes) -> bool:
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return b'"data"' in head and _ITEM_KEY.search(head) is not None
    return head.startswith(b"[") and _ITEM_KEY.search(head) is not None


def parse(data: bytes, *, list_day: date | None = None) -> Iterator[PaperRecord | RecordError]:
    """`list_day`: the date the list was asked for, when known; it settles each item's
    daily date better than the timestamps of the older generations do."""
    text = decode_text(data, what="Hugging Face daily papers JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); expected {_WHAT}"
        ) from None
    except RecursionError:
        raise SourceError(f"not {_WHAT}: the JSON is nested too deeply") from None
    entries, stated_day = _entries(document)
    return _records(entries, list_day or stated_day)


def _entries(document) -> tuple[list, date | None]:
    """The array of items and, for the wrapped variant, the list's date it states."""
    list_day = None
    if isinstance(document, dict):
        if "data" not in document:
            keys = ", ".join(sorted(map(str, document))[:8]) or "none"
            raise SourceError(
                f"not {_WHAT}: a JSON object with keys {keys}, where an array of papers "
                f'or an object with a "data" array was expected'
            )
        entries = document["data"]
        if not isinstance(entries, list):
            raise SourceError(
                f'not {_WHAT}: "data" is {describe(entries)}, not an array of papers '
                f"(status: {str(document.get('status'))[:40]!r})"
            )
        stated = document.get("date")
        if isinstance(stated, str):
            try:
                list_day = date.fromisoformat(stated)
            except ValueError:
                list_day = None
    elif isinstance(document, list):
        entries = document
    else:
        raise SourceError(f"not {_WHAT}: the JSON is {describe(document)}, not an array of papers")
    if entries and not any(map(_is_item_like, entries)):
        raise SourceError(
            f'not {_WHAT}: none of its {len(entries)} array items has a "paper" object'
        )
    return entries, list_day


def _is_item_like(entry) -> bool:
    if isinstance(entry, dict):
        return "paper" in entry
    return isinstance(entry, str) and entry.lstrip().startswith("{") and "'paper'" in entry


def _records(entries: list, list_day: date | None) -> Iterator[PaperRecord | RecordError]:
    for number, entry in enumerate(entries, 1):
        try:
            yield _record(_as_item(entry), position=f"item {number}", list_day=list_day)
        except Unreadable as exc:
            yield RecordError(f"item {number}", str(exc))


def _as_item(entry) -> dict:
    if isinstance(entry, str):
        entry = _from_repr(entry)
    if not isinstance(entry, dict):
        raise Unreadable(f"the item is {describe(entry)}, not an object")
    return entry


def _from_repr(text: str):
    """A Python dict written as its repr, as one collector stored items; never evaluated."""
    if len(text) > MAX_REPR:
        raise Unreadable(f"the item is a string of {len(text)} characters, not a paper")
    try:
        with warnings.catch_warnings():
            # Stray backslashes in a broken repr would otherwise warn once per item.
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        detail = getattr(exc, "msg", None) or type(exc).__name__
        raise Unreadable(
            f"the item is a string that is not a readable Python repr of a paper ({detail})"
        ) from None


def _daily_date(item: dict, paper: dict, list_day: date | None) -> date | None:
    """The date of the daily list the item was on.

    Items since 2025-03-17 say when they were picked (`submittedOnDailyAt`); a wrapped
    response states its list's date. Older items only say when they were posted (the
    top-level `publishedAt`), and a day's list is posted from the evening before. Between
    2025-03-11 and 2025-03-14 that field holds the shifted arXiv time instead, which says
    nothing about the list, so those items have no daily date.
    """
    picked = _time(paper, "submittedOnDailyAt")
    if picked is not None:
        return picked.date()
    if list_day is not None:
        return list_day
    posted = _quiet_time(item.get("publishedAt"))
    if posted is None or _is_shifted_arxiv_time(posted, _quiet_time(paper.get("publishedAt"))):
        return None
    try:
        return (posted + _NEXT_LIST_LEAD).date()
    except OverflowError:
        return None


def _quiet_time(value) -> datetime | None:
    """A timestamp we only use as a hint, so a bad one is no reason to drop the paper."""
    if not isinstance(value, str):
        return None
    try:
        return utc_datetime(value, name="")
    except Unreadable:
        return None


def _is_shifted_arxiv_time(posted: datetime, published: datetime | None) -> bool:
    if published is None:
        return False
    shift = posted - published
    return abs(shift) <= _SHIFT_LIMIT and shift % timedelta(hours=1) == timedelta(0)


def _record(item: dict, *, position: str, list_day: date | None) -> PaperRecord:
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise Unreadable(f'"paper" is {describe(paper)}, not an object')
    title = squash(
        field(paper, "title", str, where="paper.") or field(item, "title", str, where="")
    )
    if not title:
        raise Unreadable("no title")
    abstract = squash(field(paper, "summary", str, where="paper."))
    identifier = field(paper, "id", str, where="paper.")
    parsed = parse_arxiv_id(identifier) if identifier else None
    arxiv_id, arxiv_version = parsed or (None, None)
    published_at = _time(paper, "publishedAt")

    code_url = web_url(field(paper, "githubRepo", str, where="paper."))
    project_url = web_url(field(paper, "projectPage", str, where="paper."))
    if not (code_url and project_url):
        found_code, found_project = find_links(abstract)
        code_url = code_url or found_code
        project_url = project_url or found_project

    return PaperRecord(
        source=FORMAT,
        position=position,
        title=title,
        abstract=abstract,
        authors=_authors(paper),
        arxiv_id=arxiv_id,
        arxiv_version=arxiv_version,
        published_at=published_at,
        daily_date=_daily_date(item, paper, list_day),
        abs_url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else "",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else "",
        code_url=code_url,
        project_url=project_url,
        upvotes=field(paper, "upvotes", int, where="paper."),
        github_stars=field(paper, "githubStars", int, where="paper."),
        keywords=tuple(dict.fromkeys(strings(paper, "ai_keywords", where="paper."))),
    )


def _time(paper: dict, key: str) -> datetime | None:
    value = field(paper, key, str, where="paper.")
    return utc_datetime(value, name=f"paper.{key}") if value else None


def _authors(paper: dict) -> tuple[str, ...]:
    # HF marks some authors `hidden`; they are on the arXiv author list all the same.
    names = []
    for author in field(paper, "authors", list, where="paper.") or ():
        if not isinstance(author, dict):
            raise Unreadable(f"paper.authors should hold objects, not {describe(author)}")
        if name := squash(field(author, "name", str, where="paper.authors[].")):
            names.append(name)
    return tuple(names)
