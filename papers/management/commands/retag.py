import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from papers.models import TaggingRun
from papers.tagging import applying


class Command(BaseCommand):
    help = "Re-tag every paper with the current rules and learned model."

    def handle(self, *, verbosity, **options):
        run = applying.start_retag(reason="retag command")
        with tqdm(unit=" papers", disable=not sys.stderr.isatty() or verbosity == 0) as bar:
            run = applying.retag(
                run, on_batch=lambda r: (setattr(bar, "total", r.total), bar.update(r.done - bar.n))
            )
        self.stdout.write(
            f"tagged {run.done} papers: {run.added} tags added, {run.removed} removed"
        )
        if run.status != TaggingRun.Status.SUCCEEDED:
            self.stderr.write(run.message)
