from django.core.management.base import BaseCommand

from papers.tagging import training


class Command(BaseCommand):
    help = "Train the learned tagger on the settled tags (skipped when they did not change)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Train even if nothing changed.")

    def handle(self, *, force, **options):
        model = training.train(force=force)
        if model is None:
            self.stdout.write("nothing new to learn from; the active model stays")
        else:
            self.stdout.write(
                f"trained {model}: {model.metrics.get('micro_f1')} micro-F1 "
                f"on held-out papers; run `retag` to apply it"
            )
