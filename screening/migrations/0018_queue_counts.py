"""Counts of the screenings sent for review by status, verdict, re-scored verdict and last decision, kept by the
database itself as the status counts are (0004, whose notes hold here too): triggers on screening_screening add to
or take from screening_queuecount on every insert, delete and change of those columns, whoever makes it; a TRUNCATE
empties the counts; results nobody sent (‘scored’) are not counted. A screening's empty values (NULL: none yet) are
counted under "", which a unique key holds once on both databases.

On SQLite a later migration that rebuilds screening_screening drops these triggers with the old table, as it drops
the status counts' (see 0008): such a migration must create both sets again.
"""

from django.db import migrations, models
from django.db.utils import NotSupportedError

KEY = "status, primary_verdict, rescored_verdict, last_decision"
ROW = ("{0}status AS status, coalesce({0}primary_verdict, '') AS primary_verdict, "
       "coalesce({0}rescored_verdict, '') AS rescored_verdict, coalesce({0}last_decision, '') AS last_decision")
# The counts change by the rows a statement added (+1 each) and removed (-1 each), 'scored' left out, each key once
# and in one order (the rows it locks); a count is taken from only if it is there.
UPSERT = f"""INSERT INTO screening_queuecount AS c ({KEY}, screenings)
    SELECT {KEY}, sum(change) FROM ({{changes}}) AS changes WHERE status <> 'scored' GROUP BY {KEY}
    HAVING sum(change) > 0 OR (sum(change) < 0 AND ({KEY}) IN (SELECT {KEY} FROM screening_queuecount))
    ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET screenings = c.screenings + excluded.screenings;"""
ADDED = f"SELECT {ROW.format('')}, 1 AS change FROM added"
REMOVED = f"SELECT {ROW.format('')}, -1 AS change FROM removed"

POSTGRESQL = [f"""
    CREATE FUNCTION screening_queuecount_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {UPSERT.format(changes=ADDED)}
        ELSIF TG_OP = 'DELETE' THEN {UPSERT.format(changes=REMOVED)}
        ELSIF TG_OP = 'TRUNCATE' THEN DELETE FROM screening_queuecount;
        ELSE {UPSERT.format(changes=f"{ADDED} UNION ALL {REMOVED}")}
        END IF;
        RETURN NULL;
    END $$""", *(
    f"""CREATE TRIGGER screening_queuecount_{event.lower()} AFTER {event} ON screening_screening
        REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION screening_queuecount_apply()"""
    for event, tables in [("INSERT", "NEW TABLE AS added"), ("DELETE", "OLD TABLE AS removed"),
                          ("UPDATE", "NEW TABLE AS added OLD TABLE AS removed")]),
    """CREATE TRIGGER screening_queuecount_truncate AFTER TRUNCATE ON screening_screening
        FOR EACH STATEMENT EXECUTE FUNCTION screening_queuecount_apply()"""]

# One row at a time: a row added counts in (the WHERE also keeps SQLite from reading ON as a join); a row removed
# is taken from its count only if the count is there.
SQLITE_ADD = f"""INSERT INTO screening_queuecount ({KEY}, screenings) SELECT {ROW.format('NEW.')}, 1
    WHERE NEW.status <> 'scored' ON CONFLICT ({KEY}) DO UPDATE SET screenings = screenings + 1;"""
SQLITE_TAKE = """UPDATE screening_queuecount SET screenings = screenings - 1 WHERE status = OLD.status
    AND primary_verdict = coalesce(OLD.primary_verdict, '') AND rescored_verdict = coalesce(OLD.rescored_verdict, '')
    AND last_decision = coalesce(OLD.last_decision, '');"""
SQLITE = [
    f"""CREATE TRIGGER screening_queuecount_insert AFTER INSERT ON screening_screening
        BEGIN {SQLITE_ADD} END""",
    f"""CREATE TRIGGER screening_queuecount_delete AFTER DELETE ON screening_screening
        BEGIN {SQLITE_TAKE} END""",
    f"""CREATE TRIGGER screening_queuecount_update AFTER UPDATE OF {KEY} ON screening_screening
        WHEN OLD.status IS NOT NEW.status OR OLD.primary_verdict IS NOT NEW.primary_verdict
            OR OLD.rescored_verdict IS NOT NEW.rescored_verdict OR OLD.last_decision IS NOT NEW.last_decision
        BEGIN {SQLITE_TAKE} {SQLITE_ADD} END""",
]
TRIGGERS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
DROP = {
    "postgresql": ["DROP FUNCTION screening_queuecount_apply() CASCADE"],
    "sqlite": [f"DROP TRIGGER IF EXISTS screening_queuecount_{event}" for event in ("insert", "delete", "update")],
}
COUNT_EXISTING = f"""INSERT INTO screening_queuecount ({KEY}, screenings)
    SELECT {KEY}, count(*) FROM (SELECT {ROW.format('')} FROM screening_screening WHERE status <> 'scored') AS rows
    GROUP BY {KEY}"""


def run(statements):
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotSupportedError(f"These triggers are written for {', '.join(statements)}, not {vendor}.")
        for statement in statements[vendor]:
            schema_editor.execute(statement, params=None)
    return forwards


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0017_criteriaset_kind_short_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[
                    ('scored', 'Result shown, not submitted'), ('submitted', 'Submitted'), ('in_review', 'In review'),
                    ('reviewed', 'Reviewed'), ('withdrawn', 'Withdrawn')], max_length=12)),
                ('primary_verdict', models.CharField(blank=True, max_length=10)),
                ('rescored_verdict', models.CharField(blank=True, max_length=10)),
                ('last_decision', models.CharField(blank=True, max_length=20)),
                ('screenings', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(
                    fields=('status', 'primary_verdict', 'rescored_verdict', 'last_decision'), name='queue_count_key')],
            },
        ),
        migrations.RunPython(run({vendor: [*triggers, COUNT_EXISTING] for vendor, triggers in TRIGGERS.items()}),
                             run(DROP)),
    ]
