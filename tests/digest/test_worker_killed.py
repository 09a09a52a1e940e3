"""A real worker, killed with SIGKILL while it sends a batch of 200 digests, then restarted:
every reader gets their digest exactly once (see digest/sending.py for why)."""

import collections
import datetime as dt
import os
import signal
import time
import uuid

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.preferences import preferences_of
from digest import sending
from digest.dispatching import dispatch_due, queue_sending
from digest.models import Digest
from tests.factories import PaperFactory
from tests.processes import start_celery_worker

READERS = 200


def kill(worker):
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_killed_workers_lose_no_digest_and_send_none_twice(smtp_server, settings):
    settings.DIGEST_LEASE_SECONDS = 3  # here and in the workers: the recovery comes soon
    settings.DIGEST_SEND_BATCH = 20
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings.DIGEST_QUEUE = queue
    now = timezone.now()
    PaperFactory.create_batch(3, first_seen_at=now - dt.timedelta(hours=1))
    # Made in one statement: hashing 200 passwords would take longer than the test.
    readers = User.objects.bulk_create(User(email=f"r{n}@example.org") for n in range(READERS))
    for user in readers:
        prefs = preferences_of(user)
        prefs.digest_frequency, prefs.next_digest_at = "daily", now - dt.timedelta(minutes=1)
        prefs.save()
    assert len(dispatch_due()) == READERS  # queued on commit, for workers to come
    worker_env = {
        "EMAIL_HOST": settings.EMAIL_HOST,  # the smtp_server fixture's
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "DIGEST_LEASE_SECONDS": "3",
    }
    # The 60th message reaches the server whole, but its "250 OK" is held back: the
    # worker is killed in the gap between the server taking it and the worker knowing.
    smtp_server.hold = (60, 40)

    # Not waited for: a solo worker answers pings between tasks, and this one is to hang.
    worker, _ = start_celery_worker(queue=queue, env=worker_env, wait=False)
    try:
        assert smtp_server.holding.wait(timeout=120), "the 60th message never came"
    finally:
        kill(worker)
    assert not smtp_server.released.is_set()
    # Restarted, and killed again wherever it happens to be after 130 messages.
    worker, _ = start_celery_worker(queue=queue, env=worker_env)
    try:
        smtp_server.wait_for(130, timeout=120)
    finally:
        kill(worker)

    worker, _ = start_celery_worker(queue=queue, env=worker_env)
    try:
        deadline = time.monotonic() + 180
        while Digest.objects.exclude(status=Digest.Status.SENT).exists():
            assert time.monotonic() < deadline, "digests left unsent"
            time.sleep(1)
            # What the dispatcher's beat does every few minutes.
            queue_sending(sending.recover_stalled())
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    received = collections.Counter(m["To"] for m in smtp_server.messages)
    assert {u.email for u in readers} == set(received)
    assert set(received.values()) == {1}, [a for a, n in received.items() if n > 1]
    held = Digest.objects.get(user__email=smtp_server.messages[59]["To"])
    assert (held.status, held.attempts) == ("sent", 1)
    assert held.error.startswith("Delivery not confirmed")
