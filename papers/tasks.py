"""Celery tasks: each starts or looks up an import run and hands it to `remote.perform`."""

from celery import shared_task
from django.utils import timezone

from papers import related, remote, search
from papers.models import ImportRun, TaggingRun
from papers.tagging import applying, training


@shared_task(acks_late=True)
def perform_import(run_id: int) -> None:
    """A run queued elsewhere (the admin, the API) with its parameters already stored."""
    # Claimed first: a redelivered message (a worker lost, or one that outlived the
    # broker's visibility timeout) finds the run taken and leaves it alone.
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).update(
        status=ImportRun.Status.RUNNING, heartbeat_at=timezone.now()
    )
    if claimed != 1:
        return
    remote.perform(ImportRun.objects.get(pk=run_id))


@shared_task(acks_late=True)
def fetch_hf_daily(day: str | None = None) -> int:
    day = day or timezone.now().date().isoformat()
    return remote.perform(remote.start("hf-daily", trigger="schedule", date=day)).pk


@shared_task(acks_late=True)
def fetch_arxiv(categories: list[str], days: int = 2) -> list[int]:
    return [
        remote.perform(remote.start("arxiv", trigger="schedule", category=c, days=days)).pk
        for c in categories
    ]


@shared_task(acks_late=True)
def harvest_arxiv_oai(set_spec: str = "cs", metadata_prefix: str = "arXiv") -> int:
    run = remote.start(
        "arxiv-oai", trigger="schedule", set_spec=set_spec, metadata_prefix=metadata_prefix
    )
    return remote.perform(run).pk


@shared_task
def index_search() -> int:
    """Catch up on papers whose search vector is missing (e.g. after an interrupted run)."""
    return search.index_papers()


@shared_task(acks_late=True)
def retag_papers(run_id: int) -> None:
    run = TaggingRun.objects.filter(pk=run_id, status=TaggingRun.Status.RUNNING).first()
    if run is None:
        return
    applying.retag(run)


@shared_task(acks_late=True)
def retrain_tagger() -> None:
    """Retrain when the settled tags changed since the last model; then re-tag."""
    model = training.train()
    if model is not None:
        applying.retag(applying.start_retag(reason=f"{model} trained"))


@shared_task(acks_late=True)
def refresh_related(full: bool = False) -> int:
    """Choose related papers for the papers that lack a current choice, or (`full`, the
    nightly run) for every paper, so that older papers find the newer ones."""
    return related.refresh(stale_only=not full)
