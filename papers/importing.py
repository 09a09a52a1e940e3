"""The one write path for papers: identity, merge and batched upsert.

Records arrive from any parser in `papers.sources`. Each is matched to an existing paper
(bare arXiv id, else DOI, else normalised title with a compatible first author) and
merged into it; new and changed papers are then written in batches. Every batch is one
transaction, so an interrupted import leaves only whole papers, and running it again
completes it without duplicates.

Merging, field by field:
- a value never replaces a known one from a source ranked higher for that field
  (`BIBLIOGRAPHIC_RANK`, `LINK_RANK`); an empty field takes a value from any source;
- a record of an older arXiv version than the one known only fills empty fields; a newer
  version is recorded as a `PaperVersion` and its fields win;
- the Hugging Face signals (upvotes, stars, keywords, daily date) take the latest value.
The search vector is left empty on every paper written; `after_import()` fills it and
tags the papers the run wrote.
"""

import contextlib
import dataclasses
import hashlib
import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

import psycopg
from django.contrib.postgres.fields import ArrayField
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from papers import identity, results, search
from papers.models import Author, Authorship, ImportRun, Paper, PaperVersion, TitleAlias
from papers.sources import PaperRecord, RecordError
from papers.tagging import applying

BATCH_SIZE = 2000
# Imports writing at least this many papers refresh the planner's statistics.
ANALYZE_AFTER = 5000
# Runs that have not reported progress for this long died with their process.
STALE_AFTER = timedelta(minutes=15)
# Serialises the write phase of concurrent imports: identity by title cannot be a
# unique constraint, so two imports must not both create the same paper.
_IMPORT_LOCK = 0x7061_7065

# Higher wins. arXiv's own services describe a paper best; a reference manager's copy
# may be abbreviated or re-capitalised; the listing text has only title and abstract.
BIBLIOGRAPHIC_RANK = {
    "arxiv-oai": 5,
    "arxiv-api": 5,
    "arxiv-snapshot": 4,
    "hf-daily": 3,
    "bibtex": 2,
    "ris": 2,
    "hf-listing": 1,
}
# Code and project links: the daily list's are curated by the authors themselves.
LINK_RANK = {"hf-daily": 5, "hf-listing": 4, "bibtex": 3, "ris": 3}
ARXIV_SOURCES = {"arxiv-oai", "arxiv-api", "arxiv-snapshot"}
BIBLIOGRAPHIC_FIELDS = (
    "title",
    "abstract",
    "doi",
    "comment",
    "journal_ref",
    "published_at",
    "abs_url",
    "pdf_url",
)
LINK_FIELDS = ("code_url", "project_url")
SIGNAL_FIELDS = ("daily_date", "hf_upvotes", "github_stars")
URL_FIELDS = ("abs_url", "pdf_url", "code_url", "project_url")

# Column limits checked before writing, so that one oversized field fails its record
# instead of its whole batch.
_MAX_LENGTHS = {
    "arxiv_id": 32,
    "doi": 255,
    "abs_url": 500,
    "pdf_url": 500,
    "code_url": 500,
    "project_url": 500,
    "title": 2000,
    "abstract": 100_000,
    "comment": 5000,
    "journal_ref": 2000,
}
_MAX_AUTHORS = 2000
_MAX_AUTHOR_NAME = 300
_MAX_CATEGORY = 32
_MAX_KEYWORD = 100


def start_run(
    *, source: str, params: dict | None = None, trigger: str = "command", started_by=None
) -> ImportRun:
    ImportRun.objects.filter(
        status=ImportRun.Status.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
    ).update(status=ImportRun.Status.INTERRUPTED)
    return ImportRun.objects.create(
        source=source, params=params or {}, trigger=trigger, started_by=started_by
    )


def import_and_process(items, *, run: ImportRun, on_batch=None) -> ImportRun:
    """Import records, then make the papers they touched searchable and tagged."""
    import_records(items, run=run, on_batch=on_batch)
    after_import(run)
    return run


