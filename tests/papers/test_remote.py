"""Remote imports against a local HTTP server replaying recorded real responses."""

import datetime
import gzip
import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from papers import importing, remote
from papers.models import HarvestState, ImportRun, Paper, PaperTag
from tests.processes import ROOT, child_env

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF_DAY = FIXTURES / "hf-daily" / "samples" / "2025-12-01.json"
ARXIV = FIXTURES / "arxiv-api" / "2026"
OAI = FIXTURES / "arxiv-oai" / "arXivOAIHarvester-arXivRaw"
BIBTEX = FIXTURES / "bibtex" / "d2l.bib"


@pytest.fixture(autouse=True)
def _sources_on_the_local_server(settings, httpserver):
    settings.HF_DAILY_URL = httpserver.url_for("/api/daily_papers")
    settings.ARXIV_API_URL = httpserver.url_for("/api/query")
    settings.ARXIV_OAI_URL = httpserver.url_for("/oai")
    settings.ARXIV_MIN_INTERVAL = settings.HF_MIN_INTERVAL = 0.01
    settings.FETCH_BACKOFF = 0.01
    settings.FETCH_RETRIES = 1


def xml(path):
    return Response(path.read_bytes(), content_type="application/xml")


def test_hf_daily_day_imports_and_reimports(httpserver):
    items = json.loads(HF_DAY.read_text())
    httpserver.expect_request(
        "/api/daily_papers", query_string={"date": "2025-12-01"}
    ).respond_with_data(HF_DAY.read_bytes(), content_type="application/json")

    first = remote.perform(remote.start("hf-daily", trigger="command", date="2025-12-01"))
    second = remote.perform(remote.start("hf-daily", trigger="command", date="2025-12-01"))

    assert first.status == ImportRun.Status.SUCCEEDED, first.message
    assert (first.seen, first.created, first.failed) == (len(items), len(items), 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(items))
    paper = Paper.objects.get(arxiv_id=items[0]["paper"]["id"])
    assert paper.sources == ["hf-daily"]
    assert paper.hf_upvotes == items[0]["paper"]["upvotes"]
    assert paper.daily_date is not None
    assert paper.search_vector is not None


def test_hf_daily_outage_fails_the_run_with_a_reason(httpserver):
    httpserver.expect_request("/api/daily_papers").respond_with_data("down", status=503)

    run = remote.perform(remote.start("hf-daily", trigger="schedule", date="2025-12-01"))

    assert run.status == ImportRun.Status.FAILED
    assert "answered HTTP 503" in run.message
    assert not Paper.objects.exists()


def test_arxiv_category_pages_through_results(httpserver, monkeypatch):
    monkeypatch.setattr(remote, "ARXIV_PAGE_SIZE", 10)
    monkeypatch.setattr(remote, "ARXIV_MAX_PAGES", 2)
    httpserver.expect_ordered_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s0_m10_bc5a6c384fe9.body.xml")
    )
    httpserver.expect_ordered_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s10_m10_34e56e15aaac.body.xml")
    )

    run = remote.perform(remote.start("arxiv", trigger="command", category="cs.CL", days=36500))

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert (run.seen, run.created) == (20, 20)
    first, second = (entry[0] for entry in httpserver.log)
    assert first.args["search_query"] == "cat:cs.CL"
    assert (first.args["start"], second.args["start"]) == ("0", "10")
    assert Paper.objects.filter(sources=["arxiv-api"]).count() == 20
    # The listing counts 214,881 papers: the run succeeded, but says it stopped short.
    assert run.message == (
        "stopped after 2 pages (20 papers); the category has more in the period asked for"
    )
    run.refresh_from_db()
    assert run.message.startswith("stopped after 2 pages")


def without_entries(path):
    """A recorded page with its entries taken out: how arXiv answers when it hiccups.

    The feed still counts the whole listing (opensearch:totalResults).
    """
    body = re.sub(rb"\s*<entry>.*?</entry>", b"", path.read_bytes(), flags=re.DOTALL)
    assert b"<entry>" not in body and b"<opensearch:totalResults>214881<" in body
    return Response(body, content_type="application/xml")


