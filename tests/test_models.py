"""Criteria sets, criteria and notes as an admin edits them: validation messages, the one primary, versions."""

import importlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from screening.models import CriteriaSet, Criterion, Note, Screening

from .factories import make_criterion, make_set

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fact, operator, value, field, fragment",
    [
        ("edss_score", "lt", 6, "fact", "no fact called"),
        ("ms_type", "lt", 6, "operator", "does not suit"),
        ("edss", "in", [6], "operator", "does not suit"),
        ("edss", "lt", "six", "value", "is a number"),
        ("edss", "between", [6, 2], "value", "reversed"),
        ("edss", "between", [2], "value", "two numbers"),
        ("ms_type", "eq", "rrsm", "value", "not a value of"),
        ("ms_type", "in", "rrms", "value", "list of values"),
        ("prior_hsct", "eq", "yes", "value", "not a value of"),
    ],
)
def test_a_criterion_that_cannot_be_evaluated_gets_a_message_on_the_right_field(fact, operator, value, field, fragment):
    criterion = Criterion(criteria_set=make_set(), code="c", label="L", fact=fact, operator=operator, value=value,
                          explanation="E", source="S")
    with pytest.raises(ValidationError) as error:
        criterion.full_clean()
    assert fragment in " ".join(error.value.message_dict[field])


def test_a_valid_criterion_passes_validation():
    Criterion(criteria_set=make_set(), code="c", label="L", fact="edss", operator="between", value=[2, 6],
              explanation="E", source="S").full_clean()


def test_a_note_condition_is_checked_like_a_criterion():
    note = Note(code="n", kind="risk", title="T", body="B", source="S", condition_fact="pregnancy",
                condition_operator="eq", condition_value="maybe")
    with pytest.raises(ValidationError) as error:
        note.full_clean()
    assert "condition_value" in error.value.message_dict


def test_note_verdicts_must_be_known_verdicts():
    note = Note(code="n", kind="risk", title="T", body="B", source="S", verdicts=["eligible"])
    with pytest.raises(ValidationError) as error:
        note.full_clean()
    assert "verdicts" in error.value.message_dict


