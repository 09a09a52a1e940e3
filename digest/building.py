"""Building digests: what each reader is shown, read from the database in one pass.

`build_digests()` turns a batch of due readers into Digest rows with their items; the
dispatcher (digest/dispatching.py) calls it with the readers it claimed. `preview_for()`
runs the same ranking for one reader without recording anything: the "For you" page and
the admin's test digest. Either way the ranking sees plain values (digest.ranking), so
that the evaluation command ranks with exactly the code that builds real digests.

The number of queries depends on the batch, not on how many readers or papers it holds:
each kind of fact (follows, lists, votes, feedback, papers sent before...) is read for
all the batch's readers at once.
"""

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from accounts.models import Preferences, SavedSearch
from accounts.preferences import preferences_of
from digest.models import Digest, DigestItem, Feedback
from digest.ranking import Evidence, PaperText, Pick, Reader, rank
from papers import search
from papers.models import Authorship, ListItem, Paper, PaperTag, Tag, Vote
from papers.trending import SAVE_WEIGHT

# The newest evidence counts: a reader's taste drifts, and old saves should not crowd out
# what they saved this month (it also bounds the work for readers with huge lists).
EVIDENCE_PER_READER = 100
# What each kind of evidence weighs against the others: a 👍 is asked-for advice, a
# saved paper a strong sign, a vote a lighter one; a 👎 pushes similar papers down.
SAVED_WEIGHT = 1.0
VOTE_WEIGHT = 0.6
MORE_WEIGHT = 1.2
LESS_WEIGHT = -1.0
# Papers already delivered, or about to be, are never chosen again.
_HELD = [Digest.Status.PENDING, Digest.Status.SENDING, Digest.Status.SENT]


class Texts:
    """Papers as ranking sees them, read once per dispatch however many batches it
    builds: each batch's candidates are mostly the previous batch's, and readers share
    evidence papers."""

    def __init__(self):
        self.papers: dict[int, PaperText] = {}
        self.since: dt.datetime | None = None  # every paper seen after it is in `papers`
        self.until: dt.datetime | None = None

    def candidates(self, since: dt.datetime, now: dt.datetime) -> list[PaperText]:
        if self.since is None or since < self.since or now != self.until:
            fresh = Paper.objects.filter(first_seen_at__gt=since, first_seen_at__lte=now)
            if self.since is not None and now == self.until:
                fresh = fresh.filter(first_seen_at__lte=self.since)
            else:
                self.papers = {}
            self.papers.update((t.id, t) for t in _paper_texts(fresh))
            self.since, self.until = since, now
        start = since.timestamp()
        return sorted(
            (t for t in self.papers.values() if start < t.seen <= now.timestamp()),
            key=lambda t: t.id,
        )

    def of(self, paper_ids) -> dict[int, PaperText]:
        missing = set(paper_ids) - self.papers.keys()
        if missing:
            self.papers.update(
                (t.id, t) for t in _paper_texts(Paper.objects.filter(pk__in=missing))
            )
        return {pk: self.papers[pk] for pk in paper_ids if pk in self.papers}


@dataclass(frozen=True)
class PreviewItem:
    paper: Paper
    section: str
    reason: str
    score: float


