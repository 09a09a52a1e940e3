"""The text of a Hugging Face Papers listing page, as copied from a browser.

Two header lines ("Get trending papers in your email inbox…"), then a title line and an
abstract line per paper. Copying glues the Subscribe button's label to the first title.
"""

from collections.abc import Iterator

from papers.sources.records import PaperRecord, RecordError, SourceError
from papers.sources.text import decode_text, find_links

FORMAT = "hf-listing"
_HEADER = "Get trending papers in your email inbox"
_GLUED_BUTTON = "Subscribe"
# A title longer than this is an abstract out of step with its title line.
MAX_TITLE = 500


def looks_like(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(_HEADER.encode())


def parse(data: bytes) -> Iterator[PaperRecord | RecordError]:
    text = decode_text(data, what="listing text")
    lines = [line.strip() for line in text.splitlines()]
    header_end = 0
    while header_end < len(lines) and lines[header_end].startswith(_HEADER):
        header_end += 1
    if header_end == 0:
        raise SourceError(f"not a listing: the first line should start with {_HEADER!r}")
    return _records(lines, header_end)


def _records(lines: list[str], start: int) -> Iterator[PaperRecord | RecordError]:
    body = [(number, line) for number, line in enumerate(lines, 1) if number > start and line]
    if body and body[0][1].startswith(_GLUED_BUTTON):
        number, line = body[0]
        body[0] = (number, line.removeprefix(_GLUED_BUTTON).strip())
    for index in range(0, len(body), 2):
        number, title = body[index]
        position = f"line {number}"
        if index + 1 >= len(body):
            yield RecordError(position, "title without an abstract line after it")
            return
        abstract = body[index + 1][1]
        if not title:
            yield RecordError(position, "empty title")
            continue
        if len(title) > MAX_TITLE:
            yield RecordError(position, f"title longer than {MAX_TITLE} characters")
            continue
        code_url, project_url = find_links(abstract)
        yield PaperRecord(
            source=FORMAT,
            position=position,
            title=title,
            abstract=abstract,
            code_url=code_url,
            project_url=project_url,
        )
