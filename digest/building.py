"""Building digests: what each reader is shown, read from the database in one pass.

`build_digests()` turns a batch of due readers into Digest rows with their items; the
dispatcher (digest/dispatching.py) calls it with the readers it claimed. `preview_for()`
runs the same ranking for one reader without recording anything: the "For you" page and
the admin's test digest. Either way the ranking sees plain values (digest.ranking), so
that the evaluation command ranks with exactly the code that builds real digests.

The number of queries depends on the batch, not on how many readers or papers it holds:
each kind of fact (follows, lists, votes, feedback, papers sent before...) is read for
all the batch's readers at once, and what every batch of a dispatch shares (the new
papers, evidence papers, what each saved search finds) once per dispatch (Snapshot).
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
from papers.models import Author, Authorship, ListItem, Paper, PaperTag, ReadingList, Tag, Vote
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


class Snapshot:
    """What a dispatch reads once however many batches it builds: the papers as ranking
    sees them (each batch's candidates are mostly the previous batch's, and readers
    share evidence papers), and the new papers each saved search finds (readers share
    searches)."""

    def __init__(self):
        self.papers: dict[int, PaperText] = {}
        self.since: dt.datetime | None = None  # every paper seen after it is in `papers`
        self.until: dt.datetime | None = None
        self.found: dict[tuple, frozenset[int]] = {}

    def candidates(self, since: dt.datetime, now: dt.datetime) -> list[PaperText]:
        if self.since is None or since < self.since or now != self.until:
            if self.since is not None and now == self.until:
                start, end = since, self.since
            else:
                start, end = since, now
                self.papers = {}
            self.papers.update(
                (t.id, t)
                for t in _paper_texts("first_seen_at > %s AND first_seen_at <= %s", start, end)
            )
            self.since, self.until = since, now
            # More new papers: a search may find some of them too.
            self.found = {}
        start = since.timestamp()
        return sorted(
            (t for t in self.papers.values() if start < t.seen <= now.timestamp()),
            key=lambda t: t.id,
        )

    def of(self, paper_ids) -> dict[int, PaperText]:
        missing = set(paper_ids) - self.papers.keys()
        if missing:
            self.papers.update(
                (t.id, t) for t in _paper_texts("id = ANY(%s::bigint[])", _array(missing))
            )
        return {pk: self.papers[pk] for pk in paper_ids if pk in self.papers}

    def found_by(self, saved: SavedSearch) -> frozenset[int]:
        """The new papers (those of the last candidates() call) that a saved search finds."""
        key = (saved.query, saved.tag_id, saved.author, saved.has_code)
        if key not in self.found:
            papers = search.find(
                q=saved.query, tag=saved.tag, author=saved.author, has_code=saved.has_code
            )
            self.found[key] = frozenset(
                papers.filter(first_seen_at__gt=self.since, first_seen_at__lte=self.until)
                .order_by()
                .values_list("pk", flat=True)
            )
        return self.found[key]


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
    batch: Sequence[Preferences], *, now: dt.datetime, snapshot: Snapshot | None = None
) -> list[int]:
    """Record the due digest of each reader in `batch` (Preferences whose
    `next_digest_at` is the slot that fell due), skipped when it has no paper, and
    return the ids of those to send; a reader whose digest for that period exists
    already gets nothing new. Call inside a transaction that holds the batch's
    Preferences rows."""
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
    picks = _rank_readers(due, since=since, now=now, snapshot=snapshot or Snapshot())
    digests = _insert_digests(due, periods=periods, since=since, picks=picks, now=now)
    # COPY: a batch has about ten thousand items, which an INSERT takes seconds to build.
    columns = "digest_id, paper_id, position, score, section, reason"
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {DigestItem._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for user_id, digest_id in digests.items():
            for position, pick in enumerate(picks[user_id], start=1):
                copy.write_row(
                    (
                        digest_id,
                        pick.paper_id,
                        position,
                        pick.score,
                        pick.section[:100],
                        pick.reason[:300],
                    )
                )
    return [digests[p.user_id] for p in due if picks[p.user_id]]


def _insert_digests(
    due: Sequence[Preferences],
    *,
    periods: dict[int, str],
    since: dict[int, dt.datetime],
    picks: dict[int, list[Pick]],
    now: dt.datetime,
) -> dict[int, int]:
    """Insert the readers' Digest rows, skipped when they have no paper; the new ids by
    user id."""
    user_ids = [p.user_id for p in due]
    # One array per column: bulk_create() builds an object per row and a statement of a
    # parameter per value, which took longer than PostgreSQL took to insert the rows.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Digest._meta.db_table} (user_id, period, scheduled_for, since, "
            "status, created_at, attempts, error) "
            "SELECT *, %s, 0, '' FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], "
            "%s::timestamptz[], %s::text[]) RETURNING user_id, id",
            [
                now,
                user_ids,
                [periods[pk] for pk in user_ids],
                [p.next_digest_at for p in due],
                [since[pk] for pk in user_ids],
                [Digest.Status.PENDING if picks[pk] else Digest.Status.SKIPPED for pk in user_ids],
            ],
        )
        return dict(cursor.fetchall())


def preview_for(user, *, now: dt.datetime | None = None) -> list[PreviewItem]:
    """What the reader's next digest would hold if it were built now."""
    now = now or timezone.now()
    preferences = preferences_of(user)
    since = _since([preferences], now=now)
    picks = _rank_readers([preferences], since=since, now=now, snapshot=Snapshot())[user.pk]
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
    snapshot: Snapshot,
) -> dict[int, list[Pick]]:
    user_ids = [p.user_id for p in batch]
    start = min(since.values())
    candidates = snapshot.candidates(start, now)
    candidate_ids = {c.id for c in candidates}
    evidence, kept = _signals(user_ids)
    evidence_texts = snapshot.of({e.paper_id for signals in evidence.values() for e in signals})
    tags, authors = _follows(batch)
    searches = defaultdict(list)
    if candidate_ids:
        for saved in SavedSearch.objects.filter(user_id__in=user_ids).select_related("tag"):
            searches[saved.user_id].append((saved.name, snapshot.found_by(saved)))
    sent = _sent(user_ids, since=start)
    readers = [
        Reader(
            id=p.user_id,
            size=p.digest_size,
            since=since[p.user_id].timestamp(),
            tags=frozenset(tags[p.user_id]),
            authors=frozenset(authors[p.user_id]),
            searches=tuple(searches[p.user_id]),
            evidence=tuple(e for e in evidence[p.user_id] if e.paper_id in evidence_texts),
            exclude=frozenset((sent[p.user_id] | kept[p.user_id]) & candidate_ids),
        )
        for p in batch
    ]
    tag_names = dict(Tag.objects.values_list("slug", "name"))
    picks = rank(readers, candidates, evidence_papers=evidence_texts, tag_names=tag_names)
    return {p.user_id: picks.get(p.user_id, []) for p in batch}


