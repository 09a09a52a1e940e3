"""Import speed: the arXiv listing corpus into an empty database, against raw COPY.

Figures: papers/s of the first import (parse, identity, merge and writes), of the search
indexing that follows it, and of the two together; the same rows COPYed into a table of
the same shape (its indexes included) as the baseline; a second import of the same file
(everything unchanged); the import's peak memory, measured in a child process.
"""

import datetime
import json
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from bench.common import corpus_file, data_dir, note, report, use_fresh_database


def main() -> None:
    path = corpus_file()
    note(f"import benchmark on {path}")
    child = subprocess.run(
        [sys.executable, "-m", "bench.importing", "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    n = figures["n"]
    report(
        "import.first.papers_per_s",
        n / figures["first"],
        "papers/s",
        n=n,
        baseline=n / figures["copy"],
    )
    report(
        "import.first_with_search_index.papers_per_s",
        n / (figures["first"] + figures["index"]),
        "papers/s",
        n=n,
        baseline=n / (figures["copy"] + figures["copy_index"]),
    )
    report("import.search_index.papers_per_s", n / figures["index"], "papers/s", n=n)
    report(
        "import.second_unchanged.papers_per_s",
        n / figures["second"],
        "papers/s",
        n=n,
        baseline=n / figures["first"],
    )
    report("import.peak_memory", peak_mb, "MB", n=n)
    if "hf_records" in figures:
        report(
            "merge.hf_daily_papers_found_in_arxiv_corpus",
            figures["hf_merged"],
            "papers",
            n=figures["hf_records"],
        )
        report("merge.hf_daily_papers_new", figures["hf_new"], "papers", n=figures["hf_records"])


def child(path: str) -> None:
    use_fresh_database()
    from django.db import connection

    from papers import importing, search
    from papers.models import Paper
    from papers.sources import snapshot

    with open(path, "rb") as file:
        data = file.read()
    started = time.perf_counter()
    run = importing.import_records(snapshot.parse(data), run=importing.start_run(source="bench"))
    first = time.perf_counter() - started
    assert run.created == Paper.objects.count(), (run.created, Paper.objects.count())

    started = time.perf_counter()
    search.index_papers()
    index = time.perf_counter() - started

    started = time.perf_counter()
    again = importing.import_records(snapshot.parse(data), run=importing.start_run(source="bench"))
    second = time.perf_counter() - started
    assert again.unchanged == again.seen - again.failed, again.summary()

    copy, copy_index = _copy_baseline(connection)
    merged = _merge_hf_daily()
    figures = {
        "n": run.created,
        "first": first,
        "index": index,
        "second": second,
        "copy": copy,
        "copy_index": copy_index,
        **merged,
    }
    print(json.dumps(figures))


def _merge_hf_daily() -> dict:
    """Import every recorded Hugging Face day on top: papers in both must become one."""
    shared = data_dir()
    archive = shared / "hf-daily" / "daily_papers-2024-05_2025-12.tar.gz" if shared else None
    if not archive or not archive.exists():
        return {}
    from papers import importing
    from papers.models import Paper
    from papers.sources import hf_daily

    def records():
        with tarfile.open(archive) as days:
            for member in days:
                if member.isfile() and member.name.endswith(".json"):
                    day = datetime.date.fromisoformat(Path(member.name).stem)
                    yield from hf_daily.parse(days.extractfile(member).read(), list_day=day)

    before = Paper.objects.count()
    run = importing.import_records(records(), run=importing.start_run(source="bench"))
    both = Paper.objects.filter(sources__contains=["arxiv-snapshot", "hf-daily"]).count()
    return {"hf_records": run.seen, "hf_merged": both, "hf_new": Paper.objects.count() - before}


def _copy_baseline(connection) -> tuple[float, float]:
    """COPY the stored rows into a same-shaped table, then fill its search column."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_copy (LIKE papers_paper INCLUDING ALL)")
        cursor.execute("SELECT * FROM papers_paper")
        # The generated listing day is computed by PostgreSQL, as in the real table.
        skipped = {"search_vector", "related_at", "listed_on"}
        columns = [c.name for c in cursor.description if c.name not in skipped]
        cursor.execute(f"SELECT {', '.join(columns)} FROM papers_paper ORDER BY id")
        rows = cursor.fetchall()
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        copied = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(
            "UPDATE bench_copy SET search_vector = "
            "paperfeed_search_vector(title, abstract, author_names)"
        )
        indexed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return copied, indexed


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