def after_import(run: ImportRun) -> None:
    """The steps that follow a run: search vectors, then tags of the papers it wrote."""
    search.index_papers()
    touched = Paper.objects.filter(modified_at__gte=run.started_at).order_by("pk")
    applying.tag_papers(touched.values_list("pk", flat=True).iterator(chunk_size=10_000))
    if run.created + run.updated >= ANALYZE_AFTER:
        # A big import changes the tables' make-up faster than autovacuum notices; until
        # it does, the planner misjudges the pages' queries (10x slower, measured).
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE papers_paper, papers_author, papers_authorship, papers_papertag"
            )
    if run.created or run.updated:
        results.corpus_changed()


def import_records(
    items: Iterable[PaperRecord | RecordError],
    *,
    run: ImportRun,
    on_batch: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Import parsed records into the corpus, keeping counts and errors on `run`.

    Ends the run: succeeded, or failed with the reason when something raised.
    """
    author_ids: dict[str, int] = {}  # remembered across batches: bylines repeat names
    try:
        for batch in _read_ahead(_batches(items, BATCH_SIZE)):
            import_batch(batch, run=run, author_ids=author_ids)
            if on_batch:
                on_batch(run)
    except Exception as exc:
        finish_run(run, failure=f"{type(exc).__name__}: {exc}")
        raise
    finish_run(run)
    return run


def import_batch(
    items: list[PaperRecord | RecordError],
    *,
    run: ImportRun,
    author_ids: dict[str, int] | None = None,
) -> None:
    """Write one batch of records in one transaction and add its counts to `run`.

    `author_ids` maps folded author names to ids already written by earlier batches. If
    the database refuses the batch, its records are written one by one, so that only
    the record it refuses fails.
    """
    author_ids = {} if author_ids is None else author_ids
    records = []  # (record, fingerprint)
    for item in items:
        if isinstance(item, RecordError):
            _record_error(run, item.position, item.message)
            continue
        record, said = _storable(item)
        if problem := _invalid(record):
            _record_error(run, item.position, problem)
        else:
            records.append((record, _digest(said)))
    run.seen += len(items)
    outcome = _write_batch(records, run=run, author_ids=author_ids)
    if outcome is None:
        outcome = _Outcome()
        for record, fingerprint in records:
            single = _write_batch([(record, fingerprint)], run=run, author_ids=author_ids)
            if single is None:
                _record_error(run, record.position, "the database refused this record")
                continue
            outcome.created += single.created
            outcome.updated += single.updated
            outcome.unchanged += single.unchanged
    run.created += outcome.created
    run.updated += outcome.updated
    run.unchanged += outcome.unchanged
    run.heartbeat_at = timezone.now()
    run.save(update_fields=[*_COUNT_FIELDS, "heartbeat_at"])


def _write_batch(records, *, run: ImportRun, author_ids: dict[str, int]) -> "_Outcome | None":
    """The batch's outcome, or None when the database refused it (nothing was written)."""
    known_authors = dict(author_ids)
    try:
        with transaction.atomic():
            return _upsert(records, first_seen_at=run.started_at, author_ids=author_ids)
    except (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError):
        # (COPY goes through psycopg directly, so its errors arrive unwrapped.)
        # Author ids learnt in the rolled-back transaction do not exist.
        author_ids.clear()
        author_ids.update(known_authors)
        return None


# What a curator may correct; a corrected field is kept from every later import.
CURATABLE = {
    *BIBLIOGRAPHIC_FIELDS,
    *LINK_FIELDS,
    *SIGNAL_FIELDS,
    "author_names",
    "categories",
    "keywords",
    "arxiv_version",
    "updated_at",
}


def save_curated(paper: Paper, *, changed: Iterable[str]) -> None:
    """Save a curator's edit of a paper."""
    changed = set(changed)
    former_key, paper.title_key = paper.title_key, identity.title_key(paper.title)
    paper.curated_fields = sorted(set(paper.curated_fields) | (changed & CURATABLE))
    with transaction.atomic():
        paper.save()
        if former_key and former_key != paper.title_key:
            TitleAlias.objects.get_or_create(paper=paper, title_key=former_key)
        if "author_names" in changed:
            Authorship.objects.filter(paper=paper).delete()
            _insert_bylines([paper], {})
    search.index_papers(paper_ids=[paper.pk])


def finish_run(run: ImportRun, *, failure: str = "") -> None:
    run.status = ImportRun.Status.FAILED if failure else ImportRun.Status.SUCCEEDED
    run.message = failure
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=[*_COUNT_FIELDS, "status", "message", "finished_at", "heartbeat_at"])