def _paper_texts(where: str, *params) -> list[PaperText]:
    """The papers that satisfy `where` (a condition on papers_paper as p), as ranking
    sees them."""
    # The tags and authors of the papers named by one array rather than a parameter
    # each, or a subquery each: binding thousands of parameters takes Django longer
    # than PostgreSQL takes to find the rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, title, abstract, author_names, vote_count, hf_upvotes, save_count, "
            # Seconds as a number: Django parses each timestamp in Python, slowly.
            f"date_part('epoch', first_seen_at) FROM {Paper._meta.db_table} p WHERE {where}",
            params,
        )
        rows = cursor.fetchall()
        ids = _array(row[0] for row in rows)
        tags = defaultdict(list)
        cursor.execute(
            f"SELECT pt.paper_id, t.slug FROM {PaperTag._meta.db_table} pt "
            f"JOIN {Tag._meta.db_table} t ON t.id = pt.tag_id "
            "WHERE pt.paper_id = ANY(%s::bigint[]) AND pt.status <> %s "
            "ORDER BY pt.paper_id, t.kind, pt.confidence DESC, t.name",
            [ids, PaperTag.Status.REJECTED],
        )
        for paper_id, slug in cursor.fetchall():
            tags[paper_id].append(slug)
        keys = defaultdict(list)
        cursor.execute(
            f"SELECT s.paper_id, a.name_key FROM {Authorship._meta.db_table} s "
            f"JOIN {Author._meta.db_table} a ON a.id = s.author_id "
            "WHERE s.paper_id = ANY(%s::bigint[]) ORDER BY s.paper_id, s.position",
            [ids],
        )
        for paper_id, key in cursor.fetchall():
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
            seen=seen,
        )
        for paper_id, title, abstract, names, votes, upvotes, saves, seen in rows
    ]


def _array(ids) -> str:
    # A PostgreSQL array literal: psycopg adapts a list element by element.
    return "{" + ",".join(map(str, ids)) + "}"


