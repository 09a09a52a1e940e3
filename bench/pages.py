"""Page speed: the site served by gunicorn over the imported corpus, loaded by ApacheBench.

Runs after bench.importing and bench.tagging, in the database they left. For the home
page, a paper page, a tag page and four searches, 16 clients at once ask for the page
over and over: p50 and p95 latency, requests/s and errors of each. The searches are also
compared with arxiv-sanity-lite's way of searching (score every paper in Python), timed
on the same corpus in the same run, before the server starts.

Figures: pages.<name>.{p50_ms,p95_ms,requests_per_s,errors}, n = requests made;
search.<name>.arxiv_sanity_lite_ms (n = papers scored) and search.<name>.p50_ms against it.
"""

import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import quote_plus, urlsplit, urlunsplit

from bench.common import BENCH_DATABASE, ROOT, note, report, use_bench_database

CONCURRENCY = 16
# The goals for p95 (ms), checked in the notes.
PAGE_GOAL_MS, SEARCH_GOAL_MS = 100, 150
SEARCHES = {
    "language_model": "language model",
    "diffusion": "diffusion",
    "rl_minus_robot": '"reinforcement learning" -robot',
}
# Each measured URL gets about this many seconds of load, within these many requests:
# enough for a steady p95, and the whole benchmark stays within a few minutes.
SECONDS_PER_URL = 20
# Requests timed one by one with nothing kept (pages, rankings, counts, charts).
COLD_ROUNDS = 3
MIN_REQUESTS, MAX_REQUESTS = 100, 2000
WARMUP_REQUESTS = 2 * CONCURRENCY
# gunicorn setups tried on a short load of two URLs; the best one serves the measurement.
# sync 2 x cores + 1 is gunicorn's own advice; threads let a worker wait on PostgreSQL
# (on the same two cores) without holding the others up.
SERVER_SETUPS = {
    "sync, 5 workers": "--worker-class sync --workers 5",
    "gthread, 3 workers x 4 threads": "--worker-class gthread --workers 3 --threads 4",
    "gthread, 2 workers x 8 threads": "--worker-class gthread --workers 2 --threads 8",
}
PROBE_SECONDS = 5
PROBE_PAGES = ("home", "search_language_model")