_COUNT_FIELDS = ["seen", "created", "updated", "unchanged", "failed", "errors"]


def _batches(items: Iterable, size: int):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


_DONE = object()


def _read_ahead(batches: Iterator[list], depth: int = 2) -> Iterator[list]:
    """Parse the next batches in a thread while this one writes the current batch.

    Parsers are pure Python and PostgreSQL works while this thread waits on it, so the
    two overlap; `depth` bounds how much parsed input waits in memory.
    """
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for batch in batches:
                if stop.is_set():
                    return
                ahead.put(batch)
            ahead.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            ahead.put(exc)

    worker = threading.Thread(target=produce, daemon=True, name="import-read-ahead")
    worker.start()
    try:
        while (batch := ahead.get()) is not _DONE:
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.1)


def _record_error(run: ImportRun, position: str, message: str) -> None:
    run.failed += 1
    if len(run.errors) < ImportRun.MAX_ERRORS:
        run.errors.append({"position": position, "message": message[:500]})


_SURROGATES = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_TEXTS = [f.name for f in dataclasses.fields(PaperRecord) if f.type in (str, "str", str | None)]
_INT_LIMITS = {"upvotes": 2**31 - 1, "github_stars": 2**31 - 1, "arxiv_version": 2**15 - 1}


def _storable(record: PaperRecord) -> tuple[PaperRecord, str]:
    """The record without what PostgreSQL cannot store — NUL characters and lone
    surrogates in text (replaced), numbers outside their columns' range (dropped) — and
    what it says (see `_said`), computed once for both checks and the fingerprint."""
    said = _said(record)
    changes = {}
    for name, limit in _INT_LIMITS.items():
        value = getattr(record, name)
        if value is not None and not 0 <= value <= limit:
            changes[name] = None
    if _UNSTORABLE.search(said):
        for name in _TEXTS:
            if value := getattr(record, name):
                changes[name] = _clean_text(value)
        for name in ("authors", "keywords", "categories"):
            changes[name] = tuple(_clean_text(v) for v in getattr(record, name))
    if not changes:
        return record, said
    record = dataclasses.replace(record, **changes)
    return record, _said(record)


def _clean_text(text: str) -> str:
    return _SURROGATES.sub("\ufffd", text.replace("\x00", ""))


def _invalid(record: PaperRecord) -> str:
    if not record.title.strip():
        return "no title"
    for name, limit in _MAX_LENGTHS.items():
        value = getattr(record, name) or ""
        if len(value) > limit:
            return f"{name} is longer than {limit} characters"
    for name in URL_FIELDS:
        value = getattr(record, name)
        if value and not value.startswith(("https://", "http://")):
            return f"{name} is not an http(s) address"
    if len(record.authors) > _MAX_AUTHORS:
        return f"more than {_MAX_AUTHORS} authors"
    if any(len(name) > _MAX_AUTHOR_NAME for name in record.authors):
        return f"an author name is longer than {_MAX_AUTHOR_NAME} characters"
    return ""


@dataclass
class _Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_papers: list[Paper] = field(default_factory=list)
    changed_papers: dict[int, Paper] = field(default_factory=dict)
    byline_changed: dict[int, Paper] = field(default_factory=dict)
    versions: list[tuple[Paper, PaperVersion]] = field(default_factory=list)