def test_an_empty_page_amid_a_listing_is_asked_for_again(httpserver, monkeypatch):
    monkeypatch.setattr(remote, "ARXIV_PAGE_SIZE", 10)
    monkeypatch.setattr(remote, "ARXIV_MAX_PAGES", 2)
    second = ARXIV / "q_testing_s10_m10_34e56e15aaac.body.xml"
    httpserver.expect_ordered_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s0_m10_bc5a6c384fe9.body.xml")
    )
    httpserver.expect_ordered_request("/api/query").respond_with_response(without_entries(second))
    httpserver.expect_ordered_request("/api/query").respond_with_response(xml(second))

    run = remote.perform(remote.start("arxiv", trigger="command", category="cs.CL", days=36500))

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert (run.seen, run.created) == (20, 20)
    assert [entry[0].args["start"] for entry in httpserver.log] == ["0", "10", "10"]


def test_a_page_empty_twice_fails_the_run_and_says_where(httpserver, monkeypatch):
    monkeypatch.setattr(remote, "ARXIV_PAGE_SIZE", 10)
    second = ARXIV / "q_testing_s10_m10_34e56e15aaac.body.xml"
    httpserver.expect_ordered_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s0_m10_bc5a6c384fe9.body.xml")
    )
    httpserver.expect_ordered_request("/api/query").respond_with_response(without_entries(second))
    httpserver.expect_ordered_request("/api/query").respond_with_response(without_entries(second))

    run = remote.perform(remote.start("arxiv", trigger="command", category="cs.CL", days=36500))

    assert run.status == ImportRun.Status.FAILED
    assert "page 2 of cat:cs.CL" in run.message
    assert "the 10 papers before it were imported" in run.message
    assert len(httpserver.log) == 3
    assert Paper.objects.count() == run.created == 10


def test_what_a_failed_run_wrote_is_indexed_and_tagged(httpserver, monkeypatch):
    monkeypatch.setattr(remote, "ARXIV_PAGE_SIZE", 10)
    httpserver.expect_ordered_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s0_m10_bc5a6c384fe9.body.xml")
    )
    httpserver.expect_request("/api/query").respond_with_data("down", status=503)

    run = remote.perform(remote.start("arxiv", trigger="command", category="cs.CL", days=36500))

    assert run.status == ImportRun.Status.FAILED
    assert "answered HTTP 503" in run.message
    assert run.created == 10
    assert not Paper.objects.filter(search_vector__isnull=True).exists()
    assert PaperTag.objects.values("paper").distinct().count() == 10


def test_a_failure_while_tidying_up_after_a_failure_is_logged_not_reported(
    httpserver, monkeypatch, caplog
):
    # The one fault injected into our own code: nothing real makes indexing fail on cue.
    def broken_after_import(run):
        raise RuntimeError("the search index is unavailable")

    monkeypatch.setattr(importing, "after_import", broken_after_import)
    httpserver.expect_request("/api/daily_papers").respond_with_data("down", status=503)

    run = remote.perform(remote.start("hf-daily", trigger="schedule", date="2025-12-01"))

    assert run.status == ImportRun.Status.FAILED
    assert "answered HTTP 503" in run.message  # the run's own failure, not the second one
    assert "the search index is unavailable" in caplog.text

    unexpected = remote.start("upload", trigger="admin", upload=b"x", format="no-such-format")
    with pytest.raises(KeyError, match="no-such-format"):  # the original error, unmasked
        remote.perform(unexpected)
    unexpected.refresh_from_db()
    assert unexpected.status == ImportRun.Status.FAILED


def test_arxiv_stops_at_papers_older_than_asked(httpserver, monkeypatch):
    monkeypatch.setattr(remote, "ARXIV_PAGE_SIZE", 10)
    httpserver.expect_request("/api/query").respond_with_response(
        xml(ARXIV / "q_testing_s0_m10_bc5a6c384fe9.body.xml")
    )

    run = remote.perform(remote.start("arxiv", trigger="command", category="cs.CL", days=2))

    assert run.status == ImportRun.Status.SUCCEEDED
    assert (run.seen, run.created) == (0, 0)  # all recorded papers are years old
    assert len(httpserver.log) == 1


def test_arxiv_error_entry_fails_the_run_with_arxivs_words(httpserver):
    httpserver.expect_request("/api/query").respond_with_response(
        Response((ARXIV / "id_abc_s0_m100_b79c8dcf6bc3.body.xml").read_bytes(), status=400)
    )

    run = remote.perform(remote.start("arxiv", trigger="command", category="nonsense", days=2))

    assert run.status == ImportRun.Status.FAILED
    assert "incorrect id format for abc" in run.message.lower()


