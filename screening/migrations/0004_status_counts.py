"""Per-status counts of screenings, kept by the database itself.

Triggers on screening_screening add to or take from screening_statuscount on every insert, change of status and
delete, whoever makes it (the app, the admin, a bulk update, a purge); a TRUNCATE empties the counts. Results nobody
sent (status ‘scored’) are not counted, so the patient flow never writes to that table. PostgreSQL runs the triggers
once per statement (a bulk insert of 100,000 rows changes each count once, and the counts are locked in one order,
that of their status; flush truncates both tables in one statement). SQLite, which has no statement triggers, runs
them once per row. Both only ever take from a count that is there: SQLite's flush empties the tables one after the
other, in either order, and a count emptied first must not come back negative.

On SQLite a later migration that rebuilds screening_screening (most changes of a field do) drops these triggers with
the old table: such a migration must create them again. The counts test on SQLite fails if it does not.
"""

from django.db import migrations, models
from django.db.utils import NotSupportedError

# The counts change by the rows a statement added (+1 each) and removed (-1 each), 'scored' left out; a count is
# taken from only if it is there.
UPSERT = """INSERT INTO screening_statuscount AS c (status, screenings)
    SELECT status, sum(change) FROM ({changes}) AS changes WHERE status <> 'scored' GROUP BY status
    HAVING sum(change) > 0 OR (sum(change) < 0 AND status IN (SELECT status FROM screening_statuscount))
    ORDER BY status
    ON CONFLICT (status) DO UPDATE SET screenings = c.screenings + excluded.screenings;"""
ADDED, REMOVED = "SELECT status, 1 AS change FROM added", "SELECT status, -1 AS change FROM removed"

POSTGRESQL = [f"""
    CREATE FUNCTION screening_statuscount_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {UPSERT.format(changes=ADDED)}
        ELSIF TG_OP = 'DELETE' THEN {UPSERT.format(changes=REMOVED)}
        ELSIF TG_OP = 'TRUNCATE' THEN DELETE FROM screening_statuscount;
        ELSE {UPSERT.format(changes=f"{ADDED} UNION ALL {REMOVED}")}
        END IF;
        RETURN NULL;
    END $$""", *(
    f"""CREATE TRIGGER screening_statuscount_{event.lower()} AFTER {event} ON screening_screening
        REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION screening_statuscount_apply()"""
    for event, tables in [("INSERT", "NEW TABLE AS added"), ("DELETE", "OLD TABLE AS removed"),
                          ("UPDATE", "NEW TABLE AS added OLD TABLE AS removed")]),
    """CREATE TRIGGER screening_statuscount_truncate AFTER TRUNCATE ON screening_screening
        FOR EACH STATEMENT EXECUTE FUNCTION screening_statuscount_apply()"""]

# One row at a time: a row added counts in (the WHERE also keeps SQLite from reading ON as a join); a row removed
# is taken from its count only if the count is there.
SQLITE_ADD = """INSERT INTO screening_statuscount (status, screenings) SELECT NEW.status, 1
    WHERE NEW.status <> 'scored' ON CONFLICT (status) DO UPDATE SET screenings = screenings + 1;"""
SQLITE_TAKE = "UPDATE screening_statuscount SET screenings = screenings - 1 WHERE status = OLD.status;"
SQLITE = [
    f"""CREATE TRIGGER screening_statuscount_insert AFTER INSERT ON screening_screening
        BEGIN {SQLITE_ADD} END""",
    f"""CREATE TRIGGER screening_statuscount_delete AFTER DELETE ON screening_screening
        BEGIN {SQLITE_TAKE} END""",
    f"""CREATE TRIGGER screening_statuscount_update AFTER UPDATE OF status ON screening_screening
        WHEN OLD.status <> NEW.status
        BEGIN {SQLITE_TAKE} {SQLITE_ADD} END""",
]
TRIGGERS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
DROP = {
    "postgresql": ["DROP FUNCTION screening_statuscount_apply() CASCADE"],
    "sqlite": [f"DROP TRIGGER IF EXISTS screening_statuscount_{event}" for event in ("insert", "delete", "update")],
}
COUNT_EXISTING = """INSERT INTO screening_statuscount (status, screenings)
    SELECT status, count(*) FROM screening_screening WHERE status <> 'scored' GROUP BY status"""


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
        ('screening', '0003_audit_access_code_reissued'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatusCount',
            fields=[
                ('status', models.CharField(choices=[
                    ('scored', 'Result shown, not submitted'), ('submitted', 'Submitted'), ('in_review', 'In review'),
                    ('reviewed', 'Reviewed'), ('withdrawn', 'Withdrawn')], max_length=12, primary_key=True,
                    serialize=False)),
                ('screenings', models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(run({vendor: [*triggers, COUNT_EXISTING] for vendor, triggers in TRIGGERS.items()}),
                             run(DROP)),
    ]