def period_of(preferences: Preferences, at: dt.datetime) -> str:
    """The period a send time belongs to, in the reader's zone: one digest per period."""
    day = at.astimezone(zoneinfo.ZoneInfo(preferences.time_zone)).date()
    if preferences.digest_frequency == Preferences.Frequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def build_digests(
    batch: Sequence[Preferences], *, now: dt.datetime, texts: Texts | None = None
) -> list[Digest]:
    """Record the due digest of each reader in `batch` (Preferences with their user,
    `next_digest_at` the slot that fell due) and return the new ones; a reader whose
    digest for that period exists already gets nothing new. Call inside a transaction
    that holds the batch's Preferences rows."""
    periods = {p.user_id: period_of(p, p.next_digest_at) for p in batch}
    done = set(
        Digest.objects.filter(user_id__in=periods, period__in=set(periods.values())).values_list(
            "user_id", "period"
        )
    )
    due = [p for p in batch if (p.user_id, periods[p.user_id]) not in done]
    if not due:
        return []
    since = _since(due, now=now)
    picks = _rank_readers(due, since=since, now=now, texts=texts or Texts())
    digests = Digest.objects.bulk_create(
        [
            Digest(
                user_id=p.user_id,
                period=periods[p.user_id],
                scheduled_for=p.next_digest_at,
                since=since[p.user_id],
                status=Digest.Status.PENDING if picks[p.user_id] else Digest.Status.SKIPPED,
                created_at=now,
            )
            for p in due
        ]
    )
    # COPY: a batch has about ten thousand items, which an INSERT takes seconds to build.
    columns = "digest_id, paper_id, position, score, section, reason"
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {DigestItem._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for digest in digests:
            for position, pick in enumerate(picks[digest.user_id], start=1):
                copy.write_row(
                    (
                        digest.pk,
                        pick.paper_id,
                        position,
                        pick.score,
                        pick.section[:100],
                        pick.reason[:300],
                    )
                )
    return digests


def preview_for(user, *, now: dt.datetime | None = None) -> list[PreviewItem]:
    """What the reader's next digest would hold if it were built now."""
    now = now or timezone.now()
    preferences = preferences_of(user)
    since = _since([preferences], now=now)
    picks = _rank_readers([preferences], since=since, now=now, texts=Texts())[user.pk]
    papers = Paper.objects.for_cards().in_bulk([pick.paper_id for pick in picks])
    return [
        PreviewItem(papers[pick.paper_id], pick.section, pick.reason, pick.score)
        for pick in picks
        if pick.paper_id in papers
    ]


def _since(batch: Sequence[Preferences], *, now: dt.datetime) -> dict[int, dt.datetime]:
    """Where each reader's candidates start: their previous digest, or one period back
    for a first digest; never further back than DIGEST_MAX_LOOKBACK_DAYS."""
    previous = dict(
        Digest.objects.filter(
            user_id__in=[p.user_id for p in batch],
            status__in=[*_HELD, Digest.Status.SKIPPED],
        )
        .values("user_id")
        .annotate(last=Max("scheduled_for"))
        .values_list("user_id", "last")
    )
    floor = now - dt.timedelta(days=settings.DIGEST_MAX_LOOKBACK_DAYS)
    since = {}
    for p in batch:
        weekly = p.digest_frequency == Preferences.Frequency.WEEKLY
        start = previous.get(p.user_id) or now - dt.timedelta(days=7 if weekly else 1)
        since[p.user_id] = max(start, floor)
    return since


def _rank_readers(
    batch: Sequence[Preferences],
    *,
    since: dict[int, dt.datetime],
    now: dt.datetime,
    texts: Texts,
) -> dict[int, list[Pick]]:
    user_ids = [p.user_id for p in batch]
    candidates = texts.candidates(min(since.values()), now)
    candidate_ids = [c.id for c in candidates]
    evidence = _evidence(user_ids)
    evidence_texts = texts.of({e.paper_id for signals in evidence.values() for e in signals})
    tags, authors = _follows(user_ids)
    searches = _searches(user_ids, candidate_ids)
    excluded = _excluded(user_ids, candidate_ids)
    readers = [
        Reader(
            id=p.user_id,
            size=p.digest_size,
            since=since[p.user_id].timestamp(),
            tags=frozenset(tags[p.user_id]),
            authors=frozenset(authors[p.user_id]),
            searches=tuple(searches[p.user_id]),
            evidence=tuple(e for e in evidence[p.user_id] if e.paper_id in evidence_texts),
            exclude=frozenset(excluded[p.user_id]),
        )
        for p in batch
    ]
    tag_names = dict(Tag.objects.values_list("slug", "name"))
    picks = rank(readers, candidates, evidence_papers=evidence_texts, tag_names=tag_names)
    return {p.user_id: picks.get(p.user_id, []) for p in batch}


def _paper_texts(papers) -> list[PaperText]:
    rows = list(
        papers.order_by("id").values_list(
            "id",
            "title",
            "abstract",
            "author_names",
            "vote_count",
            "hf_upvotes",
            "save_count",
            "first_seen_at",
        )
    )
    ids = [row[0] for row in rows]
    tags = defaultdict(list)
    for paper_id, slug in (
        PaperTag.objects.filter(paper_id__in=ids)
        .exclude(status=PaperTag.Status.REJECTED)
        .order_by("paper_id", "tag__kind", "-confidence", "tag__name")
        .values_list("paper_id", "tag__slug")
    ):
        tags[paper_id].append(slug)
    keys = defaultdict(list)
    for paper_id, key in (
        Authorship.objects.filter(paper_id__in=ids)
        .order_by("paper_id", "position")
        .values_list("paper_id", "author__name_key")
    ):
        keys[paper_id].append(key)
    return [
        PaperText(
            id=paper_id,
            title=title,
            abstract=abstract,
            authors=tuple(names),
            author_keys=tuple(keys[paper_id]),
            tags=tuple(tags[paper_id]),
            popularity=float(votes + (upvotes or 0) + SAVE_WEIGHT * saves),
            seen=seen.timestamp(),
        )
        for paper_id, title, abstract, names, votes, upvotes, saves, seen in rows
    ]


def _evidence(user_ids: list[int]) -> dict[int, list[Evidence]]:
    """Each reader's newest signals: saved papers, votes, 👍 and 👎."""
    dated = defaultdict(list)
    for user_id, paper_id, list_name, at in ListItem.objects.filter(
        reading_list__owner_id__in=user_ids
    ).values_list("reading_list__owner_id", "paper_id", "reading_list__name", "added_at"):
        reason = f"similar to ‘{{title}}’ in your list ‘{_braces(list_name)}’"
        dated[user_id].append((at, Evidence(paper_id, SAVED_WEIGHT, reason)))
    for user_id, paper_id, at in Vote.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "paper_id", "created_at"
    ):
        dated[user_id].append(
            (at, Evidence(paper_id, VOTE_WEIGHT, "similar to ‘{title}’, which you upvoted"))
        )
    for user_id, paper_id, value, at in Feedback.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "paper_id", "value", "created_at"
    ):
        if value > 0:
            evidence = Evidence(paper_id, MORE_WEIGHT, "similar to ‘{title}’, which you liked")
        else:
            evidence = Evidence(paper_id, LESS_WEIGHT, "")
        dated[user_id].append((at, evidence))
    evidence = {}
    for user_id in user_ids:
        newest = sorted(dated[user_id], key=lambda pair: pair[0], reverse=True)
        # One paper can be saved, voted and liked: each is a signal, but one paper
        # must not count as three, so only its newest (strongest when tied) is kept.
        seen, kept = set(), []
        for _, e in newest:
            if e.paper_id not in seen:
                seen.add(e.paper_id)
                kept.append(e)
        evidence[user_id] = kept[:EVIDENCE_PER_READER]
    return evidence


