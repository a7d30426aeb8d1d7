"""The audit log is append-only in the database too, not only in AuditEvent.save() and delete(): a bulk update, the
shell, a raw statement or a bug cannot rewrite or remove who saw or changed what.

The one change allowed is the one Django makes itself when a screening is deleted (a result never sent, purged):
its entries lose their link to it (on_delete=SET_NULL) and keep everything else. Both databases refuse any other
UPDATE with an integrity error. PostgreSQL, the production database, refuses DELETE as well; SQLite, the development
database, lets it through, since Django empties its tables with DELETE between tests (PostgreSQL's TRUNCATE fires no
row trigger).

On SQLite a later migration that rebuilds screening_auditevent (most changes of a field do) drops this trigger with
the old table and must create it again; the audit test fails on SQLite if it does not.
"""

from importlib import import_module

from django.db import migrations

run = import_module("screening.migrations.0004_status_counts").run

MESSAGE = "audit events are append-only"
POSTGRESQL = [f"""
    CREATE FUNCTION screening_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        unlinked screening_auditevent;
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.screening_id IS NULL THEN
            unlinked := NEW;
            unlinked.screening_id := OLD.screening_id;
            IF unlinked IS NOT DISTINCT FROM OLD THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER screening_auditevent_append_only BEFORE UPDATE OR DELETE ON screening_auditevent
        FOR EACH ROW EXECUTE FUNCTION screening_auditevent_append_only()"""]
# Every column but the link to the screening, unchanged, and the link only emptied.
UNLINKED_ONLY = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in
                             ("id", "action", "actor_id", "ip_address", "detail", "created_at"))
SQLITE = [f"""CREATE TRIGGER screening_auditevent_append_only BEFORE UPDATE ON screening_auditevent
    WHEN NOT (NEW.screening_id IS NULL AND {UNLINKED_ONLY})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""]
DROP = {
    "postgresql": ["DROP FUNCTION screening_auditevent_append_only() CASCADE"],
    "sqlite": ["DROP TRIGGER IF EXISTS screening_auditevent_append_only"],
}


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0010_screening_last_decision_rescored_verdict'),
    ]

    operations = [
        migrations.RunPython(run({"postgresql": POSTGRESQL, "sqlite": SQLITE}), run(DROP)),
    ]
