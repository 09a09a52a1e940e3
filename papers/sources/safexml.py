"""Hardened, incremental reading of the XML documents remote sources send.

Hardened: entities are never expanded, no DTD is loaded and nothing is fetched, and a
document with a DOCTYPE at all is refused unread. None of the services we read sends one,
and its internal subset is where entity bombs and external entities live, so refusing it
costs nothing; the parser settings stay as a second wall behind that refusal.

Incremental: records are handed out as each one closes. When a response breaks off or
goes bad half-way, the records before the damage still count and the damage is reported
once, with its line, instead of costing the whole document.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from papers.sources.records import SourceError

# Small enough that a huge response is never parsed in one go, large enough that the
# per-call overhead is noise.
_CHUNK = 64 * 1024

Element = etree._Element


@dataclass(frozen=True, slots=True)
class Damage:
    """Where a document stops being well-formed XML, and libxml2's reason."""

    line: int
    message: str


def local_name(element: Element) -> str:
    """The tag without its namespace, so that sources that drop namespaces still match."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def named_children(element: Element, name: str) -> list[Element]:
    """Child elements with this local name, whatever namespace they are in."""
    return [child for child in element if local_name(child) == name]


def named_child(element: Element, name: str) -> Element | None:
    for child in element:
        if local_name(child) == name:
            return child
    return None


def count_of(text: str) -> int | None:
    """A count the response states (total results, list size); None if it is not one."""
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def text_of(element: Element | None) -> str:
    """All the text inside an element, markup dropped; "" for a missing element."""
    return "".join(element.itertext()) if element is not None else ""


class Document:
    """One XML document, read up to its root element; the rest is read on demand.

    Raises `SourceError` when the bytes are empty, not XML, an HTML page, or carry a
    DOCTYPE. `root` is the document element; it fills in as `records()` reads on.
    """

    def __init__(self, data: bytes, *, what: str):
        if not data.strip():
            raise SourceError("the file is empty")
        self._parser = etree.XMLPullParser(
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        self._events = self._read(data)
        # Whether the XML broke off before its end: its last records are then missing.
        self.damaged = False
        first = next(self._events, None)
        if first is None or isinstance(first, Damage):
            reason = f": {first.message} (line {first.line})" if first else ""
            raise SourceError(f"not {what}; it is not readable as XML{reason}")
        self.root: Element = first[1]
        if local_name(self.root).lower() == "html":
            raise SourceError(f"an HTML page, not {what}; check the address it came from")
        docinfo = self.root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise SourceError(
                f"not {what}: the document has a DOCTYPE declaration, which {what} never "
                "has; it is refused unread because a DOCTYPE can expand entities or fetch files"
            )

    def records(self, is_record: Callable[[Element], bool]) -> Iterator[Element | Damage]:
        """Each record element once it is complete, then a `Damage` if the XML breaks.

        A record is cleared when the caller asks for the next one, so read what you need
        from it first. Everything else stays in `root` for the caller to look at.
        """
        for item in self._events:
            if isinstance(item, Damage):
                self.damaged = True
                yield item
                return
            event, element = item
            if event != "end" or not is_record(element):
                continue
            yield element
            # Dropping finished records keeps memory flat on long harvests; the
            # previous sibling is already parsed, so the parser no longer needs it.
            previous = element.getprevious()
            element.clear(keep_tail=True)
            if previous is not None and is_record(previous):
                previous.getparent().remove(previous)

    def _read(self, data: bytes) -> Iterator[tuple[str, Element] | Damage]:
        parser = self._parser
        for start in range(0, len(data), _CHUNK):
            try:
                parser.feed(data[start : start + _CHUNK])
            except etree.XMLSyntaxError as exc:
                # The events before the error in this chunk are still queued.
                yield from parser.read_events()
                yield _damage(exc)
                return
            yield from parser.read_events()
        try:
            parser.close()
        except etree.XMLSyntaxError as exc:
            yield from parser.read_events()
            yield _damage(exc)
            return
        yield from parser.read_events()


def _damage(exc: etree.XMLSyntaxError) -> Damage:
    last = exc.error_log.last_error
    message = last.message if last is not None and last.message else str(exc.msg)
    return Damage(line=exc.lineno or 0, message=message.strip())