def _braces(text: str) -> str:
    # A list's name is shown inside a str.format() template.
    return text.replace("{", "{{").replace("}", "}}")


def _follows(user_ids: list[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    tags, authors = defaultdict(set), defaultdict(set)
    for user_id, slug in Preferences.followed_tags.through.objects.filter(
        preferences__user_id__in=user_ids
    ).values_list("preferences__user_id", "tag__slug"):
        tags[user_id].add(slug)
    for user_id, key in Preferences.followed_authors.through.objects.filter(
        preferences__user_id__in=user_ids
    ).values_list("preferences__user_id", "author__name_key"):
        authors[user_id].add(key)
    return tags, authors


def _searches(user_ids: list[int], candidate_ids: list[int]) -> dict[int, list]:
    """Each reader's saved searches with the candidates they match; a search several
    readers saved is run once."""
    found = defaultdict(list)
    if not candidate_ids:
        return found
    saved = SavedSearch.objects.filter(user_id__in=user_ids).select_related("tag")
    matches = {}
    for s in saved:
        key = (s.query, s.tag_id, s.author, s.has_code)
        if key not in matches:
            papers = search.find(q=s.query, tag=s.tag, author=s.author, has_code=s.has_code)
            matches[key] = frozenset(
                papers.filter(pk__in=candidate_ids).order_by().values_list("pk", flat=True)
            )
        found[s.user_id].append((s.name, matches[key]))
    return found


def _excluded(user_ids: list[int], candidate_ids: list[int]) -> dict[int, set[int]]:
    """Candidates a reader must not get: sent before, already in a list, or 👎."""
    excluded = defaultdict(set)
    for user_id, paper_id in DigestItem.objects.filter(
        digest__user_id__in=user_ids, digest__status__in=_HELD, paper_id__in=candidate_ids
    ).values_list("digest__user_id", "paper_id"):
        excluded[user_id].add(paper_id)
    for user_id, paper_id in ListItem.objects.filter(
        reading_list__owner_id__in=user_ids, paper_id__in=candidate_ids
    ).values_list("reading_list__owner_id", "paper_id"):
        excluded[user_id].add(paper_id)
    for user_id, paper_id in Feedback.objects.filter(
        user_id__in=user_ids, paper_id__in=candidate_ids, value=Feedback.Value.LESS
    ).values_list("user_id", "paper_id"):
        excluded[user_id].add(paper_id)
    return excluded