class IdentityIndex:
    """Papers of one batch, findable by each identity; kept current as records merge."""

    def __init__(self, papers: Iterable, aliases: dict[int, list[str]]):
        self.by_arxiv: dict[str, object] = {}
        self.by_doi: dict[str, object] = {}
        self.by_title: dict[str, list] = {}
        self.aliases = aliases  # former title keys, by paper id
        for paper in papers:
            self.add(paper)

    def add(self, paper, *, old_title_key: str | None = None) -> None:
        if old_title_key is not None and old_title_key != paper.title_key:
            self.by_title[old_title_key] = [
                other for other in self.by_title.get(old_title_key, []) if other is not paper
            ]
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        if paper.doi:
            self.by_doi[paper.doi] = paper
        for key in (paper.title_key, *self.aliases.get(paper.pk, ())):
            # Once loaded in full, a paper replaces its light stand-in.
            same = [
                other
                for other in self.by_title.get(key, [])
                if other is not paper and (paper.pk is None or other.pk != paper.pk)
            ]
            self.by_title[key] = [*same, paper]

    def find(self, record: PaperRecord, key: str):
        if record.arxiv_id and record.arxiv_id in self.by_arxiv:
            return self.by_arxiv[record.arxiv_id]
        by_doi = self.by_doi.get(record.doi) if record.doi else None
        if by_doi is not None and not _other_arxiv_id(by_doi, record):
            return by_doi
        for paper in self.by_title.get(key, ()):
            if _compatible(paper, record):
                return paper
        return None

    def unclaimed(self, record: PaperRecord, paper) -> PaperRecord:
        """The record without identifiers that already name another paper.

        Two arXiv entries may cite one DOI (an erratum, a proceedings volume): the DOI
        stays with the paper that had it first rather than merging the two.
        """
        changes = {}
        if record.doi and self.by_doi.get(record.doi) not in (None, paper):
            changes["doi"] = None
        if record.arxiv_id and self.by_arxiv.get(record.arxiv_id) not in (None, paper):
            changes["arxiv_id"] = None
        return dataclasses.replace(record, **changes) if changes else record


def _other_arxiv_id(paper, record: PaperRecord) -> bool:
    return bool(record.arxiv_id and paper.arxiv_id and record.arxiv_id != paper.arxiv_id)


def _compatible(paper: Paper, record: PaperRecord) -> bool:
    """Whether a title match may be the same paper: no conflicting identifier or byline."""
    if _other_arxiv_id(paper, record):
        return False
    if record.doi and paper.doi and record.doi != paper.doi:
        return False
    return identity.same_first_author(paper.author_names, record.authors)


_IDENTITY_FIELDS = ("id", "arxiv_id", "doi", "title_key", "author_names", "fingerprints")


@dataclasses.dataclass(slots=True)
class _Known:
    """What identity needs of a stored paper; loaded in full only if a record changes it."""

    pk: int
    arxiv_id: str | None
    doi: str | None
    title_key: str
    author_names: list[str]
    fingerprints: dict[str, str]


def _upsert(
    fingerprinted: list[tuple[PaperRecord, str]], *, first_seen_at, author_ids: dict[str, int]
) -> _Outcome:
    outcome = _Outcome()
    if not fingerprinted:
        return outcome
    records = [record for record, _ in fingerprinted]
    prints = [fingerprint for _, fingerprint in fingerprinted]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])
    keys = [identity.title_key(record.title) for record in records]
    # Identity first, from a light query; then in full only the papers a record may change.
    title_keys = list(set(keys))
    aliases: dict[int, list[str]] = {}
    for paper_id, alias in TitleAlias.objects.filter(title_key__in=title_keys).values_list(
        "paper_id", "title_key"
    ):
        aliases.setdefault(paper_id, []).append(alias)
    # One array parameter per identity rather than thousands of IN parameters: the same
    # index scans, without the cost of building and splitting a huge statement.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_IDENTITY_FIELDS)} FROM {Paper._meta.db_table} "
            "WHERE title_key = ANY(%s) OR arxiv_id = ANY(%s) OR doi = ANY(%s) OR id = ANY(%s)",
            [
                title_keys,
                list({r.arxiv_id for r in records if r.arxiv_id}),
                list({r.doi for r in records if r.doi}),
                list(aliases),
            ],
        )
        # Django has psycopg hand over JSON as text, to decode it itself.
        known = [_Known(*row[:-1], json.loads(row[-1])) for row in cursor.fetchall()]
    light = IdentityIndex(known, aliases)
    stale = {
        paper.pk
        for record, key, fingerprint in zip(records, keys, prints, strict=True)
        if (paper := light.find(record, key))
        and paper.fingerprints.get(record.source) != fingerprint
    }
    # Locked, so that a vote or a curator's edit made meanwhile is not written over.
    full = _locked(stale)
    index = IdentityIndex((full.get(paper.pk, paper) for paper in known), aliases)

    for record, key, fingerprint in zip(records, keys, prints, strict=True):
        paper = index.find(record, key)
        if paper is None:
            paper = Paper(title_key=key, first_seen_at=first_seen_at)
            _merge(paper, index.unclaimed(record, paper), outcome)
            paper.fingerprints = {record.source: fingerprint}
            index.add(paper)
            outcome.new_papers.append(paper)
            outcome.created += 1
            continue
        if paper.fingerprints.get(record.source) == fingerprint:
            outcome.unchanged += 1
            continue
        if isinstance(paper, _Known):  # matched only once earlier records had merged
            paper = full[paper.pk] = _locked([paper.pk])[paper.pk]
            index.add(paper)
        byline_before, title_key_before = paper.author_names, paper.title_key
        changed = _merge(paper, index.unclaimed(record, paper), outcome)
        paper.fingerprints = {**paper.fingerprints, record.source: fingerprint}
        if changed:
            paper.title_key = identity.title_key(paper.title)
            outcome.updated += 1
        else:
            outcome.unchanged += 1
        index.add(paper, old_title_key=title_key_before)
        if paper.pk:  # written even when only the fingerprint moved, so it is skipped next time
            outcome.changed_papers[paper.pk] = paper
            if paper.author_names != byline_before:
                outcome.byline_changed[paper.pk] = paper

    _insert_papers(outcome.new_papers)
    _update_papers(list(outcome.changed_papers.values()))
    Authorship.objects.filter(paper_id__in=list(outcome.byline_changed)).delete()
    _insert_bylines([*outcome.new_papers, *outcome.byline_changed.values()], author_ids)
    _upsert_versions(outcome.versions)
    return outcome