def test_oai_harvest_follows_the_token_and_remembers_where_it_stopped(httpserver):
    httpserver.expect_ordered_request(
        "/oai",
        query_string={
            "verb": "ListRecords",
            "metadataPrefix": "arXivRaw",
            "set": "cs",
            "from": "2026-11-20",
        },
    ).respond_with_response(xml(OAI / "ListRecordsResponse.xml"))
    httpserver.expect_ordered_request(
        "/oai",
        query_string={
            "verb": "ListRecords",
            "resumptionToken": "726959|1001",
        },
    ).respond_with_response(xml(OAI / "ErrorResponseNoRecordsMatch.xml"))

    run = remote.perform(
        remote.start(
            "arxiv-oai",
            trigger="command",
            set_spec="cs",
            since="2026-11-20",
            metadata_prefix="arXivRaw",
        )
    )

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.created == 6
    state = HarvestState.objects.get()
    assert state.resumption_token == ""
    assert state.last_date is not None
    assert Paper.objects.filter(versions__number=2).exists()


def test_a_harvest_that_died_resumes_from_its_token(httpserver):
    httpserver.expect_ordered_request("/oai").respond_with_response(
        xml(OAI / "ListRecordsResponse.xml")
    )
    httpserver.expect_ordered_request("/oai").respond_with_data("gone", status=500)
    httpserver.expect_ordered_request("/oai").respond_with_data("gone", status=500)

    died = remote.perform(
        remote.start("arxiv-oai", trigger="schedule", set_spec="cs", metadata_prefix="arXivRaw")
    )
    assert died.status == ImportRun.Status.FAILED
    assert HarvestState.objects.get().resumption_token == "726959|1001"

    httpserver.clear()
    httpserver.expect_request(
        "/oai",
        query_string={
            "verb": "ListRecords",
            "resumptionToken": "726959|1001",
        },
    ).respond_with_response(xml(OAI / "ErrorResponseNoRecordsMatch.xml"))
    resumed = remote.perform(
        remote.start("arxiv-oai", trigger="schedule", set_spec="cs", metadata_prefix="arXivRaw")
    )

    assert resumed.status == ImportRun.Status.SUCCEEDED, resumed.message
    assert Paper.objects.count() == 6  # the first page's papers, once
    assert HarvestState.objects.get().resumption_token == ""


def test_a_resumed_harvest_remembers_the_day_its_list_was_asked_for(httpserver, settings):
    # No shared turn in Redis: it would keep times from the travelled clock.
    settings.ARXIV_MIN_INTERVAL = 0
    httpserver.expect_ordered_request("/oai").respond_with_response(
        xml(OAI / "ListRecordsResponse.xml")
    )
    httpserver.expect_ordered_request("/oai").respond_with_data("gone", status=500)
    httpserver.expect_ordered_request("/oai").respond_with_data("gone", status=500)
    first_day, resumed_day = datetime.date(2026, 11, 20), datetime.date(2026, 11, 23)

    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=UTC)):
        died = remote.perform(
            remote.start("arxiv-oai", trigger="schedule", set_spec="cs", metadata_prefix="arXivRaw")
        )
    assert died.status == ImportRun.Status.FAILED
    assert HarvestState.objects.get().token_started_on == first_day

    httpserver.clear()
    httpserver.expect_request(
        "/oai", query_string={"verb": "ListRecords", "resumptionToken": "726959|1001"}
    ).respond_with_response(xml(OAI / "ErrorResponseNoRecordsMatch.xml"))
    with time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=UTC)):
        resumed = remote.perform(
            remote.start("arxiv-oai", trigger="schedule", set_spec="cs", metadata_prefix="arXivRaw")
        )

    assert resumed.status == ImportRun.Status.SUCCEEDED, resumed.message
    state = HarvestState.objects.get()
    # Records changed on the days between were not in the list the token walked through.
    assert (state.resumption_token, state.last_date) == ("", first_day)
    assert state.last_date != resumed_day


def test_an_expired_token_is_forgotten_and_reported(httpserver):
    HarvestState.objects.create(key="arxiv-oai:cs:arXiv", resumption_token="stale|1")
    httpserver.expect_request("/oai").respond_with_response(
        xml(OAI / "ErrorResponseBadResumptionToken.xml")
    )

    run = remote.perform(remote.start("arxiv-oai", trigger="schedule", set_spec="cs"))

    assert run.status == ImportRun.Status.FAILED
    assert "badResumptionToken" in run.message
    assert HarvestState.objects.get().resumption_token == ""


def test_url_import_reads_what_the_url_serves(httpserver, settings):
    settings.IMPORT_URL_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/refs.bib").respond_with_data(BIBTEX.read_bytes())
    url = httpserver.url_for("/refs.bib").replace("localhost", "127.0.0.1")

    run = remote.perform(remote.start("url", trigger="admin", url=url))

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.source == "bibtex"
    assert run.created > 400


