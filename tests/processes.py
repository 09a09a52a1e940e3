"""Helpers for tests that start real processes (workers, commands) against the test database."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """DATABASE_URL of the database this test reads, for a child process to write to."""
    settings = connection.settings_dict
    host = settings["HOST"] or settings["OPTIONS"].get("host", "")
    if host.startswith("/"):
        return f"postgresql://{settings['USER']}@/{settings['NAME']}?host={host}"
    return f"postgres://{settings['USER']}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


def child_env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
    }


@contextmanager
def celery_worker(*, queue: str | None = None, env: dict | None = None):
    """A real Celery worker on the real Redis, writing to the test database; yields its
    name and queue.

    It consumes its own queue, so a developer's running worker never takes these tasks.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    worker, name = start_celery_worker(queue=queue, env=env)
    try:
        yield name, queue
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def start_celery_worker(
    *, queue: str, env: dict | None = None, wait: bool = True
) -> tuple[subprocess.Popen, str]:
    """Start a worker (one process: the solo pool) on `queue` and, with `wait`, wait until
    it answers a ping (which a solo worker does only between tasks)."""
    from config.celery import app

    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--hostname",
            name,
            "--queues",
            queue,
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env={**child_env(), **(env or {})},
    )
    deadline = time.monotonic() + 30
    while wait and not app.control.ping(destination=[name], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise AssertionError("the worker did not start and answer within 30 s")
    return worker, name
