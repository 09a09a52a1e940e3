import datetime

from django.core.management.base import BaseCommand, CommandError

from papers import remote


def _day(text: str) -> str:
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise CommandError(f"{text!r} is not a date like 2026-11-26") from None


class Command(BaseCommand):
    help = "Fetch papers from a remote source into the corpus."

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="SOURCE")
        hf = kinds.add_parser("hf-daily", help="One day of the Hugging Face daily papers.")
        hf.add_argument("--date", help="YYYY-MM-DD (default: today)")
        arxiv = kinds.add_parser("arxiv", help="Recent papers of an arXiv category (API).")
        arxiv.add_argument("--category", required=True, help="e.g. cs.CL")
        arxiv.add_argument("--days", type=int, default=2)
        oai = kinds.add_parser("arxiv-oai", help="Harvest an arXiv OAI-PMH set.")
        oai.add_argument("--set", dest="set_spec", required=True, help="e.g. cs")
        oai.add_argument(
            "--from",
            dest="since",
            help="YYYY-MM-DD; by default the harvest resumes where the last one stopped",
        )
        oai.add_argument("--metadata-prefix", default="arXiv", choices=["arXiv", "arXivRaw"])

    def handle(self, *, kind, **options):
        if kind == "hf-daily":
            params = {
                "date": _day(options["date"])
                if options["date"]
                else datetime.date.today().isoformat()
            }
        elif kind == "arxiv":
            if options["days"] < 1:
                raise CommandError("--days must be 1 or more")
            params = {"category": options["category"], "days": options["days"]}
        else:
            params = {
                "set_spec": options["set_spec"],
                "metadata_prefix": options["metadata_prefix"],
            }
            if options["since"]:
                params["since"] = _day(options["since"])
        run = remote.perform(remote.start(kind, trigger="command", **params))
        for error in run.errors[:20]:
            self.stderr.write(f"{error['position']}: {error['message']}")
        self.stdout.write(run.summary())
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(run.message)
        if run.message:  # a note on a run that succeeded, e.g. that it stopped at a limit
            self.stdout.write(run.message)