def _signals(user_ids: list[int]) -> tuple[dict[int, list[Evidence]], dict[int, set[int]]]:
    """Each reader's newest signals (saved papers, votes, 👍 and 👎), and the papers they
    have dealt with: those in their lists or marked not interested."""
    # One statement for the three kinds, the readers named by one array: a batch holds
    # tens of thousands of signals, and reading them through querysets (an IN list of a
    # parameter per reader, a model row per signal) took longer than ranking them.
    # Timestamps as seconds since the epoch: Django parses timestamps one by one.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.owner_id, i.paper_id, 'list', r.name, date_part('epoch', i.added_at) "
            f"FROM {ListItem._meta.db_table} i JOIN {ReadingList._meta.db_table} r "
            "ON r.id = i.reading_list_id WHERE r.owner_id = ANY(%(users)s::bigint[]) "
            "UNION ALL SELECT user_id, paper_id, 'vote', NULL, date_part('epoch', created_at) "
            f"FROM {Vote._meta.db_table} WHERE user_id = ANY(%(users)s::bigint[]) "
            "UNION ALL SELECT user_id, paper_id, CASE WHEN value > 0 THEN 'more' ELSE 'less' "
            "END, NULL, date_part('epoch', created_at) "
            f"FROM {Feedback._meta.db_table} WHERE user_id = ANY(%(users)s::bigint[])",
            {"users": _array(user_ids)},
        )
        rows = cursor.fetchall()
    fixed = {  # weight and reason of each kind but lists
        "vote": (VOTE_WEIGHT, "similar to ‘{title}’, which you upvoted"),
        "more": (MORE_WEIGHT, "similar to ‘{title}’, which you liked"),
        "less": (LESS_WEIGHT, ""),
    }
    in_list: dict[str, str] = {}  # a list's name: the reason it gives
    dated, kept = defaultdict(list), defaultdict(set)
    for user_id, paper_id, kind, list_name, at in rows:
        if kind == "list":
            reason = in_list.get(list_name)
            if reason is None:
                reason = in_list[list_name] = (
                    f"similar to ‘{{title}}’ in your list ‘{_braces(list_name)}’"
                )
            weight = SAVED_WEIGHT
            kept[user_id].add(paper_id)
        else:
            weight, reason = fixed[kind]
            if kind == "less":
                kept[user_id].add(paper_id)
        dated[user_id].append((at, paper_id, weight, reason))
    evidence = {}
    for user_id in user_ids:
        newest = sorted(dated[user_id], key=lambda signal: (signal[0], signal[2]), reverse=True)
        # One paper can be saved, voted and liked: each is a signal, but one paper
        # must not count as three, so only its newest (strongest when tied) is kept.
        seen, chosen = set(), []
        for _, paper_id, weight, reason in newest:
            if paper_id not in seen:
                seen.add(paper_id)
                chosen.append(Evidence(paper_id, weight, reason))
                if len(chosen) == EVIDENCE_PER_READER:
                    break
        evidence[user_id] = chosen
    return evidence, kept


def _braces(text: str) -> str:
    # A list's name is shown inside a str.format() template.
    return text.replace("{", "{{").replace("}", "}}")


def _follows(
    batch: Sequence[Preferences],
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """The tags and authors each reader follows, by user id."""
    users = {p.pk: p.user_id for p in batch}
    tags, authors = defaultdict(set), defaultdict(set)
    for pk, slug in Preferences.followed_tags.through.objects.filter(
        preferences_id__in=users
    ).values_list("preferences_id", "tag__slug"):
        tags[users[pk]].add(slug)
    for pk, key in Preferences.followed_authors.through.objects.filter(
        preferences_id__in=users
    ).values_list("preferences_id", "author__name_key"):
        authors[users[pk]].add(key)
    return tags, authors


def _sent(user_ids: list[int], *, since: dt.datetime) -> dict[int, set[int]]:
    """The papers each reader was sent, or is about to be, that may have been seen after
    `since`."""
    # A digest holds papers seen by the time it was built, so only digests built after
    # `since` can hold one seen after it. Two statements rather than a join: the plan of
    # a join rests on how many digests PostgreSQL believes there are, and a dispatch adds
    # them faster than statistics follow (a nested loop over every item times every
    # digest: minutes).
    digests = dict(
        Digest.objects.filter(user_id__in=user_ids, status__in=_HELD, created_at__gt=since)
        .order_by()
        .values_list("pk", "user_id")
    )
    sent = defaultdict(set)
    for digest_id, paper_id in (
        DigestItem.objects.filter(digest_id__in=digests)
        .order_by()
        .values_list("digest_id", "paper_id")
    ):
        sent[digests[digest_id]].add(paper_id)
    return sent
