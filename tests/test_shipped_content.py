"""A new release's shipped content (fixtures/*.json) reaching a database that already has an older one: what nobody
edited takes the shipped value, what an admin edited or deleted stays as they left it, and each change of criteria is
one new version, as neurologists are told."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from screening.management.commands import load_shipped_content
from screening.models import CriteriaSet, Criterion, Note, ReferenceCase

from .test_admin import (FLIPPING_CASE, NEW_NOTE, admin, article, assert_saved, edss_threshold,  # noqa: F401
                         form_data, save, save_anyway, set_page, superuser, table_rows, url, with_criterion)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def shipped(model, code, criteria_set="article"):
    """A row's fields as the fixtures ship them, read from the files (a criterion's in ``criteria_set``)."""
    rows = [row["fields"] for path in sorted(FIXTURES.glob("*.json")) for row in json.loads(path.read_text())
            if row["model"] == f"screening.{model}" and row["fields"]["code"] == code
            and row["fields"].get("criteria_set", [criteria_set]) == [criteria_set]]
    assert len(rows) == 1, (model, code)
    return rows[0]


def test_no_shipped_note_has_a_paragraph_too_long_to_read_tired():
    """A block of 150 words is hard going with fatigue or blurred vision: each shipped note is in short paragraphs
    (a blank line between them), none longer than about 80 words."""
    notes = [row["fields"] for path in sorted(FIXTURES.glob("*.json")) for row in json.loads(path.read_text())
             if row["model"] == "screening.note"]
    too_long = {note["code"]: words for note in notes for paragraph in note["body"].split("\n\n")
                if (words := len(paragraph.split())) > 80}
    assert notes and not too_long, too_long


def load(*args):
    out = io.StringIO()
    call_command("load_shipped_content", *args, stdout=out)
    return " ".join(out.getvalue().split())


def test_a_new_release_corrects_what_nobody_edited_and_moves_the_criteria_version_once(shipped_criteria):
    """As an older release left it (rows written by loading leave no history): a note's figure since corrected, two
    of the Article set's criteria since re-sourced, and a note that release did not have."""
    Note.objects.filter(code="treatment-related-mortality").update(body="Older pooled figure: about 2 in 100.")
    Criterion.objects.filter(criteria_set__code="article", code__in=["edss_below_6", "relapsing_remitting"]).update(
        source="An older source")
    Note.objects.filter(code="unlikely-other-options").delete()
    Note.history.filter(code="unlikely-other-options").delete()  # never there: no row, and no history of one
    version = CriteriaSet.objects.get(code="article").version

    assert load() == "Shipped content: 1 added, 3 updated, 0 left as edited in the admin."
    mortality = Note.objects.get(code="treatment-related-mortality")
    assert mortality.body == shipped("note", "treatment-related-mortality")["body"]
    assert mortality.history.latest().history_change_reason == "Shipped update"
    assert Note.objects.get(code="unlikely-other-options").title == shipped("note", "unlikely-other-options")["title"]
    for code in ("edss_below_6", "relapsing_remitting"):
        criterion = Criterion.objects.get(criteria_set__code="article", code=code)
        assert criterion.source == shipped("criterion", code)["source"]
    # one new version for the two criteria: results scored before are marked as scored under older criteria
    assert CriteriaSet.objects.get(code="article").version == version + 1
    assert CriteriaSet.objects.get(code="ebmt-2020").version == 1
    assert load() == "Shipped content: 0 added, 0 updated, 0 left as edited in the admin."  # up to date now
    assert CriteriaSet.objects.get(code="article").version == version + 1


def test_loading_again_changes_nothing_and_moves_no_version(shipped_criteria):
    """``make run`` loads on every start: a release with nothing new must not tell neurologists that every result
    was scored under older criteria, nor fill the histories."""
    versions = dict(CriteriaSet.objects.values_list("code", "version"))
    entries = Criterion.history.count() + Note.history.count() + CriteriaSet.history.count()
    assert load() == "Shipped content: 0 added, 0 updated, 0 left as edited in the admin."
    assert dict(CriteriaSet.objects.values_list("code", "version")) == versions
    assert Criterion.history.count() + Note.history.count() + CriteriaSet.history.count() == entries


