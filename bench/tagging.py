"""Tagging speed: up to 50,000 papers of the imported corpus, with the starter rules and
arXiv categories, then with the learned tagger as well (trained on the rule and category
tags the first pass settled). Runs after bench.importing, in the database it left."""

import json
import subprocess
import sys
import time

from bench.common import note, report, use_bench_database

LIMIT = 50_000


def main() -> None:
    note("tagging benchmark")
    child = subprocess.run(
        [sys.executable, "-m", "bench.tagging", "--child"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    n = figures["n"]
    report("tagging.rules_and_categories.papers_per_s", n / figures["rules"], "papers/s", n=n)
    if "learned" in figures:
        report("tagging.with_learned_tagger.papers_per_s", n / figures["learned"], "papers/s", n=n)
        report(
            "tagging.learned_tagger.training_seconds",
            figures["training"],
            "s",
            n=figures["trained_on"],
            higher_is_better=False,
        )


def child() -> None:
    use_bench_database()
    from papers.models import Paper, PaperTag
    from papers.tagging import applying, training

    applying.load_starter_taxonomy()
    ids = list(Paper.objects.order_by("pk").values_list("pk", flat=True)[:LIMIT])
    PaperTag.objects.all().delete()
    started = time.perf_counter()
    applying.tag_papers(ids)
    figures = {"n": len(ids), "rules": time.perf_counter() - started}

    try:
        started = time.perf_counter()
        model = training.train(force=True)
        figures["training"] = time.perf_counter() - started
    except ImportError:  # no learned tagger in this checkout
        model = None
    if model is not None:
        figures["trained_on"] = model.papers
        started = time.perf_counter()
        applying.tag_papers(ids)
        figures["learned"] = time.perf_counter() - started
    print(json.dumps(figures))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main()
