"""Which writes wait for the disk when they commit (services.unsent_work): what a patient has sent nobody yet does not
on PostgreSQL; a submission, the audit log and anything inside a transaction already open do. SQLite, the zero-set-up
default, always waits. These run outside the test's own transaction (transaction=True), as the site runs."""

import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from screening import services
from screening.models import Draft

from .factories import answers
from .test_views import RecordingClient, submit

WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.IGNORECASE)


def waits_for_disk(raw_cursor):
    """Whether a commit made now would wait for the disk, as the database itself says."""
    if connection.vendor == "postgresql":
        raw_cursor.execute("SHOW synchronous_commit")
        return raw_cursor.fetchone()[0] != "off"
    raw_cursor.execute("PRAGMA synchronous")  # SQLite: 0 is OFF; NORMAL and FULL wait (in WAL mode, at checkpoints)
    return raw_cursor.fetchone()[0] != 0


class WriteRecorder:
    """Every write as (statement, table, waits for the disk), read just before it runs, in its own transaction."""

    def __init__(self):
        self.writes = []

    def __call__(self, execute, sql, params, many, context):
        if match := WRITE.match(sql):
            self.writes.append((match[1].split()[0].upper(), match[2], waits_for_disk(context["cursor"].cursor)))
        return execute(sql, params, many, context)

    def of(self, statement, table):
        return {waits for done, written, waits in self.writes if (done, written) == (statement, table)}


UNSENT_WAITS = {"postgresql": False, "sqlite": True}  # SQLite is not relaxed: it is for a laptop, not for load


@pytest.mark.django_db(transaction=True)
def test_a_patients_unsent_answers_do_not_wait_for_the_disk_and_a_submission_does():
    call_command("load_shipped_content", verbosity=0)
    recorder = WriteRecorder()
    with connection.execute_wrapper(recorder):
        screening, reference, access = submit(RecordingClient(), answers())
    unsent = UNSENT_WAITS[connection.vendor]
    assert recorder.of("INSERT", "screening_draft") == {unsent}  # "Start the check"
    assert recorder.of("UPDATE", "screening_draft") == {unsent}  # every step's answers
    assert recorder.of("INSERT", "screening_screening") == {unsent}  # the result, not sent yet
    assert recorder.of("UPDATE", "screening_screening") == {True}  # sending it
    assert recorder.of("DELETE", "screening_draft") == {True}  # the answers now live only in the submission
    assert recorder.of("INSERT", "screening_auditevent") == {True}
    assert screening.reference == reference and not Draft.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_already_open_unsent_work_waits_like_the_rest_of_it():
    def waits_now():
        with connection.cursor() as cursor:
            return waits_for_disk(cursor.cursor)

    with services.unsent_work():
        assert waits_now() is UNSENT_WAITS[connection.vendor]
    assert waits_now()  # for that transaction alone: the next one waits again
    with transaction.atomic():
        with services.unsent_work():
            assert waits_now()  # it would otherwise reach this transaction's other writes
        assert waits_now()