def as_an_older_release_shipped(model, code, **older):
    """The value the database last took from shipped content (its history entry written by no one), made older:
    this release then changed it."""
    assert model.history.filter(code=code, history_user__isnull=True).update(**older)


def test_what_an_admin_edited_or_deleted_is_left_as_they_left_it_and_named_when_a_release_changes_it(
        shipped_criteria, admin):
    """Their wording of a note, and a note they took out, survive the next releases. A release that changed them is
    said, so that they can compare; one that did not is not (a list repeated on every start would hide what is
    new). ``--force`` takes the shipped ones instead."""
    fertility = Note.objects.get(code="fertility")
    change = url("note_change", fertility.pk)
    assert_saved(save(admin, change, {**form_data(admin.get(change)), "title": "Having children after HSCT"}))
    cost = Note.objects.get(code="cost-russia")
    assert admin.post(url("note_delete", cost.pk), {"post": "yes"}).status_code == 302
    assert load() == "Shipped content: 0 added, 0 updated, 0 left as edited in the admin."

    as_an_older_release_shipped(Note, "fertility", title="Fertility")
    as_an_older_release_shipped(Note, "cost-russia", body="Older prices.")
    output = load()
    assert output.startswith("Shipped content: 0 added, 0 updated, 2 left as edited in the admin.")
    assert "note “fertility”" in output and "note “cost-russia”" in output and "--force" in output
    assert Note.objects.get(code="fertility").title == "Having children after HSCT"
    assert not Note.objects.filter(code="cost-russia").exists()

    assert load("--force") == "Shipped content: 1 added, 1 updated, 0 left as edited in the admin."
    assert Note.objects.get(code="fertility").title == shipped("note", "fertility")["title"]
    assert Note.objects.filter(code="cost-russia").exists()


def test_a_set_deleted_or_made_primary_in_the_admin_stays_so(shipped_criteria, admin):
    """Which set is primary is the admins' choice (the admin keeps one primary, and audits it), and a set they
    deleted stays deleted, its criteria too: neither stops the next load."""
    ebmt, starms = CriteriaSet.objects.get(code="ebmt-2020"), CriteriaSet.objects.get(code="starms")
    response = admin.post(url("criteriaset_changelist"), {
        "action": "make_primary", "_selected_action": [ebmt.pk], "index": "0"}, follow=True)
    assert response.status_code == 200
    assert admin.post(url("criteriaset_delete", starms.pk), {"post": "yes"}).status_code == 302
    assert load() == "Shipped content: 0 added, 0 updated, 0 left as edited in the admin."
    assert CriteriaSet.objects.get(is_primary=True).code == "ebmt-2020"
    assert not CriteriaSet.objects.filter(code="starms").exists()
    assert not Criterion.objects.filter(criteria_set__code="starms").exists()


def test_a_criterion_edited_in_the_admin_does_not_hold_back_corrections_to_its_set(shipped_criteria, admin):
    """Editing a criterion moves its set's version (an entry in the set's history, by the admin): that is not an
    edit of the set's own words, which a release still corrects. The criterion itself is kept as they left it."""
    CriteriaSet.objects.filter(code="article").update(description="An older description.")
    as_an_older_release_shipped(CriteriaSet, "article", description="An older description.")
    edss = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    change = url("criterion_change", edss.pk)
    assert_saved(save(admin, change, {**form_data(admin.get(change)), "label": "EDSS under 6"}))
    version = CriteriaSet.objects.get(code="article").version

    assert load() == "Shipped content: 0 added, 1 updated, 0 left as edited in the admin."
    article = CriteriaSet.objects.get(code="article")
    assert article.description == shipped("criteriaset", "article")["description"]
    assert article.version == version  # its own words are not its criteria
    assert Criterion.objects.get(pk=edss.pk).label == "EDSS under 6"