def test_only_one_set_can_be_primary():
    make_set("first", is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_set("second", is_primary=True)


def test_a_primary_set_must_be_active():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_set("inactive-primary", is_primary=True, active=False)


def test_a_criterion_code_is_unique_within_its_set_only():
    first, second = make_set("a"), make_set("b")
    make_criterion(first)
    make_criterion(second)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_criterion(first)


def test_the_set_version_goes_up_on_every_criterion_change():
    criteria_set = make_set()
    assert criteria_set.version == 1
    criterion = make_criterion(criteria_set)
    criterion.value = 5.5
    criterion.save()
    assert CriteriaSet.objects.get().version == 3
    criterion.delete()
    assert CriteriaSet.objects.get().version == 4


def test_the_shipped_content_loads_with_exactly_one_active_primary_set(shipped_criteria):
    primary = CriteriaSet.objects.filter(active=True, is_primary=True)
    assert [s.code for s in primary] == ["article"]
    assert CriteriaSet.objects.filter(active=True).count() == 8
    assert Note.objects.filter(active=True).count() >= 12


def test_every_shipped_criterion_and_note_is_valid_and_sourced(shipped_criteria):
    for row in [*Criterion.objects.all(), *Note.objects.all(), *CriteriaSet.objects.all()]:
        row.full_clean()
        assert (getattr(row, "source", None) or row.citation).strip(), row


def test_the_mist_figures_say_out_of_how_many(shipped_criteria):
    """"3 compared with 34" means little without the size of each group (110 randomised, 55 to each arm: Burt et al.,
    JAMA 2019; clinical.md §2)."""
    (body,) = [note.body for note in Note.objects.filter(active=True) if "MIST" in note.body and "34" in note.body]
    assert "3 of the 55 people who had HSCT" in body and "34 of the 55" in body


def test_the_medicine_criterion_loaded_before_is_reworded_unless_an_admin_did(transactional_db):
    """Databases loaded with "your current medicine" (the questionnaire asks about medicines ever taken) are
    corrected by migration 0007; a label an admin wrote is left alone."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("screening", "0006_screening_opened_by")], [("screening", "0007_medicine_criterion_label")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    criteria_set = old.get_model("screening", "CriteriaSet").objects.create(code="s", name="S", citation="c")
    Criterion = old.get_model("screening", "Criterion")
    for code, label in (("shipped", "MS not already kept quiet by your current medicine"),
                        ("own", "MS not controlled by treatment (our wording)")):
        Criterion.objects.create(criteria_set=criteria_set, code=code, label=label, fact="dmt_response",
                                 operator="eq", value="stable", kind="exclusion", severity="unlikely")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    labels = dict(executor.loader.project_state(after).apps.get_model("screening", "Criterion").objects.values_list(
        "code", "label"))
    assert labels == {"shipped": "MS not already kept quiet by an MS medicine",
                      "own": "MS not controlled by treatment (our wording)"}
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


def test_submissions_decided_or_re_scored_before_migration_0010_are_found_by_their_latest(transactional_db,
                                                                                        monkeypatch):
    """The queue filters by the last decision and the latest re-score's verdict, kept on the screening since 0010:
    a database with decisions from before must not show every submission as undecided."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("screening", "0009_audit_queue_and_access")]
    after = [("screening", "0010_screening_last_decision_rescored_verdict")]
    # undone as SQLite before 3.35.5 undoes it (Django supports 3.31): by rebuilding the table, which drops the
    # status counts' triggers (0004) unless they are made again
    monkeypatch.setattr(connection.features, "can_alter_table_drop_column", False, raising=False)  # SQLite only
    executor.migrate(before)
    monkeypatch.undo()
    old = executor.loader.project_state(before).apps
    Screening, Review, Rescore = (old.get_model("screening", name) for name in ("Screening", "Review", "Rescore"))
    neurologist = old.get_model("screening", "User").objects.create(username="neuro")
    now = timezone.now()

    def screening(status):
        return Screening.objects.create(answers={}, facts={}, snapshot=[], scored_on=now.date(),
                                        primary_verdict="likely", status=status, submitted_at=now)

    decided, undecided, unsent = screening("reviewed"), screening("submitted"), screening("scored")
    counts = old.get_model("screening", "StatusCount").objects.exclude(screenings=0)
    assert dict(counts.values_list("status", "screenings")) == {"reviewed": 1, "submitted": 1}
    for minutes, decision in ((2, "refer"), (1, "more_info")):  # the later one saved first: time decides
        review = Review.objects.create(screening=decided, neurologist=neurologist, decision=decision, message="m")
        Review.objects.filter(pk=review.pk).update(created_at=now - timedelta(minutes=minutes))
    for verdict in ("possible", "unlikely"):  # at the same moment: the later id
        Rescore.objects.create(screening=decided, snapshot=[], primary_verdict=verdict, scored_on=now.date(),
                               created_by=neurologist)
    Rescore.objects.filter(screening=decided).update(created_at=now)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    rows = executor.loader.project_state(after).apps.get_model("screening", "Screening").objects
    assert dict(rows.values_list("pk", "last_decision")) == {decided.pk: "more_info", undecided.pk: None,
                                                             unsent.pk: None}
    assert dict(rows.values_list("pk", "rescored_verdict")) == {decided.pk: "unlikely", undecided.pk: None,
                                                                unsent.pk: None}
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


def test_submissions_scored_before_migration_0015_are_marked_when_their_primary_set_changed(transactional_db,
                                                                                           monkeypatch):
    """The queue marks the submissions scored under criteria changed since from the primary set and version kept on
    the screening since 0015: a database from before must not show every submission as scored under today's
    criteria. The snapshots are read, never changed."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("screening", "0014_patient_reply")], [("screening", "0015_screening_scored_primary_set")]
    # undone as SQLite before 3.35.5 undoes it, by rebuilding the table: the status counts' triggers are made again
    monkeypatch.setattr(connection.features, "can_alter_table_drop_column", False, raising=False)  # SQLite only
    executor.migrate(before)
    monkeypatch.undo()
    Screening = executor.loader.project_state(before).apps.get_model("screening", "Screening")
    now = timezone.now()
    snapshot = [{"set": "article", "primary": True, "version": 3, "verdict": "likely", "criteria": []},
                {"set": "ebmt-2020", "primary": False, "version": 7, "verdict": "possible", "criteria": []}]

    def screening(status, snapshot):
        return Screening.objects.create(answers={}, facts={}, snapshot=snapshot, scored_on=now.date(),
                                        primary_verdict="likely", status=status, submitted_at=now)

    sent, unsent = screening("submitted", snapshot), screening("scored", snapshot)
    withdrawn = screening("withdrawn", [])
    counts = executor.loader.project_state(before).apps.get_model("screening", "StatusCount").objects
    assert dict(counts.exclude(screenings=0).values_list("status", "screenings")) == {"submitted": 1, "withdrawn": 1}
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    rows = executor.loader.project_state(after).apps.get_model("screening", "Screening").objects
    assert {pk: (code, version) for pk, code, version in rows.values_list(
        "pk", "scored_primary_set", "scored_primary_version")} == {
        sent.pk: ("article", 3), unsent.pk: ("article", 3), withdrawn.pk: (None, None)}
    assert rows.get(pk=sent.pk).snapshot == snapshot
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.parametrize("engine", ["db", "cached_db"])
def test_sessions_saved_before_0019_keep_no_code_to_show_nor_a_reference_with_a_verdict(transactional_db, settings,
                                                                                       engine):
    """Sessions saved before the codes to show once waited in a signed cookie hold them in plaintext, a neurologist's
    the reference searched with the verdict or decision chosen with it: 0019 drops those, and only those, from every
    session kept in the database, expired or not, and leaves each one's other keys and expiry as they were. Kept in
    a cache too, the cached copy is dropped: the next request reads the row."""
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.core.cache import caches
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("screening", "0018_queue_counts")], [("screening", "0019_scrub_stored_sessions")]
    executor.migrate(before)
    store, now = SessionStore(), timezone.now()
    soon, gone = now + timedelta(hours=1), now - timedelta(hours=1)
    neurologist = {"_auth_user_id": "3", "_session_expiry": 900}
    sessions = {
        "sent": ({"show_codes": {"reference": "R-ABCDE-FGHJK", "access_code": "KLMNP-QRSTV"},
                  "status_screening_id": 7}, gone),  # never opened again, not cleared yet
        "saved": ({"show_resume_code": "WXYZ2-3456A"}, soon),
        "searched": ({**neurologist, "queue_query": "reference=R-ABCDE&verdict=unlikely&decision=none&page=2"}, soon),
        "filtered": ({**neurologist, "queue_query": "verdict=unlikely&decision=none&page=2"}, soon),
        "looked up": ({**neurologist, "queue_query": "reference=R-ABCDE&status=any"}, soon),
        "opened": ({"status_screening_id": 7}, soon),
    }
    for key, (data, expiry) in sessions.items():
        Session.objects.create(session_key=key, session_data=store.encode(data), expire_date=expiry)
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    cache = caches[settings.SESSION_CACHE_ALIAS]
    cache.set(KEY_PREFIX + "saved", sessions["saved"][0])
    untouched = {"filtered", "looked up", "opened"}
    encoded = dict(Session.objects.filter(session_key__in=untouched).values_list("session_key", "session_data"))
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    rows = Session.objects  # the table is django.contrib.sessions' own, unchanged since its 0001
    assert {row.session_key: (store.decode(row.session_data), row.expire_date) for row in rows.all()} == {
        "sent": ({"status_screening_id": 7}, gone),
        "saved": ({}, soon),
        "searched": ({**neurologist, "queue_query": "reference=R-ABCDE&page=2"}, soon),
        **{key: sessions[key] for key in untouched},
    }
    assert dict(rows.filter(session_key__in=untouched).values_list("session_key", "session_data")) == encoded
    assert cache.get(KEY_PREFIX + "saved") == (None if engine == "cached_db" else sessions["saved"][0])
    cache.delete(KEY_PREFIX + "saved")
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.parametrize("scored, current, older", [
    (("article", 3), {"article": 3, "ebmt-2020": 9}, False),
    (("article", 3), {"article": 4}, True),  # a criterion edited, added or removed since
    (("article", 3), {"ebmt-2020": 1}, True),  # the set is no longer scored (made inactive, or deleted)
    ((None, None), {"article": 3}, False),  # nothing scored: withdrawn
])
def test_a_screening_is_scored_under_older_criteria_when_its_primary_set_has_a_new_version(scored, current, older):
    screening = Screening(scored_primary_set=scored[0], scored_primary_version=scored[1])
    assert screening.scored_under_older_criteria(current) is older


@pytest.mark.django_db
def test_history_entries_saved_without_a_reason_before_0016_read_as_having_none():
    """The admin's history page printed a NULL reason as the word "None"; 0016 blanks them, and leaves given ones."""
    criteria_set = make_set("article")
    shipped = criteria_set.history.latest()
    shipped.history_change_reason = "Shipped update"
    shipped.save()
    criteria_set.name = "Edited"
    criteria_set.save()
    criteria_set.history.filter(history_type="~").update(history_change_reason=None)
    migration = importlib.import_module("screening.migrations.0016_history_change_reason_blank")
    migration.blank_reasons(apps, None)
    assert set(criteria_set.history.values_list("history_change_reason", flat=True)) == {"", "Shipped update"}
