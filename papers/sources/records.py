from dataclasses import dataclass
from datetime import date, datetime


class SourceError(ValueError):
    """The input as a whole cannot be read as this format; nothing should be imported."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """One record that could not be read; the rest of the input still counts."""

    position: str  # where in the input, e.g. "line 12" or "entry 7"
    message: str


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """A paper as one source describes it, before identity and merging."""

    source: str
    position: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    categories: tuple[str, ...] = ()
    comment: str = ""
    journal_ref: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    daily_date: date | None = None
    abs_url: str = ""
    pdf_url: str = ""
    code_url: str = ""
    project_url: str = ""
