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

    __slots__ = ("_words", "folded", "raw")

    def __init__(self, *, title: str = "", abstract: str = "", authors=()):
        self.raw = {"title": title or "", "abstract": abstract or "", "authors": "; ".join(authors)}
        # Padded so that " term " finds whole words only.
        self.folded = {name: f" {fold(text)} " for name, text in self.raw.items()}
        self._words: dict[str, set[str]] = {}

    def words(self, field: str) -> set[str]:
        if field not in self._words:
            self._words[field] = set(self.folded[field].split())
        return self._words[field]


Matcher = Callable[[PaperText], Match | None]


def terms_of(pattern: str) -> list[str]:
    """Words of a pattern; a "quoted phrase" counts as one term."""
    return [quoted or word for quoted, word in _TERMS.findall(pattern)]


def compile_rule(rule: Rule) -> Matcher:
    """A function that matches papers against the rule; RuleError if it is unusable."""
    rules = RuleSet([rule])
    return lambda text: rules.match(text).get(0)


class RuleSet:
    """Many rules matched against a paper in one pass over its words.

    Word and phrase terms of every rule are indexed by word, so a paper costs about as
    much as it has words, however many rules there are; regular expressions and fuzzy
    rules are tried one by one.
    """

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.words: dict[str, list[tuple[int, int]]] = {}  # folded word -> (rule, term)
        self.phrases: dict[str, list[tuple[int, int, str]]] = {}  # first word -> (.., needle)
        self.exact: list[tuple[int, int, str, re.Pattern]] = []  # case-sensitive terms
        self.searchers: dict[int, Callable[[PaperText], Match | None]] = {}
        self.term_counts: list[int] = []
        for number, rule in enumerate(rules):
            self.term_counts.append(self._add(number, rule))

    def _add(self, number: int, rule: Rule) -> int:
        if rule.algorithm not in ALGORITHMS:
            raise RuleError(
                f"unknown algorithm {rule.algorithm!r}; use one of {', '.join(ALGORITHMS)}"
            )
        if set(rule.fields) - set(FIELDS) or not rule.fields:
            raise RuleError(f"fields must be some of {', '.join(FIELDS)}")
        if rule.algorithm == NONE:
            return 0
        if not rule.pattern.strip():
            raise RuleError("the pattern is empty")
        if rule.algorithm == REGEX:
            self.searchers[number] = _regex_matcher(rule)
            return 0
        if rule.algorithm == FUZZY:
            self.searchers[number] = _fuzzy_matcher(rule)
            return 0
        terms = [rule.pattern] if rule.algorithm == PHRASE else terms_of(rule.pattern)
        for position, term in enumerate(terms):
            if rule.case_sensitive:
                if not re.search(r"\w", term):
                    raise RuleError("the pattern has no letters or digits to match")
                words = r"\s+".join(map(re.escape, term.split()))
                pattern = re.compile(r"(?<!\w)" + words + r"(?!\w)")
                self.exact.append((number, position, term.split()[0], pattern))
                continue
            folded = fold(term)
            if not folded:
                raise RuleError("the pattern has no letters or digits to match")
            if " " in folded:
                first = folded.split(" ", 1)[0]
                self.phrases.setdefault(first, []).append((number, position, f" {folded} "))
            else:
                self.words.setdefault(folded, []).append((number, position))
        return len(terms)

    def match(self, text: PaperText) -> dict[int, Match]:
        """The rules (by their index) that match the paper, with what each found."""
        # found[rule][field][term position] = the term as found
        found: dict[int, dict[str, dict[int, str]]] = {}
        for field in FIELDS:
            words = text.words(field)
            for word in words & self.words.keys():
                for number, position in self.words[word]:
                    found.setdefault(number, {}).setdefault(field, {})[position] = word
            for first in words & self.phrases.keys():
                for number, position, needle in self.phrases[first]:
                    if needle in text.folded[field]:
                        hit = needle.strip()
                        found.setdefault(number, {}).setdefault(field, {})[position] = hit
            raw = text.raw[field]
            for number, position, first, pattern in self.exact:
                if first in raw and (hit := pattern.search(raw)):
                    found.setdefault(number, {}).setdefault(field, {})[position] = hit.group()
        matches = {}
        for number, by_field in found.items():
            rule = self.rules[number]
            if match := _decide(rule, by_field, self.term_counts[number]):
                matches[number] = match
        for number, search in self.searchers.items():
            if match := search(text):
                matches[number] = match
        return matches


def _decide(rule: Rule, by_field: dict[str, dict[int, str]], terms: int) -> Match | None:
    need_all = rule.algorithm in (ALL, PHRASE)
    for field in rule.fields:
        hits = by_field.get(field)
        if hits and (len(hits) == terms or not need_all):
            return Match(field, _terms(hits))
    if need_all and len(rule.fields) > 1:
        # An ALL rule whose words are spread over several fields still matches.
        spread: dict[int, str] = {}
        for field in rule.fields:
            for position, hit in by_field.get(field, {}).items():
                spread.setdefault(position, hit)
        if len(spread) == terms:
            return Match("+".join(rule.fields), _terms(spread))
    return None


def _terms(hits: dict[int, str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hits[position] for position in sorted(hits)))[:MAX_TERMS]


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
