from django.core.management.base import BaseCommand

from papers import related


class Command(BaseCommand):
    help = (
        "Choose the related papers of the papers that lack a current choice "
        "(new papers, and papers whose text changed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            dest="everything",
            action="store_true",
            help="Choose again for every paper, as the nightly refresh does.",
        )

    def handle(self, *, everything, **options):
        done = related.refresh_all() if everything else related.refresh()
        self.stdout.write(f"chose the related papers of {done} papers")
