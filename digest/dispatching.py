"""The dispatcher: every few minutes, claim the readers whose digest is due and build it.

Readers are claimed with SELECT … FOR UPDATE SKIP LOCKED, a batch per transaction: two
dispatchers running at once take different readers, and a dispatcher that dies mid-batch
leaves its readers due (its transaction rolls back) for the next run. Within the batch the
digests are built, each reader's next slot is set, and the sending tasks are queued when
the transaction commits — so a queued task always finds its digests.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Preferences
from accounts.schedule import next_digest_at
from config.celery import app
from digest.building import Texts, build_digests
from digest.models import Digest


def dispatch_due(*, now: dt.datetime | None = None) -> list[int]:
    """Build every due digest; return the ids of those queued for sending."""
    now = now or timezone.now()
    schedule_missing(now=now)
    texts = Texts()
    queued = []
    while True:
        with transaction.atomic():
            batch = list(
                Preferences.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_digest_at__lte=now, user__is_active=True)
                .select_related("user")
                .order_by("next_digest_at")[: settings.DIGEST_DISPATCH_BATCH]
            )
            if not batch:
                return queued
            digests = build_digests(batch, now=now, texts=texts)
            # A dispatcher that was down for days sends one digest now, not one per missed slot.
            for preferences in batch:
                preferences.next_digest_at = next_digest_at(preferences, after=now)
            Preferences.objects.bulk_update(batch, ["next_digest_at"])
            pending = [d.pk for d in digests if d.status == Digest.Status.PENDING]
            transaction.on_commit(lambda pending=pending: queue_sending(pending))
            queued += pending


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
