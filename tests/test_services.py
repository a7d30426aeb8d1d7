"""Scoring and storing: one result per active set, immutable snapshots, a fixed number of queries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening import services
from screening.models import AuditEvent, CriteriaEdition, CriteriaSet, Criterion, Draft, Screening
from screening.presentation import favourable_text
from screening.services import NoPrimarySet, editions_for, evaluate, screening_create

from .factories import answers, make_criterion, make_set

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def test_a_stored_screening_keeps_its_verdict_when_the_criteria_change_later(shipped_criteria):
    screening = screening_create(answers=answers(edss=5.5), today=TODAY)
    assert screening.primary_verdict == "likely"
    edss = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    edss.value = 5.0
    edss.save()

    stored = Screening.objects.get(pk=screening.pk)
    assert stored.primary_verdict == "likely"
    article = stored.snapshot[0]
    assert article["set"] == "article" and article["version"] == 1
    assert next(c for c in article["criteria"] if c["code"] == "edss_below_6")["value"] == 6.0
    assert evaluate(stored.answers, TODAY).headline["verdict"] == "unlikely"
    assert CriteriaSet.objects.get(code="article").version == 2


def test_every_active_set_is_scored_with_the_primary_first(shipped_criteria):
    evaluation = evaluate(answers(), TODAY)
    codes = [r["set"] for r in evaluation.results]
    assert codes[0] == "article"
    assert sorted(codes) == sorted(CriteriaSet.objects.filter(active=True).values_list("code", flat=True))


def test_inactive_sets_and_criteria_are_not_scored(shipped_criteria):
    CriteriaSet.objects.filter(code="mist").update(active=False)
    Criterion.objects.filter(criteria_set__code="article", code="relapsing_remitting").update(active=False)
    evaluation = evaluate(answers(ms_type="spms"), TODAY)
    assert "mist" not in [r["set"] for r in evaluation.results]
    assert evaluation.headline["verdict"] == "likely"


def test_without_a_primary_set_there_is_no_headline(db):
    make_set("only-set")
    with pytest.raises(NoPrimarySet):
        evaluate(answers(), TODAY)


def test_scoring_uses_the_same_number_of_queries_whatever_the_number_of_criteria(db, django_assert_num_queries):
    for n in range(2):
        make_set(f"set-{n}", is_primary=(n == 0))
    with django_assert_num_queries(3):  # the sets, their criteria, the notes
        assert evaluate(answers(), TODAY).notes == []
    for s in CriteriaSet.objects.all():
        for i in range(25):
            make_criterion(s, code=f"c{i}", value=float(i % 10))
    with django_assert_num_queries(3):
        result = evaluate(answers(), TODAY)
        assert result.notes == []
    assert len(result.results[0]["criteria"]) == 25


def test_criteria_are_read_once_per_set_version_and_again_after_any_change(shipped_criteria,
                                                                          django_assert_num_queries):
    assert evaluate(answers(edss=5.5), TODAY).headline["verdict"] == "likely"
    with django_assert_num_queries(1):  # the sets: this version's criteria are known (notes only when asked)
        assert evaluate(answers(edss=5.5), TODAY).headline["verdict"] == "likely"
    edss = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    edss.value = 5.0
    edss.explanation = "A newer explanation."
    edss.save()
    with django_assert_num_queries(2):  # the article's new version: its criteria are read again
        evaluation = evaluate(answers(edss=5.5), TODAY)
    assert evaluation.headline["verdict"] == "unlikely"
    assert evaluation.editions[evaluation.headline["edition"]]["edss_below_6"]["explanation"] == "A newer explanation."
    edss.delete()
    evaluation = evaluate(answers(edss=5.5), TODAY)
    assert "edss_below_6" not in [c["code"] for c in evaluation.results[0]["criteria"]]
    assert evaluation.headline["verdict"] == "likely"


def test_teaching_text_is_stored_once_and_each_version_keeps_its_own(shipped_criteria, django_assert_num_queries):
    """A result shows the explanations its criteria had when it was scored, however often they are edited later."""
    first = screening_create(answers=answers(), today=TODAY)
    edss = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    edss.explanation = "A newer explanation."
    edss.save()
    second = screening_create(answers=answers(), today=TODAY)
    assert first.snapshot[0]["edition"] != second.snapshot[0]["edition"]
    assert CriteriaEdition.objects.count() == len(first.snapshot) + 1  # the article's new edition, the rest shared
    explanations = [editions_for(s.snapshot)[s.snapshot[0]["edition"]]["edss_below_6"]["explanation"]
                    for s in (first, second)]
    assert explanations[0] != "A newer explanation." and explanations[1] == "A newer explanation."


def test_teaching_text_is_read_from_the_database_once_per_process(shipped_criteria, django_assert_num_queries):
    screening = screening_create(answers=answers(), today=TODAY)
    with django_assert_num_queries(1):
        editions = editions_for(screening.snapshot)
    with django_assert_num_queries(0):
        assert editions_for(screening.snapshot) == editions
    assert set(editions) == {entry["edition"] for entry in screening.snapshot}


def test_a_second_submission_of_the_same_result_at_once_gives_no_codes_that_do_not_work(shipped_criteria):
    """A double click on "Send": both requests read the result before either wrote. The one that loses gets no codes
    (its page shows the winner's), so no patient is handed a reference that opens nothing."""
    screening = services.screening_create(answers=answers(), today=TODAY)
    stale = Screening.objects.get(pk=screening.pk)
    reference, access = services.screening_submit(screening=screening, consent_version="v", consent_text="t")
    assert services.screening_submit(screening=stale, consent_version="v", consent_text="t") is None
    assert services.screening_for_codes(reference, access).pk == screening.pk
    assert AuditEvent.objects.filter(action="submitted").count() == 1


def test_a_second_resume_code_issued_at_once_is_not_shown_and_the_first_works(db):
    draft, _token = services.draft_create()
    stale = Draft.objects.get(pk=draft.pk)
    code = services.draft_issue_resume_code(draft)
    assert services.draft_issue_resume_code(stale) is None
    assert services.draft_for_resume_code(code).pk == draft.pk


def test_drafts_are_deleted_in_one_statement_without_reading_their_answers(shipped_criteria):
    """Purged by the thousand: a result that keeps a draft's id must not make each deletion read the draft first."""
    draft, token = services.draft_create()
    screening_create(answers=answers(), today=date(2026, 11, 23), draft=draft)
    with CaptureQueriesContext(connection) as queries:
        services.draft_discard(token)
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["DELETE"]
    assert not Draft.objects.exists() and Screening.objects.get().draft_id == draft.pk  # finds no draft any more


@pytest.mark.parametrize("trial", ["mist", "beat-ms", "ram-ms"])
def test_a_medicine_ticked_is_a_medicine_taken_even_when_unsure_how_it_worked(shipped_criteria, trial):
    """"Has taken an MS medicine: not known from the answers given" beside interferon beta ticked, read as "not no MS
    medicine tried" in the criteria's own words."""
    evaluation = evaluate(answers(dmts=["interferon_beta"], activity_on_dmt="unsure"), TODAY)
    (entry,) = [entry for entry in evaluation.results if entry["set"] == trial]
    (row,) = [row for row in entry["criteria"] if row["code"] == "dmt_tried"]
    assert row["outcome"] == "favourable"
    assert favourable_text(row) == "at least one MS medicine taken"
    never = evaluate(answers(dmts=[]), TODAY)
    (entry,) = [entry for entry in never.results if entry["set"] == trial]
    assert entry["verdict"] == "unlikely"  # never treated: the trials took only people active on a medicine