_SAID = [f.name for f in dataclasses.fields(PaperRecord) if f.name != "position"]
# Part of every fingerprint: raise it when merging changes, and every paper is merged
# again the next time a source sends it.
MERGE_VERSION = "3"


def _locked(ids) -> dict:
    if not ids:
        return {}
    return Paper.objects.select_for_update().defer("search_vector").in_bulk(list(ids))


def _said(record: PaperRecord) -> str:
    """Everything the record says but where in its input it stood, as one string."""
    parts = []
    for name in _SAID:
        value = getattr(record, name)
        if isinstance(value, tuple) and name != "versions":
            parts.append("\x1e".join(value))
        else:
            parts.append(str(value))
    return MERGE_VERSION + "\x1f".join(parts)


def _digest(said: str) -> str:
    return hashlib.blake2b(said.encode(), digest_size=12).hexdigest()


def _rank(table: dict[str, int], sources: Iterable[str]) -> int:
    return max((table.get(source, 0) for source in sources), default=0)


def _merge(paper: Paper, record: PaperRecord, outcome: _Outcome) -> bool:
    """Copy what the record knows into the paper; say whether anything changed."""
    before = _snapshot(paper)
    known_version = paper.arxiv_version
    # Only arXiv's own services speak for versions; a reference manager's "v3" is a
    # citation of one, not news of it.
    version = (
        record.arxiv_version or max((v.number for v in record.versions), default=None)
        if record.source in ARXIV_SOURCES
        else None
    )
    newer = bool(version and known_version and version > known_version)
    older = bool(version and known_version and version < known_version)
    curated = set(paper.curated_fields)

    def take(name, value, wins):
        if name not in curated:
            _take(paper, name, value, wins)

    if record.arxiv_id and not paper.arxiv_id:
        paper.arxiv_id = record.arxiv_id
    if version and not older:
        paper.arxiv_version = version
        paper.updated_at = record.updated_at or paper.updated_at

    record_rank = BIBLIOGRAPHIC_RANK.get(record.source, 0)
    wins = newer or (not older and record_rank >= _rank(BIBLIOGRAPHIC_RANK, paper.sources))
    for name in BIBLIOGRAPHIC_FIELDS:
        take(name, getattr(record, name), wins)
    if record.authors and (wins or not paper.author_names) and "author_names" not in curated:
        paper.author_names = list(record.authors)
    # Over-long categories and keywords are free text that strayed into a list: dropped,
    # rather than failing a paper that is otherwise fine.
    categories = [c for c in record.categories if len(c) <= _MAX_CATEGORY]
    if categories and (wins or not paper.categories) and "categories" not in curated:
        paper.categories = categories

    link_wins = LINK_RANK.get(record.source, 0) >= _rank(LINK_RANK, paper.sources)
    for name in LINK_FIELDS:
        take(name, getattr(record, name), link_wins)

    for name in SIGNAL_FIELDS:
        take(name, record.upvotes if name == "hf_upvotes" else getattr(record, name), True)
    keywords = [k for k in record.keywords if len(k) <= _MAX_KEYWORD]
    if keywords and "keywords" not in curated:
        paper.keywords = keywords
    if record.source not in paper.sources:
        paper.sources = [*paper.sources, record.source]

    changed = _snapshot(paper) != before
    _collect_versions(paper, record, version, known_version if newer else None, before, outcome)
    return changed


