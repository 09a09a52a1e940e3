"""Tagging rules as data, and how one matches a paper.

A rule names a tag, an algorithm and a pattern, and the fields it looks at. Matching is a
pure function of the rule and the paper's text; what it returns (the words or spans it
found) becomes the tag's reason. Word and phrase matching ignores case, accents and
punctuation unless the rule is case-sensitive; regular expressions run with a time
limit, so a pathological one cannot hang a worker.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import regex
from rapidfuzz import fuzz

from papers.identity import fold

NONE, ANY, ALL, PHRASE, REGEX, FUZZY = "none", "any", "all", "phrase", "regex", "fuzzy"
ALGORITHMS = (NONE, ANY, ALL, PHRASE, REGEX, FUZZY)
FIELDS = ("title", "abstract", "authors")
REGEX_TIMEOUT = 0.05  # seconds per field searched
FUZZY_THRESHOLD = 90  # partial-ratio score out of 100
MAX_TERMS = 5
_TERMS = re.compile(r'"([^"]+)"|(\S+)')


class RuleError(ValueError):
    """The rule cannot be used as written; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Rule:
    tag: str
    algorithm: str
    pattern: str
    fields: tuple[str, ...] = ("title", "abstract")
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    field: str
    terms: tuple[str, ...]  # what was found, as it stands in the paper


class PaperText:
    """A paper's fields, raw and folded, prepared once for every rule that reads them."""

    __slots__ = ("folded", "raw")

    def __init__(self, *, title: str = "", abstract: str = "", authors=()):
        self.raw = {"title": title or "", "abstract": abstract or "", "authors": "; ".join(authors)}
        # Padded so that " term " finds whole words only.
        self.folded = {name: f" {fold(text)} " for name, text in self.raw.items()}


Matcher = Callable[[PaperText], Match | None]


def terms_of(pattern: str) -> list[str]:
    """Words of a pattern; a "quoted phrase" counts as one term."""
    return [quoted or word for quoted, word in _TERMS.findall(pattern)]


def compile_rule(rule: Rule) -> Matcher:
    """A function that matches papers against the rule; RuleError if it is unusable."""
    if rule.algorithm not in ALGORITHMS:
        raise RuleError(f"unknown algorithm {rule.algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    unknown = set(rule.fields) - set(FIELDS)
    if unknown or not rule.fields:
        raise RuleError(f"fields must be some of {', '.join(FIELDS)}")
    if rule.algorithm == NONE:
        return lambda text: None
    if not rule.pattern.strip():
        raise RuleError("the pattern is empty")
    if rule.algorithm == REGEX:
        return _regex_matcher(rule)
    if rule.algorithm == FUZZY:
        return _fuzzy_matcher(rule)
    terms = [rule.pattern] if rule.algorithm == PHRASE else terms_of(rule.pattern)
    finders = [_term_finder(term, rule.case_sensitive) for term in terms]
    if not all(finders):
        raise RuleError("the pattern has no letters or digits to match")
    need_all = rule.algorithm in (ALL, PHRASE)

    def match(text: PaperText) -> Match | None:
        for field in rule.fields:
            found = [hit for find in finders if (hit := find(text, field))]
            if found and (len(found) == len(finders) or not need_all):
                return Match(field, tuple(dict.fromkeys(found))[:MAX_TERMS])
        if need_all and len(rule.fields) > 1:
            return _across_fields(finders, rule.fields, text)
        return None

    return match


def _across_fields(finders, fields, text) -> Match | None:
    """An ALL rule whose words are spread over several fields still matches."""
    found = []
    for find in finders:
        hit = next((h for field in fields if (h := find(text, field))), None)
        if hit is None:
            return None
        found.append(hit)
    return Match("+".join(fields), tuple(dict.fromkeys(found))[:MAX_TERMS])


def _term_finder(term: str, case_sensitive: bool):
    if case_sensitive:
        if not re.search(r"\w", term):
            return None
        pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, term.split())) + r"(?!\w)")

        def find_exact(text: PaperText, field: str) -> str:
            hit = pattern.search(text.raw[field])
            return hit.group() if hit else ""

        return find_exact
    folded = fold(term)
    if not folded:
        return None
    needle = f" {folded} "

    def find_folded(text: PaperText, field: str) -> str:
        return folded if needle in text.folded[field] else ""

    return find_folded


def _regex_matcher(rule: Rule) -> Matcher:
    flags = regex.VERSION1 | (0 if rule.case_sensitive else regex.IGNORECASE)
    try:
        compiled = regex.compile(rule.pattern, flags)
    except regex.error as exc:
        raise RuleError(f"not a valid regular expression: {exc}") from None
    if compiled.search("", timeout=REGEX_TIMEOUT) is not None:
        raise RuleError("the regular expression matches empty text, so it would tag every paper")

    def match(text: PaperText) -> Match | None:
        for field in rule.fields:
            try:
                hits = [
                    m.group()
                    for m in compiled.finditer(text.raw[field], timeout=REGEX_TIMEOUT)
                    if m.group()
                ]
            except TimeoutError:
                continue  # too slow on this text: no match rather than a hung worker
            if hits:
                return Match(field, tuple(dict.fromkeys(hits))[:MAX_TERMS])
        return None

    return match


def _fuzzy_matcher(rule: Rule) -> Matcher:
    wanted = fold(rule.pattern)
    if not wanted:
        raise RuleError("the pattern has no letters or digits to match")

    def match(text: PaperText) -> Match | None:
        for field in rule.fields:
            haystack = text.folded[field].strip()
            if not haystack:
                continue
            alignment = fuzz.partial_ratio_alignment(wanted, haystack)
            if alignment and alignment.score >= FUZZY_THRESHOLD:
                return Match(field, (haystack[alignment.dest_start : alignment.dest_end],))
        return None

    return match