def test_a_set_new_in_a_release_comes_with_its_criteria_at_its_shipped_version(shipped_criteria):
    CriteriaSet.objects.filter(code="starms").delete()  # as a release before it left the database: no trace
    for model in (CriteriaSet, Criterion):
        model.history.all().delete()
    call_command("populate_history", auto=True, verbosity=0)
    shipped_count = sum(1 for path in FIXTURES.glob("*.json") for row in json.loads(path.read_text())
                        if row["model"] == "screening.criterion" and row["fields"]["criteria_set"] == ["starms"])

    assert load() == f"Shipped content: {1 + shipped_count} added, 0 updated, 0 left as edited in the admin."
    starms = CriteriaSet.objects.get(code="starms")
    assert starms.version == shipped("criteriaset", "starms")["version"]
    assert starms.criteria.count() == shipped_count


def an_earlier_releases(model, **fields):
    """A row as an earlier release's load left it: saved through the model by no one."""
    return model.objects.create(**fields)


def test_what_a_release_no_longer_ships_is_left_as_it_is_and_named_with_how_to_take_it_out(shipped_criteria, admin):
    """An earlier release's rows that this one dropped (removed, or renamed: a new code) stay as they are and in use;
    the deployer is told which, and how to take them out (the admin) or carry a rename over (a data migration). One
    an admin edited came from a release all the same; one they made is theirs, and one out of use needs nothing."""
    article_set = article()
    an_earlier_releases(Criterion, criteria_set=article_set, code="edss_below_5", label="EDSS below 5.0",
                        fact="edss", operator="lt", value=5.0, explanation="Older.", source="Older", order=99)
    retired = an_earlier_releases(CriteriaSet, code="retired-trial", name="A retired trial", citation="Older")
    an_earlier_releases(Criterion, criteria_set=retired, code="age_under_50", label="Younger than 50", fact="age",
                        operator="lt", value=50, explanation="Older.", source="Older")
    for code, active in (("older-note", True), ("older-inactive-note", False)):
        an_earlier_releases(Note, code=code, kind="general", title="Older", body="Older.", source="Older",
                            active=active)
    case = ReferenceCase.objects.get(code=FLIPPING_CASE)
    an_earlier_releases(ReferenceCase, code="older-case", name="Older", answers=case.answers,
                        scored_on=case.scored_on, expected={})
    older_note = Note.objects.get(code="older-note")
    change = url("note_change", older_note.pk)
    assert_saved(save(admin, change, {**form_data(admin.get(change)), "title": "Older, reworded"}))
    assert_saved(admin.post(url("note_add"), {**form_data(admin.get(url("note_add"))), **NEW_NOTE}, follow=True))
    versions = dict(CriteriaSet.objects.values_list("code", "version"))
    entries = Criterion.history.count() + Note.history.count() + CriteriaSet.history.count()

    assert load() == (
        "Shipped content: 0 added, 0 updated, 0 left as edited in the admin. "
        "No longer shipped, left as it is and still in use: criteria set “retired-trial” (with its criteria). "
        "No longer shipped, left as it is and still in use: criterion “article / edss_below_5”. "
        "No longer shipped, left as it is and still in use: note “older-note”. "
        "No longer shipped, left as it is and still in use: reference case “older-case”. "
        "To take one out of use, deactivate or delete it in the admin. Where this release renamed one (a new code), "
        "the new one was added beside it: a rename needs a data migration that renames the stored row.")
    # nothing was changed: no row, no version, no history entry
    assert Criterion.objects.get(criteria_set=article_set, code="edss_below_5").active
    assert Criterion.objects.get(criteria_set=retired, code="age_under_50").active
    assert CriteriaSet.objects.get(code="retired-trial").active
    assert Note.objects.get(code="older-note").title == "Older, reworded"
    assert ReferenceCase.objects.get(code="older-case").active
    assert dict(CriteriaSet.objects.values_list("code", "version")) == versions
    assert Criterion.history.count() + Note.history.count() + CriteriaSet.history.count() == entries

    # taken out of use in the admin: dealt with, and no longer named
    data = {name: value for name, value in form_data(admin.get(change)).items() if name != "active"}
    assert_saved(save(admin, change, data))
    assert "older-note" not in load()


