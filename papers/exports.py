"""A reading list as a file for a reference manager: BibTeX, RIS or CSV.

Each writer takes the list's items (with their papers) and returns the file's text.
bibtexparser and rispy lay the files out; what is ours is choosing the fields and
escaping the values so that Zotero, JabRef, EndNote or a spreadsheet read back exactly
what paperfeed holds, and nothing a note says can break out of its field.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import bibtexparser
import rispy
from bibtexparser.middlewares.names import parse_single_name_into_parts
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import (
    RULE_DICT,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
    get_builtin_conversion_rules,
)

from papers import identity
from papers.models import ListItem, Paper
from papers.sources.text import squash

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Literal braces are escaped as `\{` and `\}`, which every reader turns back into braces.
# But BibTeX counts braces even when escaped, so text whose braces do not pair up (a
# stray "}") gets the text commands instead, which LaTeX prints the same.
_STRAY_BRACES = UnicodeToLatexConversionRule(
    RULE_DICT, {ord("{"): r"\textbraceleft", ord("}"): r"\textbraceright"}
)


def _encoder(*rules) -> UnicodeToLatexEncoder:
    return UnicodeToLatexEncoder(
        conversion_rules=[*rules, *get_builtin_conversion_rules("defaults")],
        non_ascii_only=False,
        replacement_latex_protection="braces",
        # Scripts LaTeX has no macro for (CJK, most emoji) stay as UTF-8, which biber and
        # every reference manager read; they are not worth a warning per character.
        unknown_char_policy="keep",
        unknown_char_warning=False,
    )


_LATEX = _encoder()
_LATEX_STRAY_BRACES = _encoder(_STRAY_BRACES)
# Inline math as arXiv titles carry it ("$\alpha$-divergence"): kept as TeX rather than
# escaped into visible dollar signs and backslashes. Only when the dollars pair up and
# the braces inside balance, so that a stray "$" is escaped like any other character.
_MATH = re.compile(r"(\$[^$]+\$)")
# A word with a capital after its first letter (BERT, GPT-4, ImageNet) is braced so that
# a bibliography style that lower-cases titles leaves it alone.
_PROTECTED_WORD = re.compile(r"^\W*\w.*[A-Z]")
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}
# RIS values are one line each: a line break in a note would start a new tag line, and a
# line reading `ER  - ` would end the record early.
_LINE_BREAKS = re.compile(r"\s+")
# Spreadsheets run a cell starting with one of these as a formula (CSV injection), and a
# public list's notes come from another person.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str
    write: object  # (items, *, site_url) -> str


def write_bibtex(items: Iterable[ListItem], *, site_url: str = "") -> str:
    keys: set[str] = set()
    entries = [_bibtex_entry(item, keys) for item in items]
    layout = bibtexparser.BibtexFormat()
    layout.indent = "  "
    layout.block_separator = "\n"
    # The values are enclosed and escaped here already; bibtexparser only lays them out.
    return bibtexparser.write_string(
        bibtexparser.Library(entries), unparse_stack=[], bibtex_format=layout
    )


def write_ris(items: Iterable[ListItem], *, site_url: str = "") -> str:
    return rispy.dumps([_ris_record(item) for item in items], implementation=_RisWriter)


CSV_COLUMNS = (
    "position",
    "title",
    "authors",
    "year",
    "arxiv_id",
    "doi",
    "url",
    "status",
    "note",
    "added",
    "paperfeed_url",
)


def write_csv(items: Iterable[ListItem], *, site_url: str = "") -> str:
    """One row per item with a header row; starts with a BOM so Excel reads UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for place, item in enumerate(items, 1):
        paper = item.paper
        row = [
            place,
            paper.title,
            "; ".join(paper.author_names),
            _year(paper) or "",
            paper.arxiv_id or "",
            paper.doi or "",
            _url(paper),
            item.get_status_display(),
            item.note,
            item.added_at.date().isoformat(),
            f"{site_url}{paper.get_absolute_url()}",
        ]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


FORMATS = {
    "bib": Format("bib", "application/x-bibtex; charset=utf-8", write_bibtex),
    "ris": Format("ris", "application/x-research-info-systems; charset=utf-8", write_ris),
    "csv": Format("csv", "text/csv; charset=utf-8", write_csv),
}


# BibTeX


def _bibtex_entry(item: ListItem, keys: set[str]) -> Entry:
    paper = item.paper
    fields = [("title", "{" + _title_tex(paper.title) + "}")]
    if paper.author_names:
        names = " and ".join(_name_tex(name) for name in paper.author_names)
        fields.append(("author", "{" + names + "}"))
    if paper.journal_ref:
        fields.append(("journal", _braced(paper.journal_ref)))
    if year := _year(paper):
        fields.append(("year", "{" + str(year) + "}"))
    if paper.published_at:
        # A bare month macro, which every style turns into the month's name.
        fields.append(("month", _MONTHS[paper.published_at.month - 1]))
    if paper.arxiv_id:
        fields += [
            ("eprint", "{" + _verbatim(paper.arxiv_id) + "}"),
            ("archivePrefix", "{arXiv}"),
        ]
        if paper.categories:
            fields.append(("primaryClass", "{" + _verbatim(paper.categories[0]) + "}"))
    if paper.doi:
        fields.append(("doi", "{" + _verbatim(paper.doi) + "}"))
    if url := _url(paper):
        fields.append(("url", "{" + _verbatim(url) + "}"))
    if paper.abstract:
        fields.append(("abstract", _braced(paper.abstract)))
    if item.note:
        # Where Zotero and JabRef put a reference's annotation.
        fields.append(("annote", _braced(item.note)))
    entry_type = "article" if paper.journal_ref else "misc"
    return Entry(entry_type, _citation_key(paper, keys), [Field(k, v) for k, v in fields])


