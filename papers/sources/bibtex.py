"""BibTeX and BibLaTeX files, as reference managers, publishers and people write them.

bibtexparser splits the file into blocks and resolves @string macros; each entry is then
mapped to a `PaperRecord` here. Text fields (title, abstract, names, venue) have their
LaTeX decoded by pylatexenc; identifier fields (doi, eprint, url) only lose their braces
and escapes, since LaTeX decoding would eat a `%` or `~` in an address. Field names and
entry types are case-insensitive in BibTeX: `Title =` is `title =`, `@Article` is `@article`.
"""

import re
from collections.abc import Iterable, Iterator
from datetime import datetime

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.middlewares import (
    NormalizeFieldKeys,
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
)
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from papers.sources import citation
from papers.sources.identifiers import arxiv_categories
from papers.sources.records import PaperRecord, RecordError, SourceError
from papers.sources.text import decode_text, find_links, squash

FORMAT = "bibtex"
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 4096
_ENTRY_START = re.compile(rb"@[A-Za-z]+[ \t]*[{(]")
_NOT_RECORDS = ("string", "preamble", "comment")
_FAILED_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^\s,{}()=\"'#%]+)\s*,")
# Text without any of these reads the same before and after LaTeX decoding, and most
# abstracts exported by reference managers are such text: decoding it would only cost time.
_LATEX_MARKUP = re.compile(r"[\\{}$~`]|--|''")
# Reference managers write "&" and "%" unescaped; to LaTeX they are an alignment tab and
# the start of a comment, and decoding would drop them and the rest of the line.
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&])")
# pylatexenc needs seconds per megabyte. The importer refuses text fields this long anyway,
# so such a field is passed on as it is rather than decoded at great cost.
_DECODE_LIMIT = 100_000
_URL_MACRO = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}")
_ESCAPED = re.compile(r"\\([_%&#$~])")
_BIBLATEX_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_NOT_AUTHORS = {"others", "et al.", "et al"}
_CODE_FIELDS = ("github", "code")
_PROJECT_FIELDS = ("projectpage", "project")
_KEY_SHOWN = 80


class _Unreadable(Exception):
    """A field of one entry that cannot be turned into text."""


def _latex_decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    # \url{…} is an address to keep as it is, not text to set in angle brackets.
    context.add_context_category(
        "paperfeed-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim", keep_braced_groups=False)


_DECODER = _latex_decoder()


def looks_like(data: bytes) -> bool:
    """An `@type{` (or `@type(`) line before anything but blank and `%` comment lines."""
    for line in data[:_SNIFF_BYTES].removeprefix(_BOM).splitlines():
        line = line.strip()
        if line and not line.startswith(b"%"):
            return bool(_ENTRY_START.match(line))
    return False


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    text = decode_text(data, what="BibTeX")
    try:
        library = bibtexparser.parse_string(
            text,
            parse_stack=[
                ResolveStringReferencesMiddleware(),
                RemoveEnclosingMiddleware(),
                NormalizeFieldKeys(),
            ],
        )
    except Exception as exc:
        # bibtexparser re-raises whatever it did not foresee, asking for a bug report;
        # for an import that is a file it cannot read, not a crash.
        raise SourceError(
            f"bibtexparser cannot read this file ({type(exc).__name__}: {str(exc)[:200]}); "
            "check it in a BibTeX editor such as JabRef"
        ) from None
    if not any(_kind(block) == "entry" for block in library.blocks):
        raise SourceError(
            "no BibTeX entries in the file: expected entries such as @article{key, title = {…}}"
        )
    return _records(library.blocks)


def _records(blocks: Iterable[Block]) -> Iterator[PaperRecord | RecordError]:
    number = 0
    for block in blocks:
        kind = _kind(block)
        if kind == "entry":
            number += 1
            position = _position(number, _key(block), block.start_line)
            if isinstance(block, ParsingFailedBlock):
                yield RecordError(position, _failure(block))
            else:
                yield _record(block, position)
        elif kind == "string" and isinstance(block, ParsingFailedBlock):
            # Not a paper, but every entry that uses the macro now reads wrong.
            yield RecordError(_line(block.start_line), _failure(block))


def _kind(block: Block) -> str:
    """Whether a block, parsed or failed, is an "entry", a "string" or "other"."""
    if isinstance(block, ParsingFailedBlock):
        if isinstance(block.ignore_error_block, Entry):
            return "entry"
        if isinstance(block.ignore_error_block, String):
            return "string"
        block_type = (block.raw or "").lstrip().removeprefix("@").lstrip()[:8].lower()
        if block_type.startswith("string"):
            return "string"
        return "other" if block_type.startswith(_NOT_RECORDS) else "entry"
    if isinstance(block, Entry):
        return "entry"
    return "other"


def _key(block: Block) -> str:
    if isinstance(block, Entry | DuplicateBlockKeyBlock):
        return block.key
    if isinstance(block, ParsingFailedBlock):
        if isinstance(block.ignore_error_block, Entry):
            return block.ignore_error_block.key
        match = _FAILED_KEY.match((block.raw or "").lstrip()[:300])
        return match.group(1) if match else ""
    return ""


def _position(number: int, key: str, start_line: int | None) -> str:
    details = []
    if key:
        details.append(key if len(key) <= _KEY_SHOWN else key[:_KEY_SHOWN] + "…")
    if start_line is not None:
        details.append(_line(start_line))
    return f"entry {number} ({', '.join(details)})" if details else f"entry {number}"


def _line(start_line: int | None) -> str:
    # bibtexparser counts lines from 0; editors and people from 1.
    return f"line {start_line + 1}" if start_line is not None else "unknown line"


