from pathlib import Path

import pytest

from papers import remote, tasks
from papers.models import ImportRun, Paper
from tests.processes import celery_worker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_carries_out_an_uploaded_import():
    run = remote.start(
        "upload",
        trigger="admin",
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
