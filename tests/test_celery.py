import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from config.celery import app

ROOT = Path(__file__).resolve().parents[1]


def test_a_real_worker_connects_to_redis_and_answers():
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
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=os.environ,
    )
    try:
        deadline = time.monotonic() + 30
        replies = []
        while not replies and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited"
            replies = app.control.ping(destination=[name], timeout=0.5)
        assert replies == [{name: {"ok": "pong"}}]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
