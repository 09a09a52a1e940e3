"""Input formats. Each module turns the bytes of one format into `PaperRecord`s.

Parsers are pure: no database, no network. `parse(data)` checks up front that the
bytes are of its format (raising `SourceError` otherwise, before anything is imported)
and returns an iterator of `PaperRecord` and, for records it cannot take, `RecordError`.
"""

from types import ModuleType

from papers.sources import arxiv_api, arxiv_oai, bibtex, hf_daily, listing, ris, snapshot
from papers.sources.records import PaperRecord, RecordError, SourceError

# In the order formats are tried when recognising a file; each check is cheap.
FORMATS: dict[str, ModuleType] = {
    module.FORMAT: module
    for module in (snapshot, hf_daily, arxiv_oai, arxiv_api, bibtex, ris, listing)
}


def detect(data: bytes) -> ModuleType:
    """The parser module for these bytes, recognised by their content."""
    for module in FORMATS.values():
        if module.looks_like(data):
            return module
    if not data.strip():
        raise SourceError("the file is empty")
    if b"\x00" in data[:8192]:
        raise SourceError("the file is binary and not of any format paperfeed reads")
    raise SourceError(
        "unrecognised format; name it with --format (one of: " + ", ".join(FORMATS) + ")"
    )


__all__ = ["FORMATS", "PaperRecord", "RecordError", "SourceError", "detect"]
