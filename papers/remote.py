"""Imports that read from somewhere other than a local file: remote sources, typed URLs
and uploads. Each is described by an `ImportRun` (its `params["kind"]` and arguments), so
that the command line, the admin and scheduled tasks all start one the same way and
`perform()` carries it out wherever it runs.
"""

import datetime
import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from papers import importing, sources
from papers.fetching import FetchError, fetch
from papers.models import HarvestState, ImportRun
from papers.sources import SourceError, arxiv_api, arxiv_oai, hf_daily

logger = logging.getLogger(__name__)

ARXIV_PAGE_SIZE = 100
# A fetch of recent papers stops here even if the category is busier than that.
ARXIV_MAX_PAGES = 50


def start(
    kind: str,
    *,
    trigger: str,
    started_by=None,
    upload: bytes | None = None,
    queued: bool = False,
    **params,
) -> ImportRun:
    """A new run. `queued=True` for one a worker will carry out: the worker claims it.

    A run performed right here (the command line, a scheduled task) is running from the
    start, since nothing else could take it.
    """
    source = params.get("format") or _SOURCE_OF_KIND.get(kind, kind)
    run = importing.start_run(
        source=source, params={"kind": kind, **params}, trigger=trigger, started_by=started_by
    )
    changed = []
    if queued:
        run.status = ImportRun.Status.QUEUED
        changed.append("status")
    if upload is not None:
        run.upload = upload
        changed.append("upload")
    if changed:
        run.save(update_fields=changed)
    return run


def start_requested(data: dict, *, trigger: str, started_by) -> ImportRun:
    """A queued run for what a curator asked for in the import form (papers.forms.
    ImportForm, already checked): an uploaded file or a web address."""
    params = {"format": data["format"]} if data.get("format") else {}
    if data.get("file"):
        return start(
            "upload",
            trigger=trigger,
            started_by=started_by,
            queued=True,
            upload=data["content"],
            filename=data["file"].name,
            **params,
        )
    return start(
        "url", trigger=trigger, started_by=started_by, queued=True, url=data["url"], **params
    )


def perform(run: ImportRun) -> ImportRun:
    """Carry out the run; failures end up on the run (status and message), not raised.

    Whatever a failed run wrote before it stopped is indexed and tagged all the same.
    """
    params = dict(run.params)
    kind = params.pop("kind")
    try:
        _KINDS[kind](run, **params)
    except (FetchError, SourceError) as exc:
        importing.finish_run(run, failure=str(exc))
        _after_failed_import(run)
        return run
    except Exception as exc:
        if run.status == ImportRun.Status.RUNNING:
            importing.finish_run(run, failure=f"{type(exc).__name__}: {exc}")
        _after_failed_import(run)
        raise
    importing.after_import(run)
    return run


def _after_failed_import(run: ImportRun) -> None:
    # The run's own failure is what the curator needs to see; this one is only logged.
    try:
        importing.after_import(run)
    except Exception:
        logger.exception("indexing and tagging what failed run #%s wrote failed too", run.pk)


def _import_hf_daily(run: ImportRun, *, date: str) -> None:
    fetched = fetch(
        settings.HF_DAILY_URL, params={"date": date}, min_interval=settings.HF_MIN_INTERVAL
    )
    _require_ok(fetched)
    items = hf_daily.parse(fetched.content, list_day=datetime.date.fromisoformat(date))
    importing.import_records(items, run=run)


def _import_arxiv(run: ImportRun, *, category: str, days: int) -> None:
    """The papers of one category submitted in the last `days` days, newest first."""
    cutoff = timezone.now() - timedelta(days=days)
    for page_number in range(ARXIV_MAX_PAGES):
        page = _arxiv_page(category, page_number)
        if _missing(page, page_number):
            # A known hiccup of the arXiv API: a page in the middle of a listing comes
            # back empty, and asking again usually brings its entries.
            page = _arxiv_page(category, page_number)
            if _missing(page, page_number):
                imported = run.created + run.updated + run.unchanged
                raise FetchError(
                    f"arXiv twice sent page {page_number + 1} of cat:{category} without "
                    f"papers although it counts {page.total:,}; the {imported:,} papers "
                    "before it were imported. Fetch again later for the rest."
                )
        recent = [item for item in page.items if not _older(item, cutoff)]
        importing.import_batch(recent, run=run)
        if len(recent) < len(page.items) or not page.items:
            break
        if page.total is not None and (page_number + 1) * ARXIV_PAGE_SIZE >= page.total:
            break
    else:
        importing.finish_run(run)
        # finish_run() empties the message; a run that stopped short says so.
        run.message = (
            f"stopped after {ARXIV_MAX_PAGES} pages ({run.seen:,} papers); the category "
            "has more in the period asked for"
        )
        run.save(update_fields=["message"])
        return
    importing.finish_run(run)


