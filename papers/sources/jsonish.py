"""Typed reads from decoded JSON, for the parsers of JSON-based formats.

A value of the wrong type makes its whole record unreadable (`Unreadable`, which the
parser turns into a `RecordError` naming the field); an absent or null value is simply
unknown.
"""

import re
from datetime import UTC, datetime

from papers.sources.text import squash

_WEB_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
_KINDS = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


class Unreadable(Exception):
    """This record cannot be taken; the message says why, for a `RecordError`."""


def describe(value) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def field(obj: dict, key: str, kind: type, *, where: str = ""):
    """`obj[key]` if it is a `kind`, None if it is absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int to Python, never a count to JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Unreadable(f"{where}{key} should be {_KINDS[kind]}, not {describe(value)}")
    return value


def strings(obj: dict, key: str, *, where: str = "") -> tuple[str, ...]:
    """A list of strings, each with its whitespace collapsed, empty ones left out."""
    values = field(obj, key, list, where=where) or ()
    cleaned = []
    for value in values:
        if not isinstance(value, str):
            raise Unreadable(f"{where}{key} should hold strings, not {describe(value)}")
        if text := squash(value):
            cleaned.append(text)
    return tuple(cleaned)


def web_url(value: str | None) -> str:
    """The address if it is an http(s) one, else "" (a `javascript:` link is not a project)."""
    url = (value or "").strip()
    return url if _WEB_URL.fullmatch(url) else ""


def utc_datetime(value: str, *, name: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; one without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Unreadable(f"{name} is not a date and time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Unreadable(f"{name} is out of range: {value[:40]!r}") from None
