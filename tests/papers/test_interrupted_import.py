"""An import killed mid-way (SIGKILL: no cleanup at all) and run again."""

import gzip
import json
import signal
import subprocess
import sys

import pytest
from django.db.models import Count

from papers.identity import author_key
from papers.models import Authorship, ImportRun, Paper
from tests.processes import ROOT, child_env

SLICE = ROOT / "tests" / "fixtures" / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz"
COPIES = 30  # 6,000 papers: enough batches for the kill to land in the middle

IMPORT = """
import sys, django
django.setup()
from papers import importing
from papers.sources import snapshot
importing.BATCH_SIZE = 200
run = importing.start_run(source="test")
def report(run):
    print(run.seen, flush=True)
importing.import_records(snapshot.parse(open(sys.argv[1], "rb").read()), run=run, on_batch=report)
print("done", flush=True)
"""


@pytest.fixture
def corpus(tmp_path):
    """The real slice, repeated under distinct ids so that every line is its own paper."""
    lines = gzip.decompress(SLICE.read_bytes()).decode().splitlines()
    path = tmp_path / "corpus.jsonl"
    with path.open("w") as out:
        for copy in range(COPIES):
            for number, line in enumerate(lines):
                paper = json.loads(line)
                paper["id"] = f"99{copy:02d}.{number:05d}"
                paper["title"] = f"{paper['title']} (copy {copy})"
                out.write(json.dumps(paper) + "\n")
    return path


def start_import(path):
    return subprocess.Popen(
        [sys.executable, "-c", IMPORT, str(path)],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_run_again_completes_without_duplicates(corpus):
    child = start_import(corpus)
    # Wait until a few batches are committed, then kill it without warning.
    for _ in range(3):
        assert child.stdout.readline().strip().isdigit()
    child.send_signal(signal.SIGKILL)
    child.wait()

    partial = Paper.objects.count()
    assert 0 < partial < COPIES * 200
    assert_whole_papers()

    again = start_import(corpus)
    assert again.stdout.read().strip().endswith("done")
    assert again.wait() == 0

    assert Paper.objects.count() == COPIES * 200
    assert not Paper.objects.values("arxiv_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert_whole_papers()
    last = ImportRun.objects.order_by("-pk").first()
    assert (last.status, last.created, last.unchanged) == (
        "succeeded",
        COPIES * 200 - partial,
        partial,
    )


def assert_whole_papers():
    """Every paper has one authorship per name of its byline: nothing half-written."""
    counts = dict(Authorship.objects.values_list("paper").annotate(n=Count("id")))
    for pk, names in Paper.objects.values_list("pk", "author_names"):
        assert counts.get(pk, 0) == len([n for n in names if author_key(n)]), pk
