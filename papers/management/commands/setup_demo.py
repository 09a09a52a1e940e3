import secrets
from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from papers import related
from papers.models import Paper
from papers.tagging import applying

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "hf-papers-listing-language-models.txt"


class Command(BaseCommand):
    help = (
        "Prepare a development site: import the bundled demo papers when there are none, "
        "and create a staff account when there is none."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@localhost", help="The staff account's login.")

    def handle(self, *, email, **options):
        if created := applying.load_starter_taxonomy():
            self.stdout.write(f"Loaded the starter taxonomy: {created} topic tags with rules.")
        if not Paper.objects.exists():
            self.stdout.write(f"Importing the demo papers from {DEMO_FILE.name}…")
            call_command("import_papers", str(DEMO_FILE), stdout=self.stdout, stderr=self.stderr)
        if done := related.refresh():
            self.stdout.write(f"Chose the related papers of {done} papers.")

        User = get_user_model()
        if not User.objects.filter(is_staff=True).exists():
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(email=email, password=password)
            # Verified up front so the account can sign in on the site as well as the admin.
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created a staff account (shown only this once): {email} / {password}\n"
                    "Sign in at /admin/ and change the password there."
                )
            )
