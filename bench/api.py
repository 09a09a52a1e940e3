"""API speed: the REST API served by gunicorn over the imported corpus, loaded by
ApacheBench at 16 clients — paper list (plain, by tag, searched, searched by tag) and
paper detail; p50, p95, requests/s and errors of each.

Each URL is measured three ways: cold (one request after every kept answer was
forgotten: what a query nobody asked for lately costs), loaded for an anonymous client
(whose answers are kept for a minute, config.api.caching, as visitors' pages are), and
loaded for a reader with a token (never kept: every request queries PostgreSQL and
serialises the papers again).

Runs after bench.importing and bench.tagging, in the database they left, with the
gunicorn setup bench.pages keeps (sync workers).

Figures: api.<name>.{cold_ms,p50_ms,p95_ms,requests_per_s,errors} and
api.reader.<name>.{p50_ms,p95_ms,requests_per_s,errors}; n = requests made.
"""

import os
import shutil
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import BENCH_DATABASE, note, report
from bench.pages import (
    COLD_ROUNDS,
    SECONDS_PER_URL,
    SERVER_SETUPS,
    WARMUP_REQUESTS,
    Server,
    _ab,
    _collect_static,
    _forgetter,
    _server_environment,
)

# The goals for p95 (ms).
LIST_GOAL_MS, SEARCH_GOAL_MS = 50, 150
SETUP = "sync, 5 workers"


def main() -> None:
    ab = shutil.which("ab")
    if not ab:
        raise SystemExit("The API benchmark needs ApacheBench: `apt-get install apache2-utils`.")
    note("API benchmark")
    tag, paper = _subjects()
    urls = {
        "papers": "/api/papers/",
        "papers_by_tag": f"/api/papers/?tag={tag}",
        "papers_search": "/api/papers/?search=language+model",
        "papers_search_by_tag": f"/api/papers/?search=diffusion&tag={tag}",
        "paper": f"/api/papers/{paper}/",
    }
    # Rate limits would answer 429 long before the load ends: out of the way here.
    env = _server_environment() | {
        "API_RATE_ANONYMOUS": "100000000/minute",
        "API_RATE_READER": "100000000/minute",
    }
    _collect_static(env)
    forget = _forgetter()
    reader = {"Authorization": f"Bearer {_reader_token()}"}
    with Server(SERVER_SETUPS[SETUP], env) as server:
        for url in urls.values():
            _ab(ab, server.base + url, WARMUP_REQUESTS)
        for name, url in urls.items():
            cold = server.cold(url, forget)
            report(f"api.{name}.cold_ms", cold, "ms", n=COLD_ROUNDS, higher_is_better=False)
            goal = SEARCH_GOAL_MS if "search" in name else LIST_GOAL_MS
            for who, prefix, headers in (
                ("anonymous", f"api.{name}", None),
                ("reader", f"api.reader.{name}", reader),
            ):
                figures = server.load(ab, url, seconds=SECONDS_PER_URL, headers=headers)
                n = figures["requests"]
                report(f"{prefix}.p50_ms", figures["p50_ms"], "ms", n=n, higher_is_better=False)
                report(f"{prefix}.p95_ms", figures["p95_ms"], "ms", n=n, higher_is_better=False)
                report(f"{prefix}.requests_per_s", figures["requests_per_s"], "requests/s", n=n)
                report(f"{prefix}.errors", figures["errors"], "requests", n=n)
                verdict = "meets" if figures["p95_ms"] <= goal else "MISSES"
                note(
                    f"  {name} {url} ({who}): p95 {figures['p95_ms']:.1f} ms {verdict} "
                    f"the {goal} ms goal"
                )


def _reader_token() -> str:
    """A new token of the benchmark's own reader (Django is set up by _forgetter)."""
    from accounts.models import ApiToken, User
    from accounts.tokens import create_token

    user, _ = User.objects.get_or_create(email="api-bench@paperfeed.invalid")
    ApiToken.objects.filter(user=user).delete()
    return create_token(user, name="bench")[1]


def _subjects() -> tuple[str, int]:
    """The topic tag on the most papers, and a paper with many authors and tags."""
    url = urlsplit(os.environ["DATABASE_URL"])
    dsn = urlunsplit(url._replace(path=f"/{BENCH_DATABASE}"))
    with psycopg.connect(dsn) as connection:
        tag = connection.execute(
            "SELECT t.slug FROM papers_tag t JOIN papers_papertag pt ON pt.tag_id = t.id "
            "WHERE t.kind = 'topic' AND pt.status <> 'rejected' "
            "GROUP BY t.slug ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        paper = connection.execute(
            "SELECT paper_id FROM papers_authorship GROUP BY paper_id "
            "ORDER BY count(*) DESC, paper_id LIMIT 1"
        ).fetchone()[0]
    return tag, paper


if __name__ == "__main__":
    main()