def _take(paper: Paper, name: str, value, wins: bool) -> None:
    if value in (None, ""):
        return
    if wins or getattr(paper, name) in (None, ""):
        setattr(paper, name, value)


_MERGED = (
    "arxiv_id",
    "arxiv_version",
    "updated_at",
    *BIBLIOGRAPHIC_FIELDS,
    *LINK_FIELDS,
    *SIGNAL_FIELDS,
    "author_names",
    "categories",
    "keywords",
    "sources",
)


def _snapshot(paper: Paper) -> tuple:
    return tuple(
        tuple(value) if isinstance(value := getattr(paper, name), list) else value
        for name in _MERGED
    )


_TITLE, _ABSTRACT = _MERGED.index("title"), _MERGED.index("abstract")


def _collect_versions(paper, record, version, replaced_version, before, outcome) -> None:
    """Version rows to write: those the record lists, and the one it describes.

    When it brings a newer version, the title and abstract the paper had are kept on
    the version they belonged to, and the new ones on the new version, where they differ.
    """
    for known in record.versions:
        outcome.versions.append(
            (
                paper,
                PaperVersion(number=known.number, submitted_at=known.submitted_at, size=known.size),
            )
        )
    if not version:
        return
    previous_title, previous_abstract = before[_TITLE], before[_ABSTRACT]
    title_changed = replaced_version and previous_title and record.title != previous_title
    abstract_changed = (
        replaced_version
        and previous_abstract
        and record.abstract
        and record.abstract != previous_abstract
    )
    if title_changed or abstract_changed:
        outcome.versions.append(
            (
                paper,
                PaperVersion(
                    number=replaced_version,
                    title=previous_title if title_changed else "",
                    abstract=previous_abstract if abstract_changed else "",
                ),
            )
        )
    outcome.versions.append(
        (
            paper,
            PaperVersion(
                number=version,
                submitted_at=record.updated_at,
                comment=record.comment,
                title=record.title if title_changed else "",
                abstract=record.abstract if abstract_changed else "",
            ),
        )
    )


# Writing. Django's bulk_create/bulk_update build one huge statement per batch; COPY and
# a joined UPDATE do the same work several times faster, which matters for snapshots.

_COLUMNS = [
    f
    for f in Paper._meta.concrete_fields
    if f.name not in ("id", "search_vector", "related_at") and not f.generated
]


_ATTNAMES = [f.attname for f in _COLUMNS]
_NOT_FROM_SOURCES = {"vote_count", "save_count", "first_seen_at", "curated_fields"}
_ARRAYS = {f.attname for f in _COLUMNS if isinstance(f, ArrayField)}
_JSON = {f.attname for f in _COLUMNS if isinstance(f, JSONField)}


def _row(paper: Paper) -> tuple:
    # Every column's Python value is what psycopg writes for it, but arrays, which it
    # dumps element by element; a literal built here is several times faster.
    values = paper.__dict__
    return (
        paper.pk,
        *(
            _array_literal(values[name])
            if name in _ARRAYS
            else json.dumps(values[name])
            if name in _JSON
            else values[name]
            for name in _ATTNAMES
        ),
    )


def _array_literal(values: list[str]) -> str:
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _copy(cursor, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_papers(papers: list[Paper]) -> None:
    if not papers:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Paper._meta.db_table, len(papers)],
        )
        for paper, (pk,) in zip(papers, cursor.fetchall(), strict=True):
            paper.pk = pk
            paper.modified_at = now
        _copy(
            cursor.cursor,
            Paper._meta.db_table,
            ["id", *(f.column for f in _COLUMNS)],
            map(_row, papers),
        )


