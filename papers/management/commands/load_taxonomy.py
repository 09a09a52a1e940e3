from django.core.management.base import BaseCommand

from papers.tagging import applying


class Command(BaseCommand):
    help = "Create the starter topic tags and their rules (tags that exist are left alone)."

    def handle(self, **options):
        created = applying.load_starter_taxonomy()
        self.stdout.write(f"created {created} topic tags")
