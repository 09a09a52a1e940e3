import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.celery import app
from papers import remote, tasks
from papers.models import ImportRun, Paper
from tests.processes import ROOT, celery_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BIBTEX = FIXTURES / "bibtex" / "d2l.bib"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_carries_out_an_uploaded_import():
    run = remote.start(
        "upload",
        trigger="admin",
        queued=True,
        upload=(FIXTURES / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz").read_bytes(),
        filename="slice.jsonl.gz",
    )

    with celery_worker() as (_, queue):
        tasks.perform_import.apply_async([run.pk], queue=queue).get(timeout=60)

    run.refresh_from_db()
    assert (run.status, run.source, run.created) == ("succeeded", "arxiv-snapshot", 200)
    assert Paper.objects.filter(search_vector__isnull=False).count() == 200


@pytest.mark.django_db
def test_perform_import_returns_quietly_for_a_missing_or_finished_run():
    tasks.perform_import(987654)
    done = remote.start("upload", trigger="admin", upload=b"")
    done.status = ImportRun.Status.SUCCEEDED
    done.save()

    tasks.perform_import(done.pk)

    done.refresh_from_db()
    assert done.status == ImportRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_queued_run_is_claimed_then_performed():
    run = remote.start(
        "upload", trigger="admin", queued=True, upload=BIBTEX.read_bytes(), filename="d2l.bib"
    )
    assert run.status == ImportRun.Status.QUEUED

    tasks.perform_import(run.pk)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert Paper.objects.count() == run.created > 400


@pytest.mark.django_db
def test_a_redelivered_task_leaves_a_run_in_progress_alone():
    run = remote.start(
        "upload", trigger="admin", queued=True, upload=BIBTEX.read_bytes(), filename="d2l.bib"
    )
    # The first delivery claimed it and is still importing when the message comes again.
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)

    tasks.perform_import(run.pk)

    run.refresh_from_db()
    assert (run.status, run.seen) == (ImportRun.Status.RUNNING, 0)
    assert run.upload is not None
    assert not Paper.objects.exists()


@pytest.mark.django_db
def test_runs_performed_where_they_start_are_running_from_the_start():
    run = remote.start("hf-daily", trigger="schedule", date="2025-12-01")

    assert run.status == ImportRun.Status.RUNNING


def test_the_broker_gives_a_long_import_time_before_handing_it_out_again():
    twelve_hours = 12 * 60 * 60
    assert app.conf.broker_transport_options["visibility_timeout"] == twelve_hours
    assert app.conf.result_backend_transport_options["visibility_timeout"] == twelve_hours
    assert app.conf.visibility_timeout == twelve_hours


def test_the_visibility_timeout_comes_from_the_environment():
    read = (
        "from config.celery import app; c = app.conf; print("
        "c.broker_transport_options['visibility_timeout'], "
        "c.result_backend_transport_options['visibility_timeout'], c.visibility_timeout)"
    )
    result = subprocess.run(
        [sys.executable, "-c", read],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CELERY_VISIBILITY_TIMEOUT": "86400",
        },
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["86400", "86400", "86400"]