def _arxiv_page(category: str, page_number: int):
    fetched = fetch(
        settings.ARXIV_API_URL,
        params={
            "search_query": f"cat:{category}",
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": page_number * ARXIV_PAGE_SIZE,
            "max_results": ARXIV_PAGE_SIZE,
        },
        min_interval=settings.ARXIV_MIN_INTERVAL,
    )
    if fetched.status_code != 400:  # arXiv explains a bad query in an Atom body
        _require_ok(fetched)
    return arxiv_api.parse_page(fetched.content)


def _missing(page, page_number: int) -> bool:
    """Whether a page came back empty although the listing goes on past its start."""
    return not page.items and page.total is not None and page.total > page_number * ARXIV_PAGE_SIZE


def _older(item, cutoff) -> bool:
    published = getattr(item, "published_at", None)
    return bool(published and published < cutoff)


def _import_arxiv_oai(
    run: ImportRun, *, set_spec: str, since: str | None = None, metadata_prefix: str = "arXiv"
) -> None:
    """Harvest a set, resuming where the last harvest of it stopped.

    The resumption token is saved after each page is written, so a harvest killed
    mid-way continues from the next page; a finished one remembers the day it reached.
    """
    state, _ = HarvestState.objects.get_or_create(key=f"arxiv-oai:{set_spec}:{metadata_prefix}")
    if since:
        state.resumption_token = ""
        since_day = datetime.date.fromisoformat(since)
    else:
        since_day = state.last_date
    while True:
        if state.resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": state.resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix, "set": set_spec}
            if since_day:
                params["from"] = since_day.isoformat()
            # The list a token walks through is the one asked for here, however many
            # days later its last page is read: records up to today are in it, no later.
            state.token_started_on = timezone.now().date()
        fetched = fetch(
            settings.ARXIV_OAI_URL, params=params, min_interval=settings.ARXIV_MIN_INTERVAL
        )
        _require_ok(fetched)
        try:
            page = arxiv_oai.parse_page(fetched.content)
        except SourceError:
            if state.resumption_token:  # expired or refused: the next run starts over
                state.resumption_token = ""
                state.save(update_fields=["resumption_token", "updated_at"])
            raise
        importing.import_batch(page.items, run=run)
        if not page.complete:  # keep the token that asked for this page: ask again next time
            raise SourceError(
                "an OAI-PMH response broke off before its end; the records read from it "
                "were imported and the next harvest asks for that page again"
            )
        state.resumption_token = page.next_token or ""
        if not page.next_token:
            # A chain begun before its first day was recorded has none: the day it
            # harvested from is a safe guess, today (as before) the only one left.
            state.last_date = state.token_started_on or state.last_date or timezone.now().date()
        state.save(
            update_fields=["resumption_token", "token_started_on", "last_date", "updated_at"]
        )
        if not page.next_token:
            break
    importing.finish_run(run)


def _import_url(run: ImportRun, *, url: str, format: str | None = None) -> None:
    fetched = fetch(url, guard=True)
    _require_ok(fetched)
    _import_bytes(run, fetched.content, format)


def _import_upload(run: ImportRun, *, filename: str = "", format: str | None = None) -> None:
    # The file is kept until the run has ended, so that a worker dying on the way does
    # not lose what the curator uploaded.
    try:
        _import_bytes(run, bytes(run.upload or b""), format)
    finally:
        run.upload = None
        run.save(update_fields=["upload"])


def _import_bytes(run: ImportRun, data: bytes, format: str | None) -> None:
    module = sources.FORMATS[format] if format else sources.detect(data)
    if run.source != module.FORMAT:
        run.source = module.FORMAT
        run.save(update_fields=["source"])
    importing.import_records(module.parse(data), run=run)


def _require_ok(fetched) -> None:
    if fetched.status_code != 200:
        raise FetchError(f"{fetched.url} answered HTTP {fetched.status_code}")


_KINDS = {
    "hf-daily": _import_hf_daily,
    "arxiv": _import_arxiv,
    "arxiv-oai": _import_arxiv_oai,
    "url": _import_url,
    "upload": _import_upload,
}
_SOURCE_OF_KIND = {"arxiv": arxiv_api.FORMAT, "hf-daily": hf_daily.FORMAT}
