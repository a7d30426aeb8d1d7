"""``manage.py seed_screenings COUNT``: COUNT submitted screenings for load tests and demos (never in production
unless ``--allow-production``, which the benchmark's own throwaway database uses).

Each reference case is scored and submitted once through the real services; the rest are copies of those, one
minute apart, numbered on from those of earlier runs (``R-SEED-0000001``, …). On PostgreSQL the copies are made by
the server (INSERT … SELECT over generate_series), so 100,000 rows take seconds, not minutes.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from screening import services
from screening.models import ReferenceCase, Screening

PREFIX = "R-SEED-"  # and seven digits
COPY_SQL = """
INSERT INTO screening_screening (answers, facts, snapshot, scored_on, primary_verdict, status, reference,
    access_code_hash, consent_version, consent_text, contact_name, contact_details, created_at, submitted_at,
    updated_at, revision, scored_primary_set, scored_primary_version)
SELECT t.answers, t.facts, t.snapshot, t.scored_on, t.primary_verdict, %(status)s,
       %(prefix)s || lpad((%(after)s + g)::text, 7, '0'), t.access_code_hash, t.consent_version, t.consent_text,
       '', '',
       %(start)s + g * interval '1 minute', %(start)s + g * interval '1 minute', %(start)s + g * interval '1 minute', 0,
       t.scored_primary_set, t.scored_primary_version
FROM generate_series(1, %(count)s) AS g
JOIN screening_screening AS t ON t.id = (%(templates)s)[1 + g %% %(n)s]
"""


class Command(BaseCommand):
    help = "Create COUNT submitted screenings (copies of the reference cases) for load tests and demos."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--allow-production", action="store_true")

    @transaction.atomic
    def handle(self, *args, count, allow_production, **options):
        if settings.PRODUCTION and not allow_production:
            raise CommandError("Refusing to add made-up screenings to a production database.")
        today = timezone.localdate()
        templates = []
        for case in ReferenceCase.objects.filter(active=True):
            screening = services.screening_create(answers=case.answers, today=today)
            services.screening_submit(screening=screening, consent_version="seed", consent_text="Seeded for tests.")
            templates.append(screening)
        if not templates:
            raise CommandError("No reference cases: run load_shipped_content first.")
        start = timezone.now() - timedelta(minutes=count + 1)
        # the highest number given before (its seven digits sort as numbers): a run adds, it never collides
        last = Screening.objects.filter(reference__startswith=PREFIX).order_by("-reference").values_list(
            "reference", flat=True).first()
        after = int(last.removeprefix(PREFIX)) if last else 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(COPY_SQL, {"status": Screening.Status.SUBMITTED, "prefix": PREFIX, "after": after,
                                          "start": start, "count": count, "n": len(templates),
                                          "templates": [t.pk for t in templates]})
        else:
            Screening.objects.bulk_create([
                Screening(answers=t.answers, facts=t.facts, snapshot=t.snapshot, scored_on=t.scored_on,
                          primary_verdict=t.primary_verdict, status=Screening.Status.SUBMITTED,
                          reference=f"{PREFIX}{after + i:07d}", access_code_hash=t.access_code_hash,
                          submitted_at=start + timedelta(minutes=i), scored_primary_set=t.scored_primary_set,
                          scored_primary_version=t.scored_primary_version)
                for i in range(1, count + 1) for t in [templates[i % len(templates)]]
            ], batch_size=2000)
        self.stdout.write(f"Seeded {count} submitted screenings.")
