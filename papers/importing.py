"""The one write path for papers: identity, merge and batched upsert.

Records arrive from any parser in `papers.sources`. Each is matched to an existing
paper (bare arXiv id, else DOI, else normalised title with a compatible first author),
merged into it, and written in batches: every batch is one transaction, so an
interrupted import leaves only whole papers and a second run completes it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from papers import identity
from papers.models import Author, Authorship, ImportRun, Paper
from papers.sources import PaperRecord, RecordError

BATCH_SIZE = 1000

# Column limits checked before writing, so that one oversized field fails its record
# instead of the whole batch.
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

# Fields copied from a record when it has a value for them.
_MERGED_FIELDS = (
    "title",
    "abstract",
    "arxiv_version",
    "doi",
    "comment",
    "journal_ref",
    "published_at",
    "updated_at",
    "daily_date",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
)


def start_run(
    *, source: str, params: dict | None = None, trigger: str = "command", started_by=None
) -> ImportRun:
    return ImportRun.objects.create(
        source=source, params=params or {}, trigger=trigger, started_by=started_by
    )


def import_records(
    items: Iterable[PaperRecord | RecordError],
    *,
    run: ImportRun,
    on_batch: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Import parsed records into the corpus, keeping counts and errors on `run`."""
    try:
        for batch in _batches(items, BATCH_SIZE):
            records = []
            for item in batch:
                problem = item.message if isinstance(item, RecordError) else _invalid(item)
                if problem:
                    _record_error(run, item.position, problem)
                else:
                    records.append(item)
            run.seen += len(batch)
            with transaction.atomic():
                outcome = _upsert(records, first_seen_at=run.started_at)
            run.created += outcome.created
            run.updated += outcome.updated
            run.unchanged += outcome.unchanged
            run.save(update_fields=_COUNT_FIELDS)
            if on_batch:
                on_batch(run)
    except Exception as exc:
        _finish(run, ImportRun.Status.FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    _finish(run, ImportRun.Status.SUCCEEDED)
    return run


_COUNT_FIELDS = ["seen", "created", "updated", "unchanged", "failed", "errors"]


def _batches(items: Iterable, size: int):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _finish(run: ImportRun, status: str, *, message: str = "") -> None:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.save(update_fields=[*_COUNT_FIELDS, "status", "message", "finished_at"])


def _record_error(run: ImportRun, position: str, message: str) -> None:
    run.failed += 1
    if len(run.errors) < ImportRun.MAX_ERRORS:
        run.errors.append({"position": position, "message": message})


def _invalid(record: PaperRecord) -> str:
    if not record.title.strip():
        return "no title"
    for name, limit in _MAX_LENGTHS.items():
        value = getattr(record, name) or ""
        if len(value) > limit:
            return f"{name} is longer than {limit} characters"
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
    byline_changed: list[Paper] = field(default_factory=list)


class _Index:
    """Papers of one batch, findable by each identity."""

    def __init__(self, papers: Iterable[Paper]):
        self.by_arxiv: dict[str, Paper] = {}
        self.by_doi: dict[str, Paper] = {}
        self.by_title: dict[str, list[Paper]] = {}
        for paper in papers:
            self.add(paper)

    def add(self, paper: Paper) -> None:
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        if paper.doi:
            self.by_doi[paper.doi] = paper
        self.by_title.setdefault(paper.title_key, []).append(paper)

    def find(self, record: PaperRecord, key: str) -> Paper | None:
        if record.arxiv_id and record.arxiv_id in self.by_arxiv:
            return self.by_arxiv[record.arxiv_id]
        if record.doi and record.doi in self.by_doi:
            return self.by_doi[record.doi]
        for paper in self.by_title.get(key, ()):
            if _compatible(paper, record):
                return paper
        return None


def _compatible(paper: Paper, record: PaperRecord) -> bool:
    """Whether a title match may be the same paper: no conflicting identifier or byline."""
    if record.arxiv_id and paper.arxiv_id and record.arxiv_id != paper.arxiv_id:
        return False
    if record.doi and paper.doi and record.doi != paper.doi:
        return False
    return identity.same_first_author(paper.author_names, record.authors)


def _upsert(records: list[PaperRecord], *, first_seen_at) -> _Outcome:
    outcome = _Outcome()
    if not records:
        return outcome
    keys = [identity.title_key(record.title) for record in records]
    matches = (
        Q(title_key__in=set(keys))
        | Q(arxiv_id__in={r.arxiv_id for r in records if r.arxiv_id})
        | Q(doi__in={r.doi for r in records if r.doi})
    )
    index = _Index(Paper.objects.filter(matches).select_for_update())
    for record, key in zip(records, keys, strict=True):
        paper = index.find(record, key)
        if paper is None:
            paper = Paper(title_key=key, first_seen_at=first_seen_at)
            _merge(paper, record)
            index.add(paper)
            outcome.new_papers.append(paper)
            outcome.created += 1
            continue
        byline_before = list(paper.author_names)
        if _merge(paper, record):
            paper.title_key = identity.title_key(paper.title)
            outcome.updated += 1
            if paper.pk:
                outcome.changed_papers[paper.pk] = paper
                if paper.author_names != byline_before:
                    outcome.byline_changed.append(paper)
        else:
            outcome.unchanged += 1

    Paper.objects.bulk_create(outcome.new_papers)
    if outcome.changed_papers:
        Paper.objects.bulk_update(
            outcome.changed_papers.values(),
            [*_MERGED_FIELDS, "title_key", "author_names", "categories", "sources", "arxiv_id"],
        )
    Authorship.objects.filter(paper__in=outcome.byline_changed).delete()
    _write_bylines([*outcome.new_papers, *outcome.byline_changed])
    return outcome


def _merge(paper: Paper, record: PaperRecord) -> bool:
    """Copy what the record knows into the paper; say whether anything changed."""
    changed = False
    for name in _MERGED_FIELDS:
        value = getattr(record, name)
        if value not in (None, "") and getattr(paper, name) != value:
            setattr(paper, name, value)
            changed = True
    if record.arxiv_id and paper.arxiv_id != record.arxiv_id:
        paper.arxiv_id = record.arxiv_id
        changed = True
    if record.authors and list(record.authors) != paper.author_names:
        paper.author_names = list(record.authors)
        changed = True
    if record.categories and list(record.categories) != paper.categories:
        paper.categories = list(record.categories)
        changed = True
    if record.source not in paper.sources:
        paper.sources = [*paper.sources, record.source]
        changed = True
    return changed


def _write_bylines(papers: list[Paper]) -> None:
    """Point each paper's Authorship rows at the Author rows of its byline."""
    if not papers:
        return
    names = {identity.author_key(n): n for p in papers for n in p.author_names}
    names.pop("", None)
    Author.objects.bulk_create(
        [Author(name=name, name_key=key) for key, name in names.items()],
        ignore_conflicts=True,
    )
    author_ids = dict(Author.objects.filter(name_key__in=names).values_list("name_key", "id"))
    Authorship.objects.bulk_create(
        Authorship(paper=paper, author_id=author_ids[key], position=position)
        for paper in papers
        for position, key in enumerate(
            k for k in (identity.author_key(n) for n in paper.author_names) if k
        )
    )
