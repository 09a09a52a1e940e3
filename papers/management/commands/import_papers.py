import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers import importing, sources


class Command(BaseCommand):
    help = "Import papers from files; the format is recognised from the content."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--format", choices=sorted(sources.FORMATS), help="Read every file as this format."
        )

    def handle(self, *, paths, format, verbosity, **options):
        # Every file is read and recognised before anything is written.
        inputs = [(path, *self._open(path, format)) for path in paths]
        for path, module, records in inputs:
            run = importing.start_run(source=module.FORMAT, params={"path": str(path)})
            with tqdm(
                desc=path.name, unit=" records", disable=not sys.stderr.isatty() or verbosity == 0
            ) as bar:
                importing.import_and_index(
                    records, run=run, on_batch=lambda r: bar.update(r.seen - bar.n)
                )
            for error in run.errors[:20] if verbosity else ():
                self.stderr.write(f"{path}: {error['position']}: {error['message']}")
            self.stdout.write(run.summary())

    def _open(self, path: Path, format: str | None):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            module = sources.FORMATS[format] if format else sources.detect(data)
            return module, module.parse(data)
        except sources.SourceError as exc:
            raise CommandError(f"{path}: {exc}") from None