def test_a_reference_case_a_release_updated_that_now_fails_is_named_with_the_admin_edits_kept_in_its_set(
        shipped_criteria, admin):
    """The case takes this release's answers while the criterion it tests stays as an admin left it: the admin's
    reference check then says that it fails. The deployer is told which case, under which set, and which edits kept
    from the admin likely explain it. Cases that failed before this load (the admin saw them on the set's page when
    they saved) are not repeated, nor is this one on the next load."""
    older = {**ReferenceCase.objects.get(code=FLIPPING_CASE).answers, "edss": 2.5}
    ReferenceCase.objects.filter(code=FLIPPING_CASE).update(answers=older)
    as_an_older_release_shipped(ReferenceCase, FLIPPING_CASE, answers=older)
    page = set_page(admin, article())
    assert_saved(save_anyway(admin, url("criteriaset_change", article().pk),  # other cases disagree at 3.0
                             with_criterion(form_data(page), "edss_below_6", **edss_threshold("3.0"))))
    assert table_rows(set_page(admin, article()), "reference-cases")[FLIPPING_CASE]["agrees"] == "yes"  # EDSS 2.5

    assert load() == (
        "Shipped content: 0 added, 1 updated, 0 left as edited in the admin. "
        f"Reference case “{FLIPPING_CASE}” now fails the admin's check: “unlikely” under criteria set “article”, "
        "where “likely” is expected. Likely why, kept as edited in the admin: criterion “article / edss_below_6”.")
    assert ReferenceCase.objects.get(code=FLIPPING_CASE).answers == shipped("referencecase", FLIPPING_CASE)["answers"]
    assert Criterion.objects.get(criteria_set__code="article", code="edss_below_6").value == 3.0
    assert table_rows(set_page(admin, article()), "reference-cases")[FLIPPING_CASE]["agrees"] == "no"
    assert load() == "Shipped content: 0 added, 0 updated, 0 left as edited in the admin."


def verdict(verdict_now, expected):
    return {"verdict": verdict_now, "expected": expected, "agrees": expected in (None, verdict_now)}


@pytest.mark.parametrize("before, after, named", [
    ({}, {}, []),
    ({}, {"case": {"article": verdict("likely", "likely")}}, []),  # agrees
    ({}, {"case": {"article": verdict("unlikely", "likely")}}, [("case", "article")]),  # a case new in the release
    ({"case": {"article": verdict("likely", "likely")}}, {"case": {"article": verdict("unlikely", "likely")}},
     [("case", "article")]),  # agreed before the load
    ({"case": {"article": verdict("unlikely", "likely")}}, {"case": {"article": verdict("unlikely", "likely")}},
     []),  # failed as it did before: seen on the set's page already
    ({"case": {"article": verdict("unlikely", "likely")}}, {"case": {"article": verdict("possible", "likely")}},
     [("case", "article")]),  # fails otherwise than before
    ({"case": {"article": verdict("unlikely", "likely")}}, {"case": {"article": verdict("unlikely", "possible")}},
     [("case", "article")]),  # the release changed what it expects
    ({}, {"case": {"article": verdict("unlikely", "likely"), "mist": verdict("likely", None)}},
     [("case", "article")]),  # no expectation for a set agrees with anything
])
def test_a_reference_case_is_named_where_it_fails_and_did_not_fail_so_before(before, after, named):
    assert load_shipped_content.newly_failing(before, after) == named
