import json
from argparse import ArgumentTypeError
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.tagging import evaluation


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date like 2026-01-01") from None


class Command(BaseCommand):
    help = (
        "Measure the learned tagger against arxiv-sanity-lite's and paperless-ngx's methods: "
        "learn the arXiv categories of one set of papers, predict those of another, and "
        "print one JSON line of scores per method."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--train",
            type=Path,
            required=True,
            metavar="FILE",
            help="arXiv JSON Lines snapshot (.jsonl or .jsonl.gz) to learn from",
        )
        parser.add_argument(
            "--test",
            type=Path,
            metavar="FILE",
            help="snapshot to predict; without it, --train is split by date",
        )
        parser.add_argument(
            "--split-date",
            type=_day,
            metavar="YYYY-MM-DD",
            help=f"learn from papers first listed before this day, predict the later ones "
            f"(default {evaluation.SPLIT_DATE}; only without --test)",
        )
        parser.add_argument(
            "--until",
            type=_day,
            metavar="YYYY-MM-DD",
            help="predict papers first listed up to this day only (only without --test)",
        )
        parser.add_argument(
            "--min-papers",
            type=int,
            default=evaluation.MIN_PAPERS,
            metavar="N",
            help="leave out categories with fewer training papers (default %(default)s)",
        )
        parser.add_argument(
            "--method",
            dest="methods",
            action="append",
            choices=list(evaluation.METHODS),
            help="measure only this method (repeatable; default: all)",
        )

    def handle(self, *, train, test, split_date, until, min_papers, methods, **options):
        if min_papers < 1:
            raise CommandError("--min-papers must be 1 or more")
        if test and (split_date or until):
            raise CommandError(
                "--split-date and --until split a single file: leave them out with --test"
            )
        learn_from = self._read(train)
        if test:
            predict = self._read(test)
        else:
            at = split_date or evaluation.SPLIT_DATE
            learn_from, predict = evaluation.split_by_date(learn_from, at=at, until=until)
            if not learn_from or not predict:
                raise CommandError(
                    f"{train}: {len(learn_from)} papers listed before {at} and "
                    f"{len(predict)} from then on; choose a --split-date inside the file's dates"
                )
        try:
            tags = evaluation.learnable_categories(learn_from, min_papers=min_papers)
            if options["verbosity"] >= 1:
                self.stderr.write(
                    f"{len(tags)} categories with {min_papers}+ papers: learning from "
                    f"{len(learn_from)} papers, predicting {len(predict)}"
                )
            for row in evaluation.evaluate(
                learn_from, predict, min_papers=min_papers, methods=methods
            ):
                self.stdout.write(json.dumps(row))
                self.stdout.flush()
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _read(self, path: Path):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            return evaluation.read_papers(data, name=str(path))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