def _failure(block: ParsingFailedBlock) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        first = block.previous_block.start_line
        where = f" (first at {_line(first)})" if first is not None else ""
        what = "@string" if isinstance(block.ignore_error_block, String) else "key"
        return f"the {what} {block.key[:_KEY_SHOWN]!r} is used twice{where}; rename one of them"
    if isinstance(block, DuplicateFieldKeyBlock):
        names = ", ".join(sorted(block.duplicate_keys))[:200]
        return f"the entry gives the field(s) {names} more than once; keep one of each"
    error = block.error
    reason = error.abort_reason if isinstance(error, BlockAbortedException) else str(error)
    return f"not valid BibTeX ({squash(reason)[:300]}); check the braces, quotes and commas"


def _record(entry: Entry, position: str) -> PaperRecord | RecordError:
    fields = {field.key: field.value for field in entry.fields if isinstance(field.value, str)}
    try:
        title = _text(fields.get("title", ""), "title")
        if not title:
            return RecordError(position, "the entry has no title; add a title field")
        venue = _text(
            fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", ""),
            "journal",
        )
        volume = _text(fields.get("volume", ""), "volume")
        urls = [_plain(fields.get("url", "")), _plain(fields.get("howpublished", ""))]
        doi, doi_arxiv = citation.split_doi(_plain(fields.get("doi", "")))
        if not doi and not doi_arxiv:
            doi, doi_arxiv = citation.split_doi(urls[0])
        arxiv = _eprint(fields) or doi_arxiv
        arxiv = arxiv or citation.arxiv_id_in(
            *urls,
            venue,
            # DBLP writes arXiv papers as journal = {CoRR}, volume = {abs/1706.03762}.
            volume.removeprefix("abs/") if citation.mentions_arxiv(venue) else "",
            _text(fields.get("note", ""), "note"),
        )
        year = _plain(fields.get("year", ""))
        links = citation.links(urls)
        return PaperRecord(
            source=FORMAT,
            position=position,
            title=title,
            abstract=_text(fields.get("abstract", ""), "abstract"),
            authors=_authors(fields.get("author", "")),
            arxiv_id=arxiv[0] if arxiv else None,
            arxiv_version=arxiv[1] if arxiv else None,
            doi=doi,
            categories=arxiv_categories([_plain(fields.get("primaryclass", ""))]),
            journal_ref=citation.journal_ref(
                venue,
                volume=volume,
                number=_text(fields.get("number") or fields.get("issue", ""), "number"),
                pages=citation.page_range(_text(fields.get("pages", ""), "pages")),
                year=year,
            ),
            published_at=_published(year, fields),
            abs_url=links["abs_url"],
            pdf_url=links["pdf_url"],
            code_url=links["code_url"] or _code_link(fields),
            project_url=_project_link(fields),
            keywords=_keywords(fields.get("keywords", "")),
        )
    except _Unreadable as exc:
        return RecordError(position, str(exc))


def _text(value: str, field: str) -> str:
    if not value:
        return ""
    if len(value) > _DECODE_LIMIT or not _LATEX_MARKUP.search(value):
        return squash(value)
    try:
        decoded = _DECODER.latex_to_text(_BARE_SPECIAL.sub(r"\\\1", value))
    except Exception as exc:
        # pylatexenc's tolerant mode still gives up on some input, e.g. braces nested
        # deeper than Python's recursion limit; that loses this entry, not the file.
        raise _Unreadable(
            f"the {field} field cannot be read as LaTeX ({type(exc).__name__}); simplify it"
        ) from None
    return squash(decoded)


def _plain(value: str) -> str:
    """An identifier or address: the `\\url{}` wrapper, braces and escapes removed."""
    match = _URL_MACRO.search(value)
    if match:
        value = match.group(1)
    value = _ESCAPED.sub(r"\1", value.replace("{", "").replace("}", ""))
    words = value.split(maxsplit=1)
    return words[0] if words else ""


def _eprint(fields: dict[str, str]) -> tuple[str, int | None] | None:
    eprint = _plain(fields.get("eprint", ""))
    archive = _plain(fields.get("archiveprefix") or fields.get("eprinttype", "")).lower()
    if eprint and (archive == "arxiv" or eprint.lower().startswith("arxiv")):
        return citation.arxiv_id_in(eprint)
    return None


def _authors(value: str) -> tuple[str, ...]:
    authors = []
    for name in split_multiple_persons_names(value):
        if squash(name).lower() in _NOT_AUTHORS:
            continue
        # Not strict: a stray brace in one name should not cost the whole entry.
        parts = parse_single_name_into_parts(name, strict=False)
        author = _text(parts.merge_first_name_first, "author")
        if author:
            authors.append(author)
    return tuple(authors)


def _published(year: str, fields: dict[str, str]) -> datetime | None:
    if year:
        month = citation.month_number(_plain(fields.get("month", "")))
        return citation.publication_date(year, month)
    match = _BIBLATEX_DATE.match(_plain(fields.get("date", "")))
    if not match:
        return None
    month, day = (int(part) if part else None for part in match.group(2, 3))
    return citation.publication_date(match.group(1), month, day)


def _code_link(fields: dict[str, str]) -> str:
    for name in _CODE_FIELDS:
        code_url, _ = find_links(_plain(fields.get(name, "")))
        if code_url:
            return code_url
    return ""


def _project_link(fields: dict[str, str]) -> str:
    for name in _PROJECT_FIELDS:
        url = _plain(fields.get(name, ""))
        if url.lower().startswith(("http://", "https://")):
            return url
    return ""


def _keywords(value: str) -> tuple[str, ...]:
    # EndNote puts one keyword per line, and its keywords contain commas ("Databases,
    # Protein"); everyone else separates keywords with commas or semicolons.
    parts = value.splitlines() if "\n" in value else re.split(r"[,;]", value)
    return citation.keywords(_text(part, "keywords") for part in parts)
