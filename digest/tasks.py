"""Celery tasks of the digest: the dispatcher beat runs, and the sending of digests."""

from celery import shared_task

from digest import dispatching, sending


@shared_task(acks_late=True)
def dispatch_digests() -> int:
    """Build the due digests and queue them; queue again those a stopped worker left."""
    queued = dispatching.dispatch_due()
    dispatching.queue_sending(sending.recover_stalled())
    return len(queued)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_digests(self, digest_ids: list[int]) -> dict[str, int]:
    """Send a batch of digests over one connection; those that met a transient error
    are tried again, by themselves, after a backoff."""
    outcome = sending.send_batch(digest_ids)
    if outcome.retry:
        # 1, 2, 4, 8… minutes: a busy server gets time; DIGEST_MAX_ATTEMPTS ends it.
        countdown = 60 * 2 ** min(self.request.retries, 6)
        raise self.retry(args=[outcome.retry], countdown=countdown)
    return outcome.counts
