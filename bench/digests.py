"""Digests: building them for 10,000 readers over 2,000 new papers with the corpus
loaded, end to end (claim, rank, record, reschedule, queue; no SMTP); then sending
2,000 of them to a local SMTP server from one process, over reused connections and,
as the baseline, over one connection per message. Runs after bench.importing and
bench.tagging, in the database they left."""

import random
import resource
import socket
import subprocess
import sys
import time

from bench.common import note, report, use_bench_database

READERS = 10_000
NEW_PAPERS = 2_000
MESSAGES = 2_000
QUEUE = "bench-digests"  # no worker reads it; emptied afterwards
SEARCHES = [
    "speculative decoding",
    "retrieval augmented generation",
    "diffusion transformer",
    "reinforcement learning from human feedback",
    "graph neural network",
    "mixture of experts",
    "vision language model",
    "protein structure",
    "federated learning",
    "code generation",
]


def main() -> None:
    note("digest benchmark")
    use_bench_database()
    from django.conf import settings
    from django.db import connection

    from config.celery import app
    from digest.dispatching import dispatch_due

    settings.DIGEST_QUEUE = QUEUE
    now = _prepare(settings)
    connection.close()

    started, cpu = time.perf_counter(), time.process_time()
    queued = dispatch_due(now=now)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    report("digest.build.readers_per_s", READERS / elapsed, "readers/s", n=READERS)
    note(f"  {len(queued)} digests queued for sending, {READERS - len(queued)} skipped")
    # PostgreSQL shares the machine's cores: what it spends is not the dispatcher's.
    note(f"  dispatcher CPU per reader: {1000 * cpu / READERS:.2f} ms")
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)

    _bench_sending(settings, queued[:MESSAGES])


def _prepare(settings):
    """Readers with follows, lists, votes and saved searches; the newest papers made new."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from accounts.models import Preferences, SavedSearch, User
    from digest.models import Digest
    from papers.models import Author, ListItem, Paper, ReadingList, Tag, Vote

    rng = random.Random(0)
    now = timezone.now()
    User.objects.filter(email__startswith="bench-reader").delete()
    Digest.objects.all().delete()
    ids = list(Paper.objects.order_by("-listed_on", "-id").values_list("id", flat=True))
    new, old = ids[:NEW_PAPERS], ids[NEW_PAPERS:]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE papers_paper SET first_seen_at = CASE WHEN id = ANY(%s) THEN %s ELSE %s END",
            [new, now - dt.timedelta(hours=2), now - dt.timedelta(days=60)],
        )
    tags = list(Tag.objects.filter(kind="topic").values_list("id", flat=True)) or list(
        Tag.objects.values_list("id", flat=True)
    )
    authors = list(Author.objects.order_by("?").values_list("id", flat=True)[:5000])
    users = User.objects.bulk_create(
        User(email=f"bench-reader{n}@example.org", password="!") for n in range(READERS)
    )
    prefs = Preferences.objects.bulk_create(
        Preferences(
            user=u,
            digest_frequency="daily",
            time_zone="UTC",
            next_digest_at=now - dt.timedelta(minutes=1),
        )
        for u in users
    )
    Preferences.followed_tags.through.objects.bulk_create(
        Preferences.followed_tags.through(preferences_id=p.pk, tag_id=t)
        for p in prefs
        for t in rng.sample(tags, min(2, len(tags)))
    )
    Preferences.followed_authors.through.objects.bulk_create(
        Preferences.followed_authors.through(preferences_id=p.pk, author_id=rng.choice(authors))
        for p in prefs
        if authors
    )
    lists = ReadingList.objects.bulk_create(ReadingList(owner=u, name="Reading") for u in users)
    ListItem.objects.bulk_create(
        ListItem(reading_list=rl, paper_id=paper_id, position=i)
        for rl in lists
        for i, paper_id in enumerate(rng.sample(old, rng.randint(5, 10)))
    )
    Vote.objects.bulk_create(
        Vote(user=u, paper_id=paper_id) for u in users for paper_id in rng.sample(old, 2)
    )
    SavedSearch.objects.bulk_create(
        SavedSearch(user=u, name=query, query=query)
        for u in users
        if rng.random() < 0.2
        for query in [rng.choice(SEARCHES)]
    )
    with connection.cursor() as cursor:
        # What autovacuum does in a live site; the rows above arrived in seconds.
        cursor.execute("ANALYZE")
    note(f"  {READERS} readers, {len(new)} new papers among {len(ids)}")
    return now


def _bench_sending(settings, digest_ids):
    from django.db import connection

    from digest import emails, sending
    from digest.models import Digest

    with connection.cursor() as cursor:
        # What autovacuum does in a live site (it is off here): the dispatch just wrote
        # the digests' items.
        cursor.execute("ANALYZE digest_digest, digest_digestitem")
    # As a worker that has sent before: URL patterns loaded, templates compiled.
    emails.digest_messages(list(Digest.objects.filter(pk__in=digest_ids[:1])))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    figures = {}
    for name, per_connection in (("reused", 100), ("one per message", 1)):
        settings.DIGEST_MESSAGES_PER_CONNECTION = per_connection
        Digest.objects.filter(pk__in=digest_ids).update(
            status=Digest.Status.PENDING, leased_until=None, attempts=0
        )
        # Each way starts with no paper's entry rendered yet, or the second would be
        # spared what the first paid for.
        emails._paper_entries.cache_clear()
        with _SMTPServer() as server:
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
            outbox = sending.Outbox()
            started, cpu = time.perf_counter(), time.process_time()
            # As the worker's tasks do: batches of DIGEST_SEND_BATCH.
            size = settings.DIGEST_SEND_BATCH
            for start in range(0, len(digest_ids), size):
                sending.send_batch(digest_ids[start : start + size], via=outbox)
            figures[name] = len(digest_ids) / (time.perf_counter() - started)
            cpu = time.process_time() - cpu
            outbox.close()
        # The server shares the machine's cores: what it spends is not the sender's.
        note(
            f"  {name}: {figures[name]:.0f} messages/s; CPU per message: "
            f"sender {1000 * cpu / len(digest_ids):.2f} ms, "
            f"SMTP server {1000 * server.cpu / len(digest_ids):.2f} ms"
        )
    report(
        "digest.send.messages_per_s",
        figures["reused"],
        "messages/s",
        n=len(digest_ids),
        baseline=figures["one per message"],
    )


class _SMTPServer:
    """A local SMTP server that takes every message and keeps none (aiosmtpd's Sink), in
    a process of its own; afterwards, `cpu` is the CPU time it used, its start included."""

    def __enter__(self):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "aiosmtpd", "-n"),
                *("-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{self.port}"),
            ],
        )
        self.before = _children_cpu()
        try:
            _wait_for_port(self.port)
        except BaseException:
            self.process.kill()
            raise
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.cpu = _children_cpu() - self.before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP server did not start")


if __name__ == "__main__":
    main()
