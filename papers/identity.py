"""How papers are recognised across sources: normalised identifiers and names."""

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free words separated by single spaces."""
    if not text.isascii():  # most titles and names are; decomposing them is costly
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.casefold()).strip()


def title_key(title: str) -> str:
    return fold(title)[:300]


def author_key(name: str) -> str:
    return fold(name)[:300]


def surname(name: str) -> str:
    words = fold(name).split()
    return words[-1] if words else ""


def same_first_author(a: list[str] | tuple[str, ...], b: list[str] | tuple[str, ...]) -> bool:
    """Whether two bylines could be the same paper's; unknown authors match anything."""
    if not a or not b:
        return True
    return surname(a[0]) == surname(b[0])