def _update_papers(papers: list[Paper]) -> None:
    if not papers:
        return
    now = timezone.now()
    for paper in papers:
        paper.modified_at = now
    table = Paper._meta.db_table
    columns = [f.column for f in _COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE paper_changes (LIKE {table}) ON COMMIT DROP")
        _copy(cursor.cursor, "paper_changes", ["id", *columns], map(_row, papers))
        # Counters and the first-seen date belong to the site, not to the sources.
        assignments = ", ".join(f"{c} = changes.{c}" for c in columns if c not in _NOT_FROM_SOURCES)
        cursor.execute(
            f"UPDATE {table} SET {assignments}, search_vector = CASE WHEN "
            f"({table}.title, {table}.abstract, {table}.author_names) IS NOT DISTINCT FROM "
            f"(changes.title, changes.abstract, changes.author_names) "
            f"THEN {table}.search_vector END, related_at = CASE WHEN "
            f"({table}.title, {table}.abstract) IS NOT DISTINCT FROM "
            f"(changes.title, changes.abstract) THEN {table}.related_at END "
            f"FROM paper_changes AS changes WHERE {table}.id = changes.id"
        )
        cursor.execute("DROP TABLE paper_changes")


def _add_author_ids(names: dict[str, str], author_ids: dict[str, int]) -> None:
    """Add to `author_ids` the ids of these authors, creating those not seen before."""
    keys = [key for key in names if key not in author_ids]
    if not keys:
        return
    table = Author._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, name_key) "
            "SELECT * FROM unnest(%s::text[], %s::text[]) "
            "ON CONFLICT (name_key) DO NOTHING",
            [[names[key] for key in keys], keys],
        )
        cursor.execute(f"SELECT name_key, id FROM {table} WHERE name_key = ANY(%s)", [keys])
        author_ids.update(cursor.fetchall())


def _insert_bylines(papers: list[Paper], author_ids: dict[str, int]) -> None:
    """Authorship rows for each paper's byline."""
    names: dict[str, str] = {}
    bylines = []
    for paper in papers:
        keys = []
        for name in paper.author_names:
            if key := identity.author_key(name):
                names.setdefault(key, name)
                keys.append(key)
        bylines.append((paper.pk, keys))
    if not names:
        return
    _add_author_ids(names, author_ids)
    with connection.cursor() as cursor:
        _copy(
            cursor.cursor,
            Authorship._meta.db_table,
            ["paper_id", "author_id", "position"],
            (
                (pk, author_ids[key], position)
                for pk, keys in bylines
                for position, key in enumerate(keys)
            ),
        )


def _upsert_versions(versions: list[tuple[Paper, PaperVersion]]) -> None:
    if not versions:
        return
    rows = {}
    for paper, version in versions:
        key = (paper.pk, version.number)
        known = rows.get(key)
        if known:  # several mentions of one version in a batch: keep what each adds
            version.submitted_at = version.submitted_at or known.submitted_at
            version.size = version.size or known.size
            version.comment = version.comment or known.comment
            version.title = version.title or known.title
            version.abstract = version.abstract or known.abstract
        rows[key] = version
    table = PaperVersion._meta.db_table
    columns = ["paper_id", "number", "submitted_at", "size", "comment", "title", "abstract"]
    keep = ", ".join(
        f"{c} = COALESCE(NULLIF(EXCLUDED.{c}, ''), v.{c})"
        for c in ("size", "comment", "title", "abstract")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS v ({', '.join(columns)}, recorded_at) "
            f"SELECT *, now() FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], "
            f"%s::text[], %s::text[], %s::text[], %s::text[]) "
            f"ON CONFLICT (paper_id, number) DO UPDATE SET "
            f"submitted_at = COALESCE(EXCLUDED.submitted_at, v.submitted_at), {keep}",
            [
                list(column)
                for column in zip(
                    *(
                        (pk, number, v.submitted_at, v.size, v.comment, v.title, v.abstract)
                        for (pk, number), v in rows.items()
                    ),
                    strict=True,
                )
            ],
        )