def main() -> None:
    ab = shutil.which("ab")
    if not ab:
        raise SystemExit(
            "The page benchmark needs ApacheBench (`ab`): install it with "
            "`apt-get install apache2-utils` and run `make bench` again."
        )
    note("page benchmark")
    child = subprocess.run(
        [sys.executable, "-m", "bench.pages", "--child"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(child.stderr)
    child.check_returncode()
    prepared = json.loads(child.stdout.strip().splitlines()[-1])

    searches = {**SEARCHES, "rare_word": prepared["rare_word"]}
    urls = {
        "home": "/",
        "paper": f"/papers/{prepared['paper']}/",
        "tag": f"/tags/{prepared['tag']}/",
        **{f"search_{name}": f"/search/?q={quote_plus(q)}" for name, q in searches.items()},
    }
    env = _server_environment()
    _collect_static(env)

    best, best_score = None, None
    for label, arguments in SERVER_SETUPS.items():
        with Server(arguments, env) as server:
            probes = {
                page: server.load(ab, urls[page], seconds=PROBE_SECONDS, least=WARMUP_REQUESTS)
                for page in PROBE_PAGES
            }
        score = sum(probe["p95_ms"] for probe in probes.values())
        note(
            f"  try gunicorn {label}: "
            + ", ".join(
                f"{page} p95 {p['p95_ms']:.0f} ms {p['requests_per_s']:.0f}/s"
                for page, p in probes.items()
            )
        )
        if best_score is None or score < best_score:
            best, best_score = label, score
    note(f"gunicorn setup kept: {best} (lowest sum of p95 over {', '.join(PROBE_PAGES)})")

    measured = {}
    forget = _forgetter()
    with Server(SERVER_SETUPS[best], env) as server:
        # Every worker compiles the templates and opens its connection first, so that
        # the cold figures time the queries and rendering, not a process starting up.
        for url in urls.values():
            _ab(ab, server.base + url, WARMUP_REQUESTS)
        for page, url in urls.items():
            cold = server.cold(url, forget)
            report(f"pages.{page}.cold_ms", cold, "ms", n=COLD_ROUNDS, higher_is_better=False)
            measured[page] = figures = server.load(ab, url, seconds=SECONDS_PER_URL)
            n = figures["requests"]
            report(f"pages.{page}.p50_ms", figures["p50_ms"], "ms", n=n, higher_is_better=False)
            report(f"pages.{page}.p95_ms", figures["p95_ms"], "ms", n=n, higher_is_better=False)
            report(f"pages.{page}.requests_per_s", figures["requests_per_s"], "requests/s", n=n)
            report(f"pages.{page}.errors", figures["errors"], "requests", n=n)
            goal = SEARCH_GOAL_MS if page.startswith("search_") else PAGE_GOAL_MS
            verdict = "meets" if figures["p95_ms"] <= goal else "MISSES"
            note(f"  {page} {url}: p95 {figures['p95_ms']:.1f} ms {verdict} the {goal} ms goal")
            if figures["errors"]:
                note(
                    f"  {page}: {figures['errors']} of {n} requests failed ({figures['failures']})"
                )

    note(
        "search.*.p50_ms compares a whole search page under 16 concurrent clients (HTTP, "
        "query, rendering) with arxiv-sanity-lite's bare scoring loop run alone, which "
        "favours the baseline"
    )
    papers = prepared["papers"]
    for name in searches:
        baseline = prepared["arxiv_sanity_lite_ms"][name]
        ours = measured[f"search_{name}"]
        report(
            f"search.{name}.arxiv_sanity_lite_ms", baseline, "ms", n=papers, higher_is_better=False
        )
        report(
            f"search.{name}.p50_ms",
            ours["p50_ms"],
            "ms",
            n=ours["requests"],
            baseline=baseline,
            higher_is_better=False,
        )


class Server:
    """gunicorn serving the site on a free local port, stopped however the block ends."""

    def __init__(self, arguments, env):
        self.arguments, self.env = arguments, env

    def __enter__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                *self.arguments.split(),
            ],
            cwd=ROOT,
            env=self.env | {"SITE_URL": self.base},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def _wait_until_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self._log()}"
                )
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n{self._log()}")

    def _log(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def cold(self, path, forget, *, headers=None) -> float:
        """One request after every kept page and ranking was forgotten: what a query
        nobody asked for in the last minutes costs (median of COLD_ROUNDS, in ms)."""
        times = []
        for _ in range(COLD_ROUNDS):
            forget()
            started = time.perf_counter()
            request = urllib.request.Request(self.base + path, headers=headers or {})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def load(self, ab, path, *, seconds, least=MIN_REQUESTS, headers=None):
        """Warm the URL up, then load it for about `seconds` at CONCURRENCY clients."""
        url = self.base + path
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            note(f"  {path} answers {exc.code}: its figures count errors, not page speed")
        warmup = _ab(ab, url, WARMUP_REQUESTS, headers=headers)
        requests = round(warmup["requests_per_s"] * seconds, -1)
        return _ab(ab, url, int(min(max(requests, least), MAX_REQUESTS)), headers=headers)


def _ab(ab, url, requests, *, headers=None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        # -l: pages vary in length (CSRF tokens, dates); ab would count that as failure.
        # -r: a connection dropped by the server is counted as failed, not fatal to ab.
        options = ["-q", "-k", "-l", "-r", "-s", "60", "-e", percentiles.name]
        for name, value in (headers or {}).items():
            options += ["-H", f"{name}: {value}"]
        run = subprocess.run(
            [ab, *options, "-c", str(CONCURRENCY), "-n", str(requests), url],
            capture_output=True,
            text=True,
        )
        if run.returncode:
            raise RuntimeError(f"ab failed on {url}:\n{run.stdout}{run.stderr}")
        out = run.stdout
        # ab's percentile table, in the CSV to the microsecond instead of whole milliseconds.
        served = dict(
            line.split(",") for line in Path(percentiles.name).read_text().splitlines()[1:]
        )

    def number(label, default=None):
        found = re.search(rf"^{label}:\s+([\d.]+)", out, re.MULTILINE)
        if found is None and default is None:
            raise RuntimeError(f"no {label!r} in ab's output for {url}:\n{out}")
        return float(found.group(1)) if found else default

    failed, non_2xx = int(number("Failed requests")), int(number("Non-2xx responses", 0))
    detail = re.search(r"\((Connect: .*)\)", out)
    return {
        "requests": requests,
        "requests_per_s": number("Requests per second"),
        "p50_ms": float(served["50"]),
        "p95_ms": float(served["95"]),
        "errors": failed + non_2xx,
        "failures": f"{detail.group(1) if detail else 'none failed'}; non-2xx: {non_2xx}",
    }


def _forgetter():
    """papers.results.corpus_changed, run here against the server's own cache."""
    use_bench_database()
    from papers import results

    return results.corpus_changed


def _server_environment() -> dict:
    url = urlsplit(os.environ["DATABASE_URL"])
    return os.environ | {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{BENCH_DATABASE}")),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Plain HTTP on 127.0.0.1: no redirect to https (as behind a plain-HTTP proxy).
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }


def _collect_static(env) -> None:
    # With DEBUG off, {% static %} reads whitenoise's manifest: without it pages fail.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def child() -> None:
    """Ready the database, choose the pages and the rare word, time the baseline."""
    use_bench_database()
    from django.db.models import Count, Q

    from papers import search
    from papers.models import Paper, PaperTag, RelatedPaper, Tag

    indexed = search.index_papers()
    if indexed:
        note(f"  indexed {indexed} papers for search")
    _refresh_related()

    rows = list(Paper.objects.values_list("id", "title", "abstract", "author_names"))
    rare_word = _rare_word(rows, lambda word: Paper.objects.search(word).count())
    corpus = [
        {
            "id": pk,
            "title": title.lower(),
            "abstract": abstract.lower(),
            "authors": " ".join(names).lower(),
        }
        for pk, title, abstract, names in rows
    ]
    del rows

    shown = PaperTag.objects.exclude(status=PaperTag.Status.REJECTED)
    tagged = Paper.objects.filter(id__in=shown.values("paper_id"))
    if RelatedPaper.objects.exists():
        tagged = tagged.filter(id__in=RelatedPaper.objects.values("paper_id"))
    paper = tagged.latest_listed().first()
    tag = (
        Tag.objects.filter(kind=Tag.Kind.TOPIC)
        .annotate(
            papers=Count("paper_tags", filter=~Q(paper_tags__status=PaperTag.Status.REJECTED))
        )
        .order_by("-papers", "slug")
        .first()
    )
    if paper is None or tag is None:
        raise SystemExit("No tagged paper in the bench database: run bench.tagging first.")
    note(
        f"  paper page: {paper.pk} ({paper.title[:60]}); tag page: {tag.slug} ({tag.papers} papers)"
    )

    timings = {}
    for name, query in {**SEARCHES, "rare_word": rare_word}.items():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            hits = search_like_arxiv_sanity_lite(corpus, query)
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = statistics.median(runs)
        ours = Paper.objects.search(query).count()
        note(f"  {query!r}: arxiv-sanity-lite finds {len(hits)} papers, ours {ours}")
    figures = {
        "papers": len(corpus),
        "paper": paper.pk,
        "tag": tag.slug,
        "rare_word": rare_word,
        "arxiv_sanity_lite_ms": timings,
    }
    print(json.dumps(figures))


def _refresh_related() -> None:
    """Related papers for the paper pages, where this checkout computes them."""
    from django.core.management import call_command, get_commands

    started = time.perf_counter()
    try:
        from papers import related
    except ImportError:
        related = None
    if related is not None and hasattr(related, "refresh"):
        related.refresh()
    elif "refresh_related" in get_commands():
        call_command("refresh_related")
    else:
        note("  no related papers in this checkout: paper pages show none")
        return
    note(f"  related papers refreshed in {time.perf_counter() - started:.1f} s")


def search_like_arxiv_sanity_lite(corpus, query: str) -> list[tuple[int, int]]:
    """arxiv-sanity-lite's search: every paper scored in Python, (score, id) best first.

    A query word counts 20 in the title, 10 in the author names and once per occurrence
    in the abstract, up to 3. The texts come lower-cased already (as the query is made),
    which spares the baseline that work on every search.
    """
    words = query.lower().split()
    scored = []
    for paper in corpus:
        title, authors, abstract = paper["title"], paper["authors"], paper["abstract"]
        score = 0
        for word in words:
            score += 20 * (word in title) + 10 * (word in authors) + min(abstract.count(word), 3)
        if score > 0:
            scored.append((score, paper["id"]))
    scored.sort(key=lambda hit: hit[0], reverse=True)
    return scored


# A lower-case word of 9+ letters standing on its own: not part of a web address, an
# e-mail, a file name or a hyphenated or CamelCase name.
_PLAIN_WORD = re.compile(r"(?<![\w./@-])[a-z]{9,}(?![\w/@-]|\.\w)")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]{8,}\b")


def _rare_word(rows, count_found) -> str:
    """A real word found by our search in 1 to 5 papers, the same on every run.

    A word written in exactly three papers, always in lower case: three authors spelling
    it alike makes it a word rather than a typo, and never capitalised keeps out names.
    The first such word in alphabetical order whose search (stemmed, so wider) still
    finds 1 to 5 papers.
    """
    in_papers = Counter()
    capitalised = set()
    for _, title, abstract, _ in rows:
        text = f"{title} {abstract}"
        in_papers.update(set(_PLAIN_WORD.findall(text)))
        capitalised.update(word.lower() for word in _CAPITALISED.findall(text))
    for word in sorted(word for word, count in in_papers.items() if count == 3):
        if word in capitalised:
            continue
        found = count_found(word)
        if 1 <= found <= 5:
            note(f"  rare word: {word!r} (in 3 papers' text, found by search in {found})")
            return word
    raise SystemExit("No word of the corpus is in only 1 to 5 papers: is the corpus loaded?")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main()