def test_url_import_refuses_this_machine():
    run = remote.perform(remote.start("url", trigger="admin", url="http://127.0.0.1:8000/admin/"))

    assert run.status == ImportRun.Status.FAILED
    assert "a local or private address" in run.message


def test_upload_import_reads_the_stored_bytes_once():
    run = remote.start("upload", trigger="admin", upload=BIBTEX.read_bytes(), filename="d2l.bib")

    remote.perform(run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.upload is None
    assert Paper.objects.filter(sources=["bibtex"]).count() == run.created


def test_a_failed_upload_import_lets_go_of_the_file_too():
    run = remote.start("upload", trigger="admin", upload=b"no format at all\n", filename="x.txt")

    remote.perform(run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.upload is None


PERFORM = """
import sys, django
django.setup()
from papers import importing, remote
from papers.models import ImportRun
importing.BATCH_SIZE = 200
remote.perform(ImportRun.objects.get(pk=int(sys.argv[1])))
"""


@pytest.mark.django_db(transaction=True)
def test_an_upload_survives_a_worker_killed_mid_import():
    # The real slice repeated under distinct ids: enough batches for the kill to land.
    lines = gzip.decompress((FIXTURES / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz").read_bytes())
    papers = []
    for copy in range(30):
        for number, line in enumerate(lines.decode().splitlines()):
            paper = json.loads(line)
            paper["id"] = f"98{copy:02d}.{number:05d}"
            paper["title"] = f"{paper['title']} (copy {copy})"
            papers.append(json.dumps(paper))
    upload = "\n".join(papers).encode()
    run = remote.start("upload", trigger="admin", upload=upload, filename="cs.jsonl")

    worker = subprocess.Popen(
        [sys.executable, "-c", PERFORM, str(run.pk)], cwd=ROOT, env=child_env()
    )
    try:
        deadline = time.monotonic() + 60
        while not ImportRun.objects.filter(pk=run.pk, seen__gt=0).exists():
            assert worker.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "no batch was written within 60 s"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()

    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING  # until start_run() finds it stale
    assert 0 < run.seen < len(papers)
    assert bytes(run.upload) == upload


def test_a_queued_run_is_not_taken_for_a_dead_one():
    waiting = remote.start("url", trigger="admin", queued=True, url="https://example.org/x.bib")
    dead = remote.start("hf-daily", trigger="schedule", date="2025-12-01")
    long_ago = timezone.now() - importing.STALE_AFTER - timedelta(hours=1)
    ImportRun.objects.filter(pk__in=[waiting.pk, dead.pk]).update(heartbeat_at=long_ago)

    remote.start("hf-daily", trigger="command", date="2025-12-02")

    assert ImportRun.objects.get(pk=waiting.pk).status == ImportRun.Status.QUEUED
    assert ImportRun.objects.get(pk=dead.pk).status == ImportRun.Status.INTERRUPTED


def test_fetch_papers_command(httpserver, capsys):
    httpserver.expect_request("/api/daily_papers").respond_with_data(HF_DAY.read_bytes())

    call_command("fetch_papers", "hf-daily", "--date", "2025-12-01")

    assert capsys.readouterr().out.startswith("created ")
    with pytest.raises(CommandError, match="not a date"):
        call_command("fetch_papers", "hf-daily", "--date", "yesterday")


def test_fetch_papers_command_fails_loudly(httpserver):
    httpserver.expect_request("/api/daily_papers").respond_with_data("{}", status=404)

    with pytest.raises(CommandError, match="answered HTTP 404"):
        call_command("fetch_papers", "hf-daily", "--date", "2025-12-01")


def test_a_page_that_breaks_off_is_asked_for_again(httpserver):
    whole = (OAI / "ListRecordsResponse.xml").read_bytes()
    broken = whole[: whole.index(b"</record>", len(whole) // 2) + len(b"</record>") + 40]
    httpserver.expect_request("/oai").respond_with_data(broken, content_type="application/xml")

    run = remote.perform(
        remote.start("arxiv-oai", trigger="schedule", set_spec="cs", metadata_prefix="arXivRaw")
    )

    assert run.status == ImportRun.Status.FAILED
    assert "broke off" in run.message
    assert 0 < run.created < 6  # the records before the break were kept
    state = HarvestState.objects.get()
    assert (state.resumption_token, state.last_date) == ("", None)
