"""Field conventions shared by the reference-manager formats (BibTeX, RIS).

Both formats describe a paper as a citation: a venue with volume and pages, a year, free
text that may mention an arXiv id, and web addresses of any kind. These helpers turn
those into the normalised values of a `PaperRecord`.
"""

import re
from datetime import UTC, datetime

from papers.sources.identifiers import normalize_doi, parse_arxiv_id
from papers.sources.text import find_links, squash

# "arXiv:2401.12345", "arXiv preprint arXiv:2401.12345", "ArXiv 2401.12345" and
# "arxiv.org/abs/2401.12345" (with or without a scheme); the id itself is checked by
# `parse_arxiv_id`, so the candidate may be loose here.
_ARXIV_MENTION = re.compile(
    r"\barxiv(?:\.org/(?:abs|pdf|html)/|(?:\s+preprint)?(?:\s*:\s*|\s+)(?:arxiv\s*:\s*)?)"
    r"(?P<candidate>[^\s,;{}()\[\]<>\"']+)",
    re.IGNORECASE,
)
# arXiv registers a DataCite DOI for every paper; it names the arXiv id, not a publication.
_DOI_RESOLVER = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(?P<candidate>\S+)$", re.IGNORECASE)
# The dash LaTeX makes of "--" in BibTeX page ranges, so both formats agree.
_EN_DASH = "\u2013"
_PAGE_DASH = re.compile(r"\s*(?:-+|\u2013|\u2014)\s*")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def arxiv_id_in(*texts: str) -> tuple[str, int | None] | None:
    """The first arXiv id that one of `texts` is or mentions, as `(bare id, version)`."""
    for text in texts:
        if not text:
            continue
        found = parse_arxiv_id(text) or _arxiv_doi_id(text)
        if found:
            return found
        for match in _ARXIV_MENTION.finditer(text):
            found = parse_arxiv_id(match.group("candidate").rstrip("./"))
            if found:
                return found
    return None


def split_doi(text: str) -> tuple[str | None, tuple[str, int | None] | None]:
    """`(doi, arxiv)` from a DOI field or a resolver address.

    An arXiv DOI is returned as the arXiv id it spells, not as a DOI: kept as `doi`, it
    would compete with the journal DOI that the arXiv services report for the same paper.
    """
    doi = normalize_doi(text) if text else None
    if doi is None:
        return None, None
    arxiv = _arxiv_doi_id(text)
    if arxiv:
        return None, arxiv
    return doi, None


def _arxiv_doi_id(text: str) -> tuple[str, int | None] | None:
    # Case is kept from the input: old-style ids carry an upper-case subject class.
    match = _ARXIV_DOI.match(_DOI_RESOLVER.sub("", text.strip()))
    return parse_arxiv_id(match.group("candidate")) if match else None


def mentions_arxiv(venue: str) -> bool:
    """Whether a venue is only arXiv itself (DBLP calls it CoRR), not a publication."""
    return venue.strip().lower() == "corr" or "arxiv" in venue.lower()


def journal_ref(
    venue: str, *, volume: str = "", number: str = "", pages: str = "", year: str = ""
) -> str:
    """A short readable reference, e.g. "Nature 521(7553), 436-444 (2015)"."""
    venue = squash(venue)
    if not venue or mentions_arxiv(venue):
        return ""
    ref = venue
    if volume:
        ref += f" {squash(volume)}"
        if number:
            ref += f"({squash(number)})"
    if pages:
        ref += f", {squash(pages)}"
    year_match = _YEAR.search(year)
    if year_match:
        ref += f" ({year_match.group()})"
    return ref


def page_range(first: str, last: str = "") -> str:
    """A page range joined by an en dash, from first and last page or one field with both."""
    first, last = squash(first), squash(last)
    if first and last and last != first:
        first = f"{first}-{last}"
    return _PAGE_DASH.sub(_EN_DASH, first or last)


def month_number(text: str) -> int | None:
    """1 to 12 from "8", "08", "aug", "Aug." or "August"; None for anything else."""
    word = text.strip().strip(".").lower()
    if word.isdigit():
        number = int(word)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(word)


def publication_date(
    year: str, month: int | None = None, day: int | None = None
) -> datetime | None:
    """The start of the stated period, as an aware UTC datetime; None without a year.

    A year alone means 1 January, a month its 1st; a day that does not exist in its month
    (a typo such as 30 February) falls back to the month.
    """
    match = _YEAR.search(year or "")
    if not match or int(match.group()) < 1000:
        return None
    number = int(match.group())
    try:
        return datetime(number, month or 1, day or 1, tzinfo=UTC)
    except ValueError:
        return datetime(number, month or 1, 1, tzinfo=UTC) if month else None


def links(urls) -> dict[str, str]:
    """`abs_url`, `pdf_url` and `code_url` from a citation's web addresses.

    A GitHub repository is the code; an address ending in .pdf is the full text; the first
    other http(s) address is the paper's page. Anything else (local file paths,
    `file://` attachments) is left out.
    """
    found = {"abs_url": "", "pdf_url": "", "code_url": ""}
    for url in urls:
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in url):
            continue
        code, _ = find_links(url)
        if code:
            found["code_url"] = found["code_url"] or code
        elif url.lower().split("?", 1)[0].endswith(".pdf"):
            found["pdf_url"] = found["pdf_url"] or url
        else:
            found["abs_url"] = found["abs_url"] or url
    return found


def keywords(values) -> tuple[str, ...]:
    """Distinct keywords in order; a leading "*" (a MeSH major-topic mark) is dropped."""
    seen: dict[str, None] = {}
    for value in values:
        keyword = squash(value).lstrip("*").strip()
        if keyword:
            seen.setdefault(keyword, None)
    return tuple(seen)


def flip_name(name: str) -> str:
    """ "Last, First" (or "Last, First, Suffix") as "First Last"; other names as they are."""
    parts = [part.strip() for part in name.split(",")]
    if len(parts) == 2 and all(parts):
        return squash(f"{parts[1]} {parts[0]}")
    if len(parts) == 3 and parts[0] and parts[1]:
        return squash(f"{parts[1]} {parts[0]} {parts[2]}")
    return squash(name)
