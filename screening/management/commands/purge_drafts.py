"""``manage.py purge_drafts``: delete questionnaire drafts and unsubmitted results older than the retention period,
and expired sessions (a session's row stays in the database after it expires, until deleted here).

The period is ``DRAFT_RETENTION_DAYS`` in settings. Run it daily (cron or a scheduler).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from screening.services import purge_stale


class Command(BaseCommand):
    help = "Delete drafts and never-submitted results older than DRAFT_RETENTION_DAYS, and expired sessions."

    def handle(self, *args, **options):
        days = settings.DRAFT_RETENTION_DAYS
        drafts, results = purge_stale(before=timezone.now() - timedelta(days=days))
        call_command("clearsessions")
        self.stdout.write(f"Deleted {drafts} draft(s) and {results} unsubmitted result(s) older than {days} days, "
                          "and expired sessions.")
