"""The dispatcher: who is due, one digest per reader and period, schedules across DST."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections

from accounts.models import Preferences
from accounts.preferences import preferences_of, set_digest_settings
from accounts.saved_searches import save_search
from config.celery import app
from digest.building import period_of
from digest.dispatching import dispatch_due, schedule_missing
from digest.feedback import set_feedback
from digest.models import Digest, DigestItem, Feedback
from papers import search
from papers.models import Author, ListItem, Paper, ReadingList, Vote
from tests.factories import PaperFactory, PaperTagFactory, TagFactory, UserFactory

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _tasks_to_nowhere(settings):
    # Sending tasks queued by these tests go to a queue no worker reads; sending has its
    # own tests.
    settings.DIGEST_QUEUE = "test-unread"
    yield
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("test-unread")


def reader(*, due: dt.datetime, frequency="daily", zone="UTC", hour=8, **fields):
    user = UserFactory(**fields)
    prefs = preferences_of(user)
    prefs.digest_frequency, prefs.time_zone, prefs.digest_hour = frequency, zone, hour
    prefs.next_digest_at = due
    prefs.save()
    return user


TOPICS = [
    "protein folding with equivariant graph networks",
    "speculative decoding for faster language model inference",
    "legged robot locomotion learned in simulation",
    "retrieval augmented generation over enterprise documents",
    "diffusion models for video synthesis",
    "formal verification of smart contracts",
    "federated learning under differential privacy",
    "weather forecasting with neural operators",
    "code generation benchmarks for software agents",
    "speech recognition for low resource languages",
]


def new_papers(count, *, seen: dt.datetime, tag=None):
    # Different subjects: near-duplicates would rightly be kept out of one digest.
    papers = [
        PaperFactory(
            first_seen_at=seen,
            title=f"On {TOPICS[n % len(TOPICS)]} ({n})",
            abstract=f"We study {TOPICS[n % len(TOPICS)]}.",
        )
        for n in range(count)
    ]
    for paper in papers:
        if tag:
            PaperTagFactory(paper=paper, tag=tag)
    return papers


NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_due_reader_gets_one_digest_and_the_next_slot():
    due = reader(due=NOW - dt.timedelta(minutes=3))
    later = reader(due=NOW + dt.timedelta(hours=1))
    new_papers(3, seen=NOW - dt.timedelta(hours=2))

    queued = dispatch_due(now=NOW)

    digest = Digest.objects.get()
    assert (digest.user, digest.period, digest.status) == (due, "2026-11-27", "pending")
    assert queued == [digest.pk]
    assert digest.items.count() == 3
    assert all(item.reason for item in digest.items.all())
    assert Preferences.objects.get(user=due).next_digest_at == dt.datetime(
        2026, 11, 28, 8, tzinfo=UTC
    )
    assert not Digest.objects.filter(user=later).exists()


@pytest.mark.django_db
def test_nothing_new_is_recorded_as_skipped_and_not_queued():
    user = reader(due=NOW)
    new_papers(2, seen=NOW - dt.timedelta(days=5))  # before the first digest's day

    assert dispatch_due(now=NOW) == []

    assert Digest.objects.get(user=user).status == Digest.Status.SKIPPED


@pytest.mark.django_db
def test_a_reader_rescheduled_within_a_period_gets_no_second_digest():
    user = reader(due=NOW)
    new_papers(2, seen=NOW - dt.timedelta(hours=1))
    dispatch_due(now=NOW)
    # They move their hour later the same day: the slot falls due again today.
    Preferences.objects.filter(user=user).update(next_digest_at=NOW + dt.timedelta(hours=2))
    new_papers(2, seen=NOW + dt.timedelta(hours=1))

    assert dispatch_due(now=NOW + dt.timedelta(hours=3)) == []

    assert Digest.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_the_next_digest_holds_only_papers_seen_since_and_never_repeats_one():
    user = reader(due=NOW)
    first = new_papers(3, seen=NOW - dt.timedelta(hours=3))
    dispatch_due(now=NOW)
    Digest.objects.filter(user=user).update(status=Digest.Status.SENT)
    second = new_papers(2, seen=NOW + dt.timedelta(hours=5))

    dispatch_due(now=NOW + dt.timedelta(days=1))

    latest = Digest.objects.filter(user=user).order_by("-scheduled_for").first()
    assert latest.period == "2026-11-28"
    assert {i.paper_id for i in latest.items.all()} == {p.pk for p in second}
    assert not {i.paper_id for i in latest.items.all()} & {p.pk for p in first}


@pytest.mark.django_db
def test_followed_tags_choose_the_papers_and_explain_them():
    retrieval = TagFactory(name="Retrieval", slug="retrieval")
    other = TagFactory(name="Robotics", slug="robotics")
    user = reader(due=NOW)
    preferences_of(user).followed_tags.add(retrieval)
    mine = new_papers(3, seen=NOW - dt.timedelta(hours=2), tag=retrieval)
    new_papers(6, seen=NOW - dt.timedelta(hours=2), tag=other)

    dispatch_due(now=NOW)

    items = list(Digest.objects.get(user=user).items.all())
    followed = [i for i in items if i.paper_id in {p.pk for p in mine}]
    assert len(followed) == 3
    assert all("#Retrieval" in i.reason for i in followed)
    assert all(i.section == "Retrieval" for i in followed)
    # Beyond the followed topic, at most the one paper that explores.
    assert len(items) - len(followed) <= 1


@pytest.mark.django_db
def test_readers_without_a_slot_get_one_and_paused_readers_stay_paused():
    wants = reader(due=None)
    paused = reader(due=None)
    Preferences.objects.filter(user=paused).update(paused_reason="Paused after bounces")
    off = reader(due=None, frequency="off")

    assert schedule_missing(now=NOW) == 1

    assert Preferences.objects.get(user=wants).next_digest_at == dt.datetime(
        2026, 11, 28, 8, tzinfo=UTC
    )
    assert Preferences.objects.get(user=paused).next_digest_at is None
    assert Preferences.objects.get(user=off).next_digest_at is None


@pytest.mark.django_db
def test_weekly_digests_are_one_per_iso_week_in_the_readers_zone():
    prefs = Preferences(digest_frequency="weekly", time_zone="Pacific/Auckland")
    # Sunday 28 Dec 2025 20:00 UTC is Monday 29 Dec in Auckland: ISO week 1 of 2026.
    assert period_of(prefs, dt.datetime(2025, 12, 28, 20, tzinfo=UTC)) == "2026-W01"
    daily = Preferences(digest_frequency="daily", time_zone="America/Los_Angeles")
    assert period_of(daily, dt.datetime(2026, 3, 1, 5, tzinfo=UTC)) == "2026-02-28"


@pytest.mark.django_db
def test_a_new_york_reader_gets_theirs_at_eight_local_across_the_spring_change():
    """A frozen clock walks through 7 to 10 March 2025 (clocks go forward on the 9th) with
    the dispatcher running every quarter of an hour."""
    user = UserFactory()
    with time_machine.travel(dt.datetime(2025, 3, 6, 18, tzinfo=UTC), tick=False) as clock:
        set_digest_settings(
            preferences_of(user),
            digest_frequency="daily",
            digest_hour=8,
            time_zone="America/New_York",
        )
        sent_at = []
        moment = dt.datetime(2025, 3, 6, 18, tzinfo=UTC)
        while moment < dt.datetime(2025, 3, 10, 18, tzinfo=UTC):
            moment += dt.timedelta(minutes=15)
            clock.move_to(moment)
            if moment.minute == 0:
                PaperFactory(first_seen_at=moment - dt.timedelta(minutes=1))
            if dispatch_due(now=moment):
                sent_at.append(moment)

    # 08:00 EST is 13:00 UTC; from the 9th, 08:00 EDT is 12:00 UTC.
    assert sent_at == [
        dt.datetime(2025, 3, 7, 13, tzinfo=UTC),
        dt.datetime(2025, 3, 8, 13, tzinfo=UTC),
        dt.datetime(2025, 3, 9, 12, tzinfo=UTC),
        dt.datetime(2025, 3, 10, 12, tzinfo=UTC),
    ]
    assert list(Digest.objects.order_by("period").values_list("period", flat=True)) == [
        "2025-03-07",
        "2025-03-08",
        "2025-03-09",
        "2025-03-10",
    ]


@pytest.mark.django_db
def test_a_berlin_reader_gets_one_digest_on_the_autumn_day_whose_hour_repeats():
    user = UserFactory()
    start = dt.datetime(2025, 10, 25, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        set_digest_settings(
            preferences_of(user), digest_frequency="daily", digest_hour=2, time_zone="Europe/Berlin"
        )
        moment = start
        while moment < dt.datetime(2025, 10, 27, 12, tzinfo=UTC):
            moment += dt.timedelta(minutes=15)
            clock.move_to(moment)
            if moment.minute == 0:
                PaperFactory(first_seen_at=moment - dt.timedelta(minutes=1))
            dispatch_due(now=moment)

    # 26 October: 02:00 to 03:00 happens twice; the digest comes at the first 02:00 (00:00 UTC).
    assert list(Digest.objects.order_by("period").values_list("period", "scheduled_for")) == [
        ("2025-10-26", dt.datetime(2025, 10, 26, 0, tzinfo=UTC)),
        ("2025-10-27", dt.datetime(2025, 10, 27, 1, tzinfo=UTC)),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_claim_one_reader_twice(settings):
    settings.DIGEST_DISPATCH_BATCH = 7  # many small batches, so the two interleave
    users = [reader(due=NOW - dt.timedelta(minutes=1)) for _ in range(60)]
    new_papers(5, seen=NOW - dt.timedelta(hours=1))
    start = threading.Barrier(2)
    queued, errors = [], []

    def dispatcher():
        try:
            start.wait()
            queued.extend(dispatch_due(now=NOW))
        except Exception as error:  # reported below: a thread cannot fail the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(queued) == sorted(Digest.objects.values_list("pk", flat=True))
    assert Digest.objects.count() == len(users)
    assert len(set(queued)) == len(queued)


@pytest.mark.django_db(transaction=True)
def test_a_reader_locked_by_another_dispatcher_is_skipped_not_waited_for():
    locked = reader(due=NOW)
    free = reader(due=NOW)
    new_papers(2, seen=NOW - dt.timedelta(hours=1))
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT id FROM accounts_preferences WHERE user_id = %s FOR UPDATE", [locked.pk]
            )
            dispatch_due(now=NOW)
            cursor.execute("ROLLBACK")
    finally:
        other.close()

    assert list(Digest.objects.values_list("user", flat=True)) == [free.pk]
    dispatch_due(now=NOW)
    assert Digest.objects.filter(user=locked).count() == 1
    assert connection.in_atomic_block is False


@pytest.mark.django_db
def test_a_paper_that_arrived_after_the_slot_and_was_sent_is_not_sent_again():
    user = reader(due=NOW)
    early, late = new_papers(2, seen=NOW - dt.timedelta(hours=2))
    # Seen after the slot but before the dispatcher ran: a candidate of the next
    # digest too (it starts at this one's slot), yet this one holds it already.
    Paper.objects.filter(pk=late.pk).update(first_seen_at=NOW + dt.timedelta(minutes=10))
    dispatch_due(now=NOW + dt.timedelta(minutes=30))
    first = Digest.objects.get(user=user)
    assert {i.paper_id for i in first.items.all()} == {early.pk, late.pk}
    Digest.objects.filter(pk=first.pk).update(status=Digest.Status.SENT)
    fresh = PaperFactory(
        title="Weather forecasting with neural operators",
        abstract="Operators learned on reanalysis data forecast ten days ahead.",
        first_seen_at=NOW + dt.timedelta(hours=5),
    )

    dispatch_due(now=NOW + dt.timedelta(days=1))

    second = Digest.objects.exclude(pk=first.pk).get(user=user)
    assert {i.paper_id for i in second.items.all()} == {fresh.pk}


@pytest.mark.django_db
def test_a_saved_search_finds_new_papers_for_readers_of_every_batch(settings):
    settings.DIGEST_DISPATCH_BATCH = 1  # each reader in a batch of their own
    daily = reader(due=NOW - dt.timedelta(minutes=2))
    weekly = reader(due=NOW - dt.timedelta(minutes=1), frequency="weekly")
    # Three days old: new to the weekly reader's first digest only, whose batch comes
    # second and reaches further back than the daily reader's.
    older = PaperFactory(
        title="A tokenizer for protein sequences",
        abstract="Residues grouped into motifs shorten sequences fourfold.",
        first_seen_at=NOW - dt.timedelta(days=3),
    )
    newer = PaperFactory(
        title="Robot grasping with a learned tokenizer",
        abstract="Grasps become discrete actions a policy predicts.",
        first_seen_at=NOW - dt.timedelta(hours=1),
    )
    search.index_papers(paper_ids=[older.pk, newer.pk])
    for user in (daily, weekly):
        save_search(user, query="tokenizer")

    dispatch_due(now=NOW)

    [item] = Digest.objects.get(user=daily).items.all()
    assert item.paper_id == newer.pk
    reasons = {i.paper_id: i.reason for i in Digest.objects.get(user=weekly).items.all()}
    assert reasons == {p.pk: "matches your search ‘tokenizer’" for p in (older, newer)}


def readers_with_signals(count: int):
    """Readers who follow, save, vote, give feedback, search and were sent a digest; and
    the four new papers, of which only the last is new to each of them."""
    tag, old = TagFactory(name="Retrieval"), PaperFactory(first_seen_at=NOW - dt.timedelta(days=9))
    papers = new_papers(4, seen=NOW - dt.timedelta(hours=2), tag=tag)
    author, _ = Author.objects.get_or_create(name="Ada Lovelace", name_key="ada lovelace")
    users = []
    for _ in range(count):
        user = reader(due=NOW - dt.timedelta(minutes=1))
        preferences = preferences_of(user)
        preferences.followed_tags.add(tag)
        preferences.followed_authors.add(author)
        ListItem.objects.create(
            reading_list=ReadingList.objects.create(owner=user, name="Reading"), paper=old
        )
        Vote.objects.create(user=user, paper=papers[0])
        set_feedback(user, papers[1], Feedback.Value.LESS)
        save_search(user, query="speculative decoding")
        sent = Digest.objects.create(
            user=user,
            period="2026-11-26",
            scheduled_for=NOW - dt.timedelta(hours=3),
            since=NOW - dt.timedelta(days=1),
            created_at=NOW - dt.timedelta(minutes=20),
            status=Digest.Status.SENT,
        )
        DigestItem.objects.create(
            digest=sent, paper=papers[2], position=1, score=1, section="Retrieval", reason="x"
        )
        users.append(user)
    return users, papers


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 20])
def test_a_batch_takes_the_same_queries_however_many_readers_it_holds(
    count, django_assert_num_queries
):
    users, papers = readers_with_signals(count)

    # Readers without a slot; commits not waiting for the disk; the claim; digests there
    # already; previous digests; new papers, their tags, their authors; signals (lists,
    # votes, feedback in one); evidence papers, their tags, their authors; followed tags,
    # authors; saved searches, the one search run; digests built since, their items; tag
    # names; the digests, their items (COPY); their next slots; then again commits not
    # waiting and the claim that finds no one left; two savepoints each.
    with django_assert_num_queries(28):
        dispatch_due(now=NOW)

    digests = Digest.objects.filter(user__in=users, period="2026-11-27")
    assert digests.count() == count
    # Not the paper voted for, nor the one marked not interested, nor the one sent.
    assert {i.paper_id for d in digests for i in d.items.all()} == {papers[3].pk}
