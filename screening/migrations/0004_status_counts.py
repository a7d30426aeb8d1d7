"""Per-status counts of screenings, kept by the database itself.

Triggers on screening_screening add to or take from screening_statuscount on every insert, change of status and
delete, whoever makes it (the app, the admin, a bulk update, a purge). Results nobody sent (status ‘scored’) are not
counted, so the patient flow never writes to that table. PostgreSQL runs the triggers once per statement (a bulk
insert of 100,000 rows changes each count once, and the counts are locked in one order, that of their status);
SQLite, which has no statement triggers, runs them once per row.
"""

from django.db import migrations, models

# The counts change by the rows a statement added (+1 each) and removed (-1 each), 'scored' left out.
UPSERT = """INSERT INTO screening_statuscount AS c (status, screenings)
    SELECT status, sum(change) FROM ({changes}) AS changes WHERE status <> 'scored'
    GROUP BY status HAVING sum(change) <> 0 ORDER BY status
    ON CONFLICT (status) DO UPDATE SET screenings = c.screenings + excluded.screenings;"""
ADDED, REMOVED = "SELECT status, 1 AS change FROM added", "SELECT status, -1 AS change FROM removed"

POSTGRESQL = [f"""
    CREATE FUNCTION screening_statuscount_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {UPSERT.format(changes=ADDED)}
        ELSIF TG_OP = 'DELETE' THEN {UPSERT.format(changes=REMOVED)}
        ELSE {UPSERT.format(changes=f"{ADDED} UNION ALL {REMOVED}")}
        END IF;
        RETURN NULL;
    END $$""", *(
    f"""CREATE TRIGGER screening_statuscount_{event.lower()} AFTER {event} ON screening_screening
        REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION screening_statuscount_apply()"""
    for event, tables in [("INSERT", "NEW TABLE AS added"), ("DELETE", "OLD TABLE AS removed"),
                          ("UPDATE", "NEW TABLE AS added OLD TABLE AS removed")])]

# One row at a time: a row's status as the single change (the WHERE also keeps SQLite from reading ON as a join).
SQLITE_ROW = """INSERT INTO screening_statuscount (status, screenings) SELECT {row}.status, {change}
    WHERE {row}.status <> 'scored' ON CONFLICT (status) DO UPDATE SET screenings = screenings + excluded.screenings;"""
SQLITE = [
    f"""CREATE TRIGGER screening_statuscount_insert AFTER INSERT ON screening_screening
        BEGIN {SQLITE_ROW.format(row="NEW", change=1)} END""",
    f"""CREATE TRIGGER screening_statuscount_delete AFTER DELETE ON screening_screening
        BEGIN {SQLITE_ROW.format(row="OLD", change=-1)} END""",
    f"""CREATE TRIGGER screening_statuscount_update AFTER UPDATE OF status ON screening_screening
        WHEN OLD.status <> NEW.status
        BEGIN {SQLITE_ROW.format(row="OLD", change=-1)} {SQLITE_ROW.format(row="NEW", change=1)} END""",
]
TRIGGERS = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
DROP = {
    "postgresql": ["DROP FUNCTION screening_statuscount_apply() CASCADE"],
    "sqlite": [f"DROP TRIGGER screening_statuscount_{event}" for event in ("insert", "delete", "update")],
}
COUNT_EXISTING = """INSERT INTO screening_statuscount (status, screenings)
    SELECT status, count(*) FROM screening_screening WHERE status <> 'scored' GROUP BY status"""


def run(statements):
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"Status counts are kept by triggers written for {', '.join(statements)}, "
                                      f"not {vendor}.")
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
                ('status', models.CharField(choices=[('scored', 'Result shown, not submitted'), ('submitted', 'Submitted'), ('in_review', 'In review'), ('reviewed', 'Reviewed'), ('withdrawn', 'Withdrawn')], max_length=12, primary_key=True, serialize=False)),
                ('screenings', models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(run({vendor: [*triggers, COUNT_EXISTING] for vendor, triggers in TRIGGERS.items()}),
                             run(DROP)),
    ]
