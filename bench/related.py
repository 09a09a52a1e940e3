"""Related papers: the nightly refresh of every paper of the imported corpus, end to end
(read, vectorise, compare, write); then, on a sample of papers, the comparison against
the exhaustive one it stands in for (every paper scored against every other), for speed
and for how many of the exhaustive choice it finds. Runs after bench.importing, in the
database it left."""

import json
import subprocess
import sys
import time

from bench.common import note, report, use_bench_database

SAMPLE = 1000


def main() -> None:
    note("related papers benchmark")
    child = subprocess.run(
        [sys.executable, "-m", "bench.related", "--child"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    n = figures["n"]
    report("related.papers_per_s", n / figures["refresh"], "papers/s", n=n)
    if figures["sample"]:
        sample = figures["sample"]
        report(
            "related.comparison.papers_per_s",
            sample / figures["compare"],
            "papers/s",
            n=sample,
            baseline=sample / figures["exhaustive"],
        )
        report("related.recall_vs_exhaustive", figures["recall"], "fraction", n=sample)


def child() -> None:
    use_bench_database()
    import numpy as np
    from django.conf import settings

    from papers import related
    from papers.models import Paper

    started = time.perf_counter()
    n = related.refresh_all()
    figures = {"n": n, "refresh": time.perf_counter() - started}

    texts = Paper.objects.order_by("pk").values_list("title", "abstract")
    x = related.vectors((f"{t}\n{a}" for t, a in texts.iterator()), papers=n)
    rows = np.sort(np.random.default_rng(0).choice(n, min(SAMPLE, n), replace=False))
    k = settings.RELATED_PAPERS

    started = time.perf_counter()
    found = {}
    for part, neighbours, _ in related.nearest(x, rows, k=k):
        found.update(zip(part.tolist(), map(_chosen, neighbours), strict=True))
    figures["compare"] = time.perf_counter() - started

    started = time.perf_counter()
    exhaustive = {}
    for start in range(0, len(rows), related.CHUNK):
        part = rows[start : start + related.CHUNK]
        scores = (x[part] @ x.T).toarray()
        scores[np.arange(len(part)), part] = -1
        best = np.argpartition(scores, -k, axis=1)[:, -k:]
        best[np.take_along_axis(scores, best, axis=1) < related.FLOOR] = -1
        exhaustive.update(zip(part.tolist(), map(_chosen, best), strict=True))
    figures["exhaustive"] = time.perf_counter() - started

    wanted = sum(len(chosen) for chosen in exhaustive.values())
    agreed = sum(len(found[row] & chosen) for row, chosen in exhaustive.items())
    figures.update(sample=len(rows), recall=agreed / wanted if wanted else 1.0)
    print(json.dumps(figures))


def _chosen(neighbours) -> set[int]:
    return {int(i) for i in neighbours if i >= 0}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main()
