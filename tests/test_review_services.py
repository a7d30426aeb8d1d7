"""The neurologist workspace's services, called directly: opening, deciding (optimistic concurrency),
re-scoring, noticing changed criteria, and the audit trail they leave."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from screening import services
from screening.models import (AuditEvent, CriteriaSet, Criterion, QueueCount, Rescore, Review, Screening,
                              StatusCount)

from .factories import answers, make_criterion, make_set

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def make_request(user=None, ip="192.0.2.1"):
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    request.user = user or get_user_model().objects.create_user("neuro", password="x-Password-1")
    return request


def make_submission(**changes):
    screening = services.screening_create(answers=answers(**changes), today=TODAY)
    services.screening_submit(screening=screening, consent_version="test-1", consent_text="Consent.")
    screening.refresh_from_db()
    return screening


def current_versions():
    return dict(CriteriaSet.objects.filter(active=True).values_list("code", "version"))


def test_opening_moves_only_a_new_submission_into_review(shipped_criteria):
    request = make_request()
    screening = make_submission()
    services.screening_open(screening=screening, request=request)
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.IN_REVIEW

    Screening.objects.filter(pk=screening.pk).update(status=Screening.Status.REVIEWED)
    screening.refresh_from_db()
    services.screening_open(screening=screening, request=request)
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.REVIEWED
    assert AuditEvent.objects.filter(action="detail_viewed", screening=screening).count() == 2


@pytest.mark.parametrize("meanwhile, status", [("opened", Screening.Status.IN_REVIEW),
                                                ("withdrawn", Screening.Status.WITHDRAWN)])
def test_opening_a_page_read_before_a_colleague_opened_it_keeps_the_colleague_as_the_one_who_did(
        shipped_criteria, meanwhile, status):
    """Two neurologists open the same new submission at once: the first one in stays named; the page of the second
    shows that, and what became of the submission, rather than its own stale copy."""
    first, second = make_request(), make_request(get_user_model().objects.create_user("other", password="x-Pass-1"))
    screening = make_submission()
    stale = Screening.objects.get(pk=screening.pk)
    if meanwhile == "opened":
        services.screening_open(screening=screening, request=first)
    else:
        services.screening_withdraw(screening=screening)
    services.screening_open(screening=stale, request=second)
    stored = Screening.objects.get(pk=screening.pk)
    assert stored.status == stale.status == status
    assert stored.opened_by == stale.opened_by == (first.user if meanwhile == "opened" else None)


def test_opening_a_submission_withdrawn_since_it_was_read_audits_no_view(shipped_criteria):
    """The page then shows nothing of the patient (render_detail reads the refreshed status): no entry says that a
    neurologist viewed their details."""
    screening = make_submission()
    stale = Screening.objects.get(pk=screening.pk)
    services.screening_withdraw(screening=screening)
    services.screening_open(screening=stale, request=make_request())
    assert stale.status == Screening.Status.WITHDRAWN
    assert not AuditEvent.objects.filter(action="detail_viewed").exists()


def test_a_decision_on_a_stale_revision_raises_and_writes_only_the_audit_entry(shipped_criteria):
    request = make_request()
    screening = make_submission()
    decision = dict(decision="refer", message="m", internal_note="", request=request)
    services.review_decide(screening=screening, revision=0, **decision)
    with pytest.raises(services.ReviewConflict):
        services.review_decide(screening=screening, revision=0, **{**decision, "decision": "not_suitable"})
    assert list(Review.objects.values_list("decision", flat=True)) == ["refer"]
    assert Screening.objects.filter(pk=screening.pk).values_list("revision", "last_decision").get() == (1, "refer")
    conflict = AuditEvent.objects.get(action="decision_conflict")
    assert (conflict.actor, conflict.screening, conflict.ip_address) == (request.user, screening, "192.0.2.1")


def test_withdrawing_erases_what_the_neurologists_wrote_and_their_re_scores(shipped_criteria):
    """The patient is told that nothing about them is kept: the messages, internal notes and re-scores (every
    criterion's outcome) go too; the bare decisions stay, without their words."""
    request = make_request()
    screening = make_submission()
    services.review_decide(screening=screening, revision=0, decision="more_info", message="Dear Anna, please send "
                           "your MRI report.", internal_note="JCV negative?", request=request)
    services.rescore_save(screening=screening, request=request)
    screening.refresh_from_db()
    assert screening.rescored_verdict == screening.primary_verdict
    services.screening_withdraw(screening=screening, request=request)
    assert list(Review.objects.filter(screening=screening).values_list("decision", "message", "internal_note")) == [
        ("more_info", "", "")]
    assert not Rescore.objects.filter(screening=screening).exists()
    assert Screening.objects.filter(pk=screening.pk).values_list("last_decision", "rescored_verdict").get() == (
        "more_info", None)


def test_withdrawing_leaves_no_re_scored_verdict_in_the_audit_log(shipped_criteria):
    """The audit log cannot be erased, and a withdrawal erases the re-scores and their verdict: a re-score's entry
    names the criteria it was scored with ("article:1 …"), never its verdict, which would stay there against the
    screening's reference after the patient was told that their result is erased."""
    request = make_request()
    screening = make_submission()
    services.rescore_save(screening=screening, request=request)
    services.screening_withdraw(screening=screening, request=request)
    (event,) = AuditEvent.objects.filter(action="rescore_saved", screening=screening)
    assert event.detail.startswith("article:")
    assert not {"likely", "possible", "unlikely"} & set(event.detail.replace(":", " ").split())


def test_no_decision_on_a_withdrawn_screening(shipped_criteria):
    screening = make_submission()
    services.screening_withdraw(screening=screening)
    screening.refresh_from_db()
    with pytest.raises(services.ReviewConflict):
        services.review_decide(screening=screening, revision=screening.revision, decision="refer", message="m",
                               internal_note="", request=make_request())
    assert not Review.objects.exists()
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.WITHDRAWN


def test_a_withdrawal_by_a_page_read_before_a_decision_erases_it_and_keeps_its_revision(shipped_criteria):
    """The patient's status page was read, then a neurologist decided, then the patient withdrew: the decision's
    words go with the rest, and the revision the decision counted is not turned back (no lost update)."""
    read_by_patient = make_submission()
    services.review_decide(screening=Screening.objects.get(pk=read_by_patient.pk), revision=0, decision="refer",
                           message="Dear Anna", internal_note="JCV?", request=make_request())
    services.screening_withdraw(screening=read_by_patient)
    stored = Screening.objects.get(pk=read_by_patient.pk)
    assert (stored.status, stored.revision, stored.answers) == (Screening.Status.WITHDRAWN, 1, {})
    assert list(Review.objects.values_list("decision", "message", "internal_note")) == [("refer", "", "")]


def test_a_withdrawal_sent_twice_at_once_is_erased_and_audited_once(shipped_criteria):
    """Two clicks at the same moment both passed the page's check: the second wrote a second "withdrawn" entry and
    moved the withdrawal's date."""
    screening = make_submission()
    services.screening_withdraw(screening=Screening.objects.get(pk=screening.pk))
    withdrawn_at = Screening.objects.get(pk=screening.pk).withdrawn_at
    services.screening_withdraw(screening=Screening.objects.get(pk=screening.pk))
    assert AuditEvent.objects.filter(action="withdrawn").count() == 1
    assert Screening.objects.get(pk=screening.pk).withdrawn_at == withdrawn_at


def test_making_a_set_primary_locks_every_set_first(shipped_criteria):
    """Two admins making two sets primary at once each turned their old primary off and their set on: on
    PostgreSQL the second broke the one-primary index (a 500). Locking every set first makes them take turns."""
    mist, request = CriteriaSet.objects.get(code="mist"), make_request()
    with CaptureQueriesContext(connection) as queries:
        services.criteria_set_make_primary(criteria_set=mist, request=request)
    first = next(q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SAVEPOINT"))
    assert first.startswith('SELECT "screening_criteriaset"') and "WHERE" not in first
    assert first.endswith("FOR UPDATE") == connection.features.has_select_for_update


def test_a_re_score_of_a_page_read_before_a_withdrawal_is_not_saved(shipped_criteria):
    """The neurologist's re-score page was open when the patient withdrew: saving it stores nothing of theirs."""
    read_by_neurologist = make_submission()
    services.screening_withdraw(screening=Screening.objects.get(pk=read_by_neurologist.pk))
    assert services.rescore_save(screening=read_by_neurologist, request=make_request()) is None
    assert not Rescore.objects.exists()
    assert Screening.objects.get(pk=read_by_neurologist.pk).rescored_verdict is None  # no verdict on an erased one
    assert not AuditEvent.objects.filter(action="rescore_saved").exists()


def test_criteria_changed_since_names_edited_added_and_retired_sets(shipped_criteria):
    screening = make_submission()
    assert services.criteria_changed_since(screening, current_versions()) == []

    criterion = Criterion.objects.filter(criteria_set__code="mist").first()
    criterion.label += " (edited)"
    criterion.save()
    assert services.criteria_changed_since(screening, current_versions()) == [
        CriteriaSet.objects.get(code="mist").name]

    make_criterion(make_set("new-trial"), code="edss_cap")
    assert "new-trial" in services.criteria_changed_since(screening, current_versions())

    CriteriaSet.objects.filter(code="beat-ms").update(active=False)
    changed = services.criteria_changed_since(screening, current_versions())
    assert CriteriaSet.objects.get(code="beat-ms").name in changed


def test_the_rescore_preview_only_reads(shipped_criteria):
    screening = make_submission(edss=3.5)
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0
    criterion.save()
    with CaptureQueriesContext(connection) as queries:
        evaluation = services.rescore_preview(screening)
    assert evaluation.headline["verdict"] == "unlikely"
    assert evaluation.today == TODAY
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert not Rescore.objects.exists()


def test_saving_a_rescore_never_touches_the_screenings_own_result(shipped_criteria):
    """Its answers, snapshot and verdict stay as scored; only the latest re-score's verdict is noted beside them,
    for the queue."""
    request = make_request()
    screening = make_submission(edss=3.5)
    before = Screening.objects.filter(pk=screening.pk).values().get()
    Criterion.objects.filter(criteria_set__code="article", code="edss_below_6").update(value=3.0)
    CriteriaSet.objects.get(code="article").bump_version()

    rescore = services.rescore_save(screening=screening, request=request)

    assert rescore.primary_verdict == "unlikely" and rescore.created_by == request.user
    after = Screening.objects.filter(pk=screening.pk).values().get()
    assert after == {**before, "rescored_verdict": "unlikely"}
    event = AuditEvent.objects.get(action="rescore_saved")
    assert (event.screening, event.actor) == (screening, request.user)
    assert event.detail == services.criteria_read(rescore.snapshot)


def counted():
    """The review queue's counts by status, as the database keeps them."""
    return dict(StatusCount.objects.exclude(screenings=0).values_list("status", "screenings"))


def actual():
    return dict(Screening.objects.exclude(status=Screening.Status.SCORED).values_list("status")
                .annotate(n=Count("*")).values_list("status", "n"))


def test_the_counts_by_status_follow_every_way_a_screening_changes(shipped_criteria):
    """The queue's counts are kept by the database: whatever changes a screening (the app, a bulk update, a bulk
    insert, a delete) changes them, and results nobody sent are never counted."""
    request = make_request()
    services.screening_create(answers=answers(), today=TODAY)
    assert counted() == {}
    first, second, third, fourth = (make_submission() for _ in range(4))
    assert counted() == {"submitted": 4}

    services.screening_open(screening=first, request=request)
    services.review_decide(screening=second, revision=second.revision, decision=Review.Decision.REFER, message="",
                           internal_note="", request=request)
    services.screening_withdraw(screening=third, request=request)
    assert counted() == {"submitted": 1, "in_review": 1, "reviewed": 1, "withdrawn": 1} == actual()

    Screening.objects.filter(pk=fourth.pk).update(status=Screening.Status.IN_REVIEW)
    Screening.objects.filter(pk=fourth.pk).update(updated_at=fourth.updated_at)  # no change of status
    Screening.objects.bulk_create(Screening(answers={}, facts={}, snapshot=[], scored_on=TODAY, reference=f"R-{i}",
                                            status=Screening.Status.REVIEWED) for i in range(3))
    assert counted() == {"in_review": 2, "reviewed": 4, "withdrawn": 1} == actual()

    Screening.objects.filter(status=Screening.Status.REVIEWED).delete()
    services.purge_stale(before=timezone.now() + timedelta(days=1))
    assert counted() == {"in_review": 2, "withdrawn": 1} == actual()


QUEUE_KEY = ("status", "primary_verdict", "rescored_verdict", "last_decision")


def queue_counted():
    """The queue's counts by status, verdict, re-scored verdict and last decision, as the database keeps them."""
    return {key[:-1]: key[-1] for key in QueueCount.objects.exclude(screenings=0).values_list(*QUEUE_KEY, "screenings")}


def queue_actual():
    rows = Screening.objects.exclude(status=Screening.Status.SCORED).values_list(*QUEUE_KEY)
    return {tuple(value or "" for value in key): n
            for *key, n in rows.annotate(n=Count("*")).values_list(*QUEUE_KEY, "n")}


def test_the_counts_by_verdict_and_decision_follow_every_way_a_screening_changes(shipped_criteria):
    """The queue's counts by status, verdict, re-scored verdict and decision are kept by the database as the status
    counts are: deciding, re-scoring, replying, withdrawing, a bulk update, insert or delete all change them; results
    nobody sent are never counted."""
    request = make_request()
    services.screening_create(answers=answers(), today=TODAY)
    assert queue_counted() == {}
    first, second, third, fourth, fifth = (make_submission() for _ in range(5))
    verdict = first.primary_verdict
    assert queue_counted() == {("submitted", verdict, "", ""): 5} == queue_actual()

    services.screening_open(screening=first, request=request)
    services.review_decide(screening=second, revision=second.revision, decision=Review.Decision.MORE_INFO, message="",
                           internal_note="", request=request)
    second.refresh_from_db()
    assert services.screening_reply(screening=second, message="The answer.")
    services.rescore_save(screening=third, request=request)
    services.screening_withdraw(screening=fourth, request=request)
    Screening.objects.filter(pk=fifth.pk).update(updated_at=fifth.updated_at)  # nothing counted changes
    assert queue_counted() == queue_actual()
    assert len(queue_counted()) == 5  # in review; replied; re-scored; withdrawn (erased); submitted

    Screening.objects.filter(pk=fifth.pk).update(status=Screening.Status.REVIEWED, last_decision="refer",
                                                 primary_verdict="unlikely", rescored_verdict="likely")
    Screening.objects.bulk_create(Screening(answers={}, facts={}, snapshot=[], scored_on=TODAY, reference=f"R-{i}",
                                            status=Screening.Status.REVIEWED, primary_verdict="possible",
                                            last_decision="not_suitable") for i in range(3))
    assert queue_counted() == queue_actual()
    assert queue_counted()[("reviewed", "possible", "", "not_suitable")] == 3

    Screening.objects.filter(status=Screening.Status.REVIEWED).delete()
    services.purge_stale(before=timezone.now() + timedelta(days=1))
    assert queue_counted() == queue_actual()
    assert ("reviewed", "unlikely", "likely", "refer") not in queue_counted()


# in one statement where the database can (the audit entries pointing at them go with them), else as SQLite must
EMPTY_SCREENINGS = {"postgresql": ["TRUNCATE screening_screening CASCADE"],
                    "sqlite": ["DELETE FROM screening_auditevent", "DELETE FROM screening_screening"]}


@pytest.mark.parametrize("emptied", ["counts, then screenings", "screenings, then counts", "screenings in one go",
                                     "the whole database (flush)"])
def test_emptied_tables_leave_no_count_behind(transactional_db, emptied):
    """However the tables are emptied (a test run's flush empties them one by one on SQLite, in either order), no
    count is left over or driven below zero, and the next submission is counted from nothing."""
    call_command("load_shipped_content", verbosity=0)
    make_submission(), make_submission()
    if emptied == "counts, then screenings":
        StatusCount.objects.all().delete()
        QueueCount.objects.all().delete()
        Screening.objects.all().delete()
    elif emptied == "screenings, then counts":
        Screening.objects.all().delete()
        StatusCount.objects.all().delete()
        QueueCount.objects.all().delete()
    elif emptied == "screenings in one go":
        with connection.cursor() as cursor:
            for statement in EMPTY_SCREENINGS[connection.vendor]:
                cursor.execute(statement)
    else:
        call_command("flush", interactive=False, inhibit_post_migrate=True)
        call_command("load_shipped_content", verbosity=0)
    assert list(StatusCount.objects.values_list("status", "screenings")) in ([], [("submitted", 0)])
    assert not QueueCount.objects.exclude(screenings=0).exists()
    assert not QueueCount.objects.filter(screenings__lt=0).exists()
    make_submission()
    assert counted() == {"submitted": 1} == actual()
    assert queue_counted() == queue_actual() and sum(queue_counted().values()) == 1


def test_an_audit_entry_without_a_request_has_no_actor_or_address(db):
    event = services.audit("withdrawn")
    assert event.actor is None and event.ip_address is None and event.created_at
