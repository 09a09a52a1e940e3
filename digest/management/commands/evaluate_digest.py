import json
import time
from argparse import ArgumentTypeError
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest import evaluation


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ArgumentTypeError(f"{text} is too small: use 1 or more")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a number like 0.05") from None
    if not 0 < value <= 1:
        raise ArgumentTypeError(f"{text} is not a share: use more than 0 and at most 1")
    return value


class Command(BaseCommand):
    help = (
        "Measure how relevant digests are with readers simulated from an arXiv snapshot, "
        "next to arxiv-sanity-lite's method and a random choice: one JSON line per method."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "corpus",
            type=Path,
            metavar="CORPUS",
            help="arXiv JSON Lines snapshot (.jsonl or .jsonl.gz) with listing dates",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=evaluation.SEED,
            help="chooses the saved papers, the --limit sample and the random method "
            "(default %(default)s)",
        )
        parser.add_argument(
            "--limit",
            type=_positive,
            metavar="N",
            help="measure a random sample of N simulated readers (quick runs)",
        )
        parser.add_argument(
            "--min-interest-papers",
            type=_positive,
            default=evaluation.MIN_INTEREST_PAPERS,
            metavar="N",
            help="an interest needs this many papers in the corpus (default %(default)s)",
        )
        parser.add_argument(
            "--max-interest-share",
            type=_share,
            default=evaluation.MAX_INTEREST_SHARE,
            metavar="SHARE",
            help="and at most this share of the corpus (default %(default)s)",
        )
        parser.add_argument(
            "--min-relevant",
            type=_positive,
            default=evaluation.MIN_RELEVANT,
            metavar="N",
            help="a reader needs this many relevant candidates (default %(default)s)",
        )
        parser.add_argument(
            "--cut",
            dest="cuts",
            action="append",
            type=_share,
            metavar="SHARE",
            help="cut at this share of the corpus's listing days (repeatable; default "
            f"{', '.join(map(str, evaluation.CUTS))}): tune on other cuts than the reported ones",
        )
        parser.add_argument(
            "--method",
            dest="methods",
            action="append",
            choices=evaluation.ALL_METHODS,
            help="measure only this method (repeatable; default: "
            f"{', '.join(evaluation.METHODS)}); ceiling: an SVM told each reader's interest "
            "and trained on every labelled paper before the cut, how far text alone can go",
        )

    def handle(self, *, corpus, seed, limit, methods, cuts, **options):
        cuts = tuple(cuts or evaluation.CUTS)
        started = time.perf_counter()
        try:
            data = corpus.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {corpus}: {exc.strerror}") from None
        try:
            papers = evaluation.read_papers(data, name=str(corpus))
            readers = evaluation.simulate_readers(
                papers,
                seed=seed,
                min_papers=options["min_interest_papers"],
                max_share=options["max_interest_share"],
                min_relevant=options["min_relevant"],
                limit=limit,
                cuts=cuts,
            )
            if options["verbosity"] >= 1:
                days = ", ".join(str(day) for day in evaluation.cut_days(papers, cuts=cuts))
                self.stderr.write(
                    f"{len(papers)} papers, cuts at {days}: {len(readers)} simulated readers"
                )
            for row in evaluation.evaluate(
                papers, readers, methods=dict.fromkeys(methods or evaluation.METHODS), seed=seed
            ):
                self.stdout.write(json.dumps(row, ensure_ascii=False))
                self.stdout.flush()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] >= 1:
            self.stderr.write(f"done in {time.perf_counter() - started:.0f} s")
