"""Putting tags on papers: categories, rules and the learned tagger, with their reasons.

Every automatic tag is written with its source, confidence and reason. Tags a curator
confirmed or rejected, and tags a curator added, are never touched: re-tagging only adds,
updates and removes suggestions, so a rejected tag does not come back.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from papers.models import Paper, PaperTag, Tag, TaggerModel, TaggingRun, TagRule
from papers.tagging import categories, starter
from papers.tagging.rules import PaperText, Rule, RuleError, RuleSet, compile_rule

BATCH_SIZE = 2000
_AUTOMATIC = (PaperTag.Source.CATEGORY, PaperTag.Source.RULE, PaperTag.Source.LEARNED)


@dataclass
class Counts:
    added: int = 0
    removed: int = 0


def tag_papers(paper_ids: Iterable[int]) -> Counts:
    """(Re)tag these papers in batches, each batch in one transaction."""
    tagger = _Tagger()
    counts = Counts()
    iterator = iter(paper_ids)
    while batch := list(islice(iterator, BATCH_SIZE)):
        with transaction.atomic():
            added, removed = tagger.tag(batch)
        counts.added += added
        counts.removed += removed
    return counts


def start_retag(*, reason: str, started_by=None) -> TaggingRun:
    return TaggingRun.objects.create(reason=reason, started_by=started_by)


def retag(run: TaggingRun, *, on_batch=None) -> TaggingRun:
    """Re-tag every paper, recording progress on `run` after each batch."""
    tagger = _Tagger()
    run.total = Paper.objects.count()
    run.save(update_fields=["total"])
    try:
        last_id = 0
        while batch := list(
            Paper.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        ):
            with transaction.atomic():
                added, removed = tagger.tag(batch)
            last_id = batch[-1]
            run.done += len(batch)
            run.added += added
            run.removed += removed
            run.save(update_fields=["done", "added", "removed"])
            if on_batch:
                on_batch(run)
    except Exception as exc:
        _finish(run, TaggingRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(run, TaggingRun.Status.SUCCEEDED)
    return run


def _finish(run: TaggingRun, status: str, message: str = "") -> None:
    run.status, run.message, run.finished_at = status, message, timezone.now()
    run.save(update_fields=["status", "message", "finished_at"])


def load_starter_taxonomy() -> int:
    """Create the starter topic tags and their rules; tags that exist are left alone."""
    created = 0
    for name, description, rules in starter.TOPICS:
        tag, new = Tag.objects.get_or_create(
            slug=slugify(name), defaults={"name": name, "description": description}
        )
        if not new:
            continue
        created += 1
        for algorithm, pattern in rules:
            TagRule.objects.create(
                tag=tag,
                algorithm=algorithm.removesuffix("-cs"),
                pattern=pattern,
                case_sensitive=algorithm.endswith("-cs"),
            )
    return created


def category_tags(codes: Iterable[str]) -> dict[str, int]:
    """Tag ids of these arXiv categories, creating the tags not yet there."""
    codes = set(codes)
    known = dict(Tag.objects.filter(category__in=codes).values_list("category", "pk"))
    for code in sorted(codes - known.keys()):
        tag, _ = Tag.objects.get_or_create(
            category=code,
            defaults={
                "name": categories.name_of(code),
                "slug": slugify(code.replace(".", "-")),
                "kind": Tag.Kind.CATEGORY,
                "description": f"arXiv category {code}.",
            },
        )
        known[code] = tag.pk
    return known


class _Tagger:
    """Rules and the active model, loaded once for many batches."""

    def __init__(self):
        self.rules = []
        for rule in TagRule.objects.filter(enabled=True).select_related("tag"):
            try:
                compile_rule(_as_rule(rule))
            except RuleError:
                continue  # the admin refuses such rules; one saved before is skipped
            self.rules.append(rule)
        self.rule_set = RuleSet([_as_rule(rule) for rule in self.rules])
        self.model, self.learned = _active_model()
        self.learned_tags = (
            dict(Tag.objects.filter(slug__in=self.model.tags).values_list("slug", "pk"))
            if self.model
            else {}
        )

    def tag(self, paper_ids: list[int]) -> tuple[int, int]:
        papers = list(
            Paper.objects.filter(pk__in=paper_ids).values_list(
                "pk", "title", "abstract", "author_names", "categories"
            )
        )
        wanted: dict[tuple[int, int], tuple[str, float, str]] = {}
        ids_of = category_tags(code for *_, codes in papers for code in codes)
        for pk, title, abstract, authors, codes in papers:
            for position, code in enumerate(codes):
                where = "primary category" if position == 0 else "category"
                wanted[pk, ids_of[code]] = (
                    PaperTag.Source.CATEGORY,
                    1.0,
                    f"arXiv lists it under {code} ({where})",
                )
            text = PaperText(title=title, abstract=abstract, authors=authors)
            for number, found in self.rule_set.match(text).items():
                rule = self.rules[number]
                if (pk, rule.tag_id) not in wanted:
                    terms = ", ".join(f"“{term}”" for term in found.terms)
                    where = found.field.replace("+", " and ")
                    wanted[pk, rule.tag_id] = (
                        PaperTag.Source.RULE,
                        1.0,
                        f"matched {terms} in the {where}",
                    )
        if self.learned and papers:
            suggestions = self.learned.predict(
                [(title, abstract) for _, title, abstract, *_ in papers]
            )
            for (pk, *_), suggested in zip(papers, suggestions, strict=True):
                for suggestion in suggested:
                    tag_id = self.learned_tags.get(suggestion.tag)
                    if tag_id and (pk, tag_id) not in wanted:
                        wanted[pk, tag_id] = (
                            PaperTag.Source.LEARNED,
                            round(suggestion.confidence, 3),
                            "learned from: " + ", ".join(suggestion.terms),
                        )
        return _write(paper_ids, wanted)


def _as_rule(rule: TagRule) -> Rule:
    return Rule(
        tag=rule.tag.slug,
        algorithm=rule.algorithm,
        pattern=rule.pattern,
        fields=rule.fields,
        case_sensitive=rule.case_sensitive,
    )


def _active_model():
    stored = TaggerModel.objects.filter(active=True).defer("model").first()
    if stored is None:
        return None, None
    return stored, _load_model(stored.pk)


@functools.lru_cache(maxsize=1)
def _load_model(pk: int):
    # Models are tens of megabytes and never change once stored: load each once a process.
    from papers.tagging.learned import LearnedTagger

    data = TaggerModel.objects.filter(pk=pk).values_list("model", flat=True).get()
    return LearnedTagger.from_bytes(bytes(data))


def _write(paper_ids: list[int], wanted: dict) -> tuple[int, int]:
    """Make the automatic suggestions of these papers exactly `wanted`."""
    table = PaperTag._meta.db_table
    keys = list(wanted)
    with connection.cursor() as cursor:
        # Suggestions no longer wanted go; curators' tags and verdicts stay.
        cursor.execute(
            f"DELETE FROM {table} WHERE paper_id = ANY(%s) AND status = %s AND source = ANY(%s) "
            f"AND (paper_id, tag_id) NOT IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))",
            [
                paper_ids,
                PaperTag.Status.SUGGESTED,
                list(_AUTOMATIC),
                [p for p, _ in keys],
                [t for _, t in keys],
            ],
        )
        removed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} AS pt (paper_id, tag_id, source, confidence, reason, status, "
            f"created_at, updated_at) "
            f"SELECT p, t, s, c, r, %s, now(), now() FROM unnest(%s::bigint[], %s::bigint[], "
            f"%s::text[], %s::float8[], %s::text[]) AS w(p, t, s, c, r) "
            f"ON CONFLICT (paper_id, tag_id) DO UPDATE SET source = EXCLUDED.source, "
            f"confidence = EXCLUDED.confidence, reason = EXCLUDED.reason, updated_at = now() "
            f"WHERE pt.status = %s AND pt.source <> %s "
            f"AND (pt.source, pt.confidence, pt.reason) IS DISTINCT FROM "
            f"(EXCLUDED.source, EXCLUDED.confidence, EXCLUDED.reason) "
            f"RETURNING (xmax = 0) AS inserted",
            [
                PaperTag.Status.SUGGESTED,
                [p for p, _ in keys],
                [t for _, t in keys],
                [wanted[k][0] for k in keys],
                [wanted[k][1] for k in keys],
                [wanted[k][2] for k in keys],
                PaperTag.Status.SUGGESTED,
                PaperTag.Source.CURATOR,
            ],
        )
        added = sum(1 for (inserted,) in cursor.fetchall() if inserted)
    return added, removed
