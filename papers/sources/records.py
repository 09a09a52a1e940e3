from dataclasses import dataclass, field
from datetime import date, datetime


class SourceError(ValueError):
    """The input as a whole cannot be read as this format; nothing should be imported."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """One record that could not be read; the rest of the input still counts."""

    position: str  # where in the input, e.g. "line 12" or "entry 7"
    message: str


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One arXiv version of a paper, as a source reports it."""

    number: int
    submitted_at: datetime | None = None
    size: str = ""  # as arXiv reports it, e.g. "1107kb"


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """A paper as one source describes it, before identity and merging.

    Text fields are cleaned (whitespace collapsed, LaTeX escapes decoded where the format
    uses them); identifiers are normalised (`arxiv_id` bare, `doi` lower-case without a
    resolver prefix); an unknown value is "" / None / () rather than a placeholder.
    """

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
    published_at: datetime | None = None  # first version
    updated_at: datetime | None = None  # latest version
    daily_date: date | None = None  # picked for the Hugging Face daily list
    abs_url: str = ""
    pdf_url: str = ""
    code_url: str = ""
    project_url: str = ""
    # Signals that belong to the source rather than to the paper.
    upvotes: int | None = None
    github_stars: int | None = None
    keywords: tuple[str, ...] = ()
    versions: tuple[VersionRecord, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Page:
    """One response of a paged remote source, and where the next page starts."""

    items: list[PaperRecord | RecordError]
    total: int | None = None  # results in the whole listing, when the source says
    next_token: str | None = None  # OAI-PMH resumptionToken; None on the last page
    # False when the response broke off: it is not the last page, whatever its token says.
    complete: bool = True