def _braced(text: str) -> str:
    # On one line: bibtexparser (and so tools built on it) takes a line starting with
    # "@" for a new entry even inside a field, and a note may well have one.
    return "{" + _tex(squash(text)) + "}"


def _tex(text: str) -> str:
    """Text as LaTeX that typesets as the same text, inline math kept as it is."""
    parts = _MATH.split(text)
    keep_math = text.count("$") == sum(part.count("$") for part in parts[1::2])
    encoder = _LATEX if _balanced(text) else _LATEX_STRAY_BRACES
    return "".join(
        part if index % 2 and keep_math and _balanced(part) else encoder.unicode_to_latex(part)
        for index, part in enumerate(parts)
    )


def _title_tex(title: str) -> str:
    words = []
    for word in squash(title).split(" "):
        tex = _tex(word)
        protect = _PROTECTED_WORD.match(word) and "$" not in word
        words.append("{" + tex + "}" if protect else tex)
    return " ".join(words)


def _name_tex(name: str) -> str:
    tex = _tex(squash(name))
    return "{" + tex + "}" if _is_group_name(name) else tex


def _is_group_name(name: str) -> bool:
    # A name containing " and " or a comma would be split into several people, or read
    # as "Last, First": it is one name as written (e.g. a collaboration).
    return bool(re.search(r"\band\b", name, re.IGNORECASE)) or "," in name


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _verbatim(value: str) -> str:
    """Identifiers and addresses, which reference managers read verbatim: only the braces
    that would end the field early are percent-encoded, and white space is dropped."""
    return re.sub(r"\s", "", value).replace("{", "%7B").replace("}", "%7D")


def _citation_key(paper: Paper, keys: set[str]) -> str:
    """`surname` + year + first title word, e.g. `lovelace2024scaling`; unique per file."""
    surname = ""
    if paper.author_names:
        parts = parse_single_name_into_parts(paper.author_names[0], strict=False)
        surname = identity.fold(" ".join(parts.last)).replace(" ", "")
    words = [word for word in identity.fold(paper.title).split() if word not in _KEY_STOPWORDS]
    base = _ascii(surname or "anon") + str(_year(paper) or "") + _ascii(words[0] if words else "")
    key, suffix = base, 0
    while key in keys:
        suffix += 1
        key = base + _key_suffix(suffix)
    keys.add(key)
    return key


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _key_suffix(number: int) -> str:
    """a, b, … z, then aa, ab, … (as BibTeX styles label two papers of one year)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


# RIS


class _RisWriter(rispy.RisWriter):
    def set_header(self, count):
        # rispy numbers each record ("1.") by default; reference managers expect only tags.
        return ""


def _ris_record(item: ListItem) -> dict:
    paper = item.paper
    record: dict = {
        "type_of_reference": "JOUR" if paper.journal_ref else "GEN",
        "title": _line(paper.title),
    }
    if paper.author_names:
        record["authors"] = [_ris_name(name) for name in paper.author_names]
    if paper.abstract:
        record["abstract"] = _line(paper.abstract)
    if year := _year(paper):
        record["year"] = str(year)
    if paper.published_at:
        record["date"] = paper.published_at.strftime("%Y/%m/%d")
    if paper.journal_ref:
        record["journal_name"] = _line(paper.journal_ref)
    if paper.doi:
        record["doi"] = _line(paper.doi)
    urls = [url for url in (_url(paper), paper.pdf_url) if url]
    if urls:
        record["urls"] = [_line(url) for url in urls]
    if paper.arxiv_id:
        # Zotero's "Archive ID" of a preprint.
        record["accession_number"] = f"arXiv:{paper.arxiv_id}"
    if item.note:
        record["notes"] = [_line(item.note)]
    return record


def _ris_name(name: str) -> str:
    """ "Last, First", as RIS wants; bibtexparser splits particles ("van Beethoven") right.

    A name that BibTeX would brace as one (a collaboration) is written as it is.
    """
    if _is_group_name(name):
        return _line(name)
    parts = parse_single_name_into_parts(squash(name), strict=False)
    return _line(parts.merge_last_name_first)


def _line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()


# Shared


def _year(paper: Paper) -> int | None:
    if paper.published_at:
        return paper.published_at.year
    return paper.listed_on.year if paper.listed_on else None


def _url(paper: Paper) -> str:
    if paper.abs_url:
        return paper.abs_url
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return ""


def _cell(value) -> str:
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text
