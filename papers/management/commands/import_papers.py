import sys
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers import importing, sources

# Enough of a file to recognise its format.
HEAD = 64 * 1024


class Command(BaseCommand):
    help = "Import papers from files; the format is recognised from the content."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--format", choices=sorted(sources.FORMATS), help="Read every file as this format."
        )

    def handle(self, *, paths, format, verbosity, **options):
        # Every file is read and recognised before anything is written; then they are
        # imported one at a time, so only one is ever held in memory (and a JSON Lines
        # snapshot not even that: it streams).
        modules = [self._check(path, format) for path in paths]
        for path, module in zip(paths, modules, strict=True):
            run = importing.start_run(source=module.FORMAT, params={"path": str(path)})
            with (
                _records(path, module) as records,
                tqdm(
                    desc=path.name,
                    unit=" records",
                    disable=not sys.stderr.isatty() or verbosity == 0,
                ) as bar,
            ):
                importing.import_and_process(
                    records, run=run, on_batch=lambda r: bar.update(r.seen - bar.n)
                )
            for error in run.errors[:20] if verbosity else ():
                self.stderr.write(f"{path}: {error['position']}: {error['message']}")
            self.stdout.write(run.summary())

    def _check(self, path: Path, format: str | None):
        """The parser module for the file, once it has read the file's beginning."""
        try:
            with path.open("rb") as file:
                head = file.read(HEAD)
                module = sources.FORMATS[format] if format else sources.detect(head)
                if hasattr(module, "parse_file"):
                    file.seek(0)
                    module.parse_file(file)
                else:
                    module.parse(head + file.read())
            return module
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except sources.SourceError as exc:
            raise CommandError(f"{path}: {exc}") from None


@contextmanager
def _records(path: Path, module):
    with path.open("rb") as file:
        if hasattr(module, "parse_file"):
            yield module.parse_file(file)
        else:
            yield module.parse(file.read())
