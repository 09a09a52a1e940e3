"""The dispatcher: every few minutes, claim the readers whose digest is due and build it.

Readers are claimed with SELECT … FOR UPDATE SKIP LOCKED, a batch per transaction: two
dispatchers running at once take different readers, and a dispatcher that dies mid-batch
leaves its readers due (its transaction rolls back) for the next run. Within the batch the
digests are built, each reader's next slot is set, and the sending tasks are queued when
the transaction commits — so a queued task always finds its digests.

A batch's commit does not wait for the disk (synchronous_commit off): a database crash
may lose the last batches, which is as if they had not been dispatched yet: their
readers are still due, and the next run builds them. Nothing durable can rest on a lost
batch: WAL is written in order, so the commit with which a worker marks a digest as
`sending` (which waits for the disk) makes the batch that built it durable first.
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Preferences
from accounts.schedule import next_digest_at
from config.celery import app
from digest.building import Snapshot, build_digests


def dispatch_due(*, now: dt.datetime | None = None) -> list[int]:
    """Build every due digest; return the ids of those queued for sending."""
    now = now or timezone.now()
    schedule_missing(now=now)
    snapshot = Snapshot()
    queued = []
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            batch = list(
                Preferences.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_digest_at__lte=now, user__is_active=True)
                .order_by("next_digest_at")[: settings.DIGEST_DISPATCH_BATCH]
            )
            if not batch:
                return queued
            pending = build_digests(batch, now=now, snapshot=snapshot)
            # A dispatcher that was down for days sends one digest now, not one per missed slot.
            _reschedule({p.pk: next_digest_at(p, after=now) for p in batch})
            transaction.on_commit(lambda pending=pending: queue_sending(pending))
            queued += pending


def _reschedule(slots: dict[int, dt.datetime | None]) -> None:
    """Set the next slot of each reader (by Preferences id) in one statement:
    bulk_update() builds a CASE with a branch per reader, nearly a second a batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Preferences._meta.db_table} AS p SET next_digest_at = slot.at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS slot (id, at) WHERE p.id = slot.id",
            [list(slots), list(slots.values())],
        )


def queue_sending(digest_ids: list[int]) -> None:
    """One sending task per DIGEST_SEND_BATCH digests: a worker sends a batch over one
    SMTP connection. (Publishing a task costs more than building a digest, so a task per
    digest would halve the dispatcher's speed; each digest is still claimed on its own.)"""
    from digest.tasks import send_digests

    size = settings.DIGEST_SEND_BATCH
    with app.producer_or_acquire() as producer:
        for start in range(0, len(digest_ids), size):
            send_digests.apply_async(
                [digest_ids[start : start + size]],
                queue=settings.DIGEST_QUEUE,
                producer=producer,
            )


def schedule_missing(*, now: dt.datetime) -> int:
    """Give a first slot to readers who want digests but have none (settings saved
    before slots were kept); paused readers stay paused."""
    missing = list(
        Preferences.objects.filter(next_digest_at__isnull=True, paused_reason="").exclude(
            digest_frequency=Preferences.Frequency.OFF
        )
    )
    for preferences in missing:
        preferences.next_digest_at = next_digest_at(preferences, after=now)
    Preferences.objects.bulk_update(missing, ["next_digest_at"])
    return len(missing)
