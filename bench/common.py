"""What every benchmark needs: its data, a database of its own, and a way to report."""

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# Another name lets several checkouts bench side by side.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "paperfeed_bench")


def data_dir() -> Path | None:
    """The real corpus: BENCH_DATA, else ../shared/data beside the checkout, if present."""
    configured = os.environ.get("BENCH_DATA")
    candidate = Path(configured) if configured else ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def corpus_file() -> Path:
    """The 54k arXiv listing, or the bundled 200-paper slice on a fresh clone."""
    shared = data_dir()
    if shared and (shared / "arxiv-cs" / "arxiv-cs-2025-03_2026-03.jsonl.gz").exists():
        return shared / "arxiv-cs" / "arxiv-cs-2025-03_2026-03.jsonl.gz"
    return ROOT / "tests" / "fixtures" / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz"


def use_fresh_database() -> None:
    """Point Django at an empty, migrated database of the benchmarks' own."""
    url = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    use_bench_database()


def use_bench_database() -> None:
    """Point Django at the benchmarks' database as an earlier benchmark left it."""
    url = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{BENCH_DATABASE}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def report(name, value, unit, *, n, baseline=None, higher_is_better=True):
    ratio = None
    if baseline:
        ratio = value / baseline if higher_is_better else baseline / value
    line = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3) if baseline is not None else None,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "n": n,
    }
    print(json.dumps(line), flush=True)
    return line


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
