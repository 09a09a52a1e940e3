"""Helpers shared by the text-based parsers."""

import re

from papers.sources.records import SourceError

_URL = re.compile(r"""(?:https?://|(?<![\w./])(?=(?:www\.)?github\.com/))[^\s<>"'{}()\[\]]+""")
_TRAILING = ".,;:!?'\""
_GITHUB_REPO = re.compile(r"^https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+", re.IGNORECASE)


def decode_text(data: bytes, *, what: str) -> str:
    """Bytes → text, refusing what is plainly not a text file."""
    if not data.strip():
        raise SourceError("the file is empty")
    if b"\x00" in data:
        raise SourceError(f"the file is binary, not {what}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"the file is not UTF-8 text (undecodable byte at offset {exc.start}); "
            f"save it as UTF-8 {what}"
        ) from None
    return text


def find_links(text: str) -> tuple[str, str]:
    """The code repository and the project page mentioned in a text, if any.

    A GitHub repository (with or without `https://`) is the code link; the first other
    web address is the project page. Sentence punctuation after an address is not part of it.
    """
    code_url = project_url = ""
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        if not url.startswith("http"):
            url = "https://" + url
        host = url.split("//", 1)[1].split("/", 1)[0].lower()
        if _GITHUB_REPO.match(url):
            code_url = code_url or url.removesuffix(".git")
        elif "." in host and host not in ("github.com", "www.github.com"):
            project_url = project_url or url
    return code_url, project_url


def squash(text: str | None) -> str:
    """Whitespace (including arXiv's hard line breaks) collapsed to single spaces."""
    return " ".join(text.split()) if text else ""
