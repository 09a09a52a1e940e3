"""Normalised identifiers and categories, shared by every parser."""

import re

# New style YYMM.NNNN(N) since 2007, old style archive(.SUBJ)/YYMMNNN; optional vN.
_ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d{1,4}))?",
)
_ARXIV_PREFIX = re.compile(
    r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/|arxiv:|oai:arxiv\.org:)",
    re.IGNORECASE,
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# arXiv categories, as opposed to the ACM/MSC class strings and free-text descriptions
# some listings mix in: every category names its archive with a subject after a dot
# (cs.CL, math.AG) or is a hyphenated archive of its own (hep-th, quant-ph).
_CATEGORY = re.compile(r"^(?:[a-z]+(?:-[a-z]+)*\.[A-Za-z]+(?:-[A-Za-z]+)*|[a-z]+(?:-[a-z]+)+)$")
_SEPARATORS = re.compile(r"[;,\s]+")


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """`(bare id, version)` from an id, an abs/pdf URL or an OAI identifier; None if none.

    >>> parse_arxiv_id("http://arxiv.org/abs/2401.12345v2")
    ('2401.12345', 2)
    >>> parse_arxiv_id("hep-th/9901001")
    ('hep-th/9901001', None)
    """
    candidate = _ARXIV_PREFIX.sub("", text.strip())
    candidate = candidate.removesuffix(".pdf")
    match = _ARXIV_ID.fullmatch(candidate)
    if not match:
        return None
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def normalize_doi(text: str) -> str | None:
    """A DOI in lower case without resolver prefix, or None if the text holds none."""
    candidate = _DOI_PREFIX.sub("", text.strip())
    match = _DOI.match(candidate)
    if not match:
        return None
    return match.group().rstrip(".,;").lower()


def arxiv_categories(values) -> tuple[str, ...]:
    """The arXiv categories among `values`, in order, without duplicates or class strings."""
    seen: dict[str, None] = {}
    for value in values:
        for part in _SEPARATORS.split(str(value)):
            if _CATEGORY.match(part):
                seen.setdefault(part, None)
    return tuple(seen)
