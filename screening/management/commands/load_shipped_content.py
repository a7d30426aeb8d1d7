"""``manage.py load_shipped_content [--force]``: load fixtures/*.json into an empty database.

Loading writes no change history, so a baseline history record is made for every shipped row: the first admin edit
then shows its diff against the shipped value.

Without ``--force`` it leaves a database that already has criteria sets alone, so that local edits made in the
admin survive ``make run``. With ``--force`` the shipped rows are loaded again over the local ones.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from screening.models import CriteriaSet

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "Load the shipped criteria sets and notes (fixtures/*.json) unless criteria are already present."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even when criteria sets already exist.")

    def handle(self, *args, force, **options):
        if CriteriaSet.objects.exists() and not force:
            self.stdout.write("Criteria sets already present; left as they are (use --force to reload).")
            return
        call_command("loaddata", *sorted(str(p) for p in FIXTURES_DIR.glob("*.json")), verbosity=options["verbosity"])
        call_command("populate_history", auto=True, verbosity=0)
