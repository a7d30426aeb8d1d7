"""Each answer set typed into the browser gives the same result page as `manage.py screen` for the same answers.

For every set: the steps asked (and skipped) follow the answers, "Step n of N" is right on every step, no radio is
preselected, the review page reads back every answer, and the result page's headline verdict, criterion outcomes,
other sets' verdicts and outcomes, and notes equal the command's.
"""

import pytest

from .answer_sets import ANSWER_SETS
from .flow import HIGH_EFFICACY, STEP_SLUGS, Patient, path_for, result_page, screen

# The first set that is asked every step: its run photographs each step for test-artifacts/screenshots/.
PHOTOGRAPHED = next(entry["name"] for entry in ANSWER_SETS if path_for(entry["answers"]) == STEP_SLUGS)


@pytest.mark.parametrize("entry", ANSWER_SETS, ids=[entry["name"] for entry in ANSWER_SETS])
def test_the_result_page_matches_the_screen_command(entry, page, site, check_accessible, shoot, tmp_path):
    answers = entry["answers"]
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    patient.fill_questionnaire(answers, shots=entry["name"] == PHOTOGRAPHED)
    patient.check_review(answers)
    patient.see_result()

    expected = screen(tmp_path, answers)
    headline, others = expected["results"][0], expected["results"][1:]
    assert headline["primary"] is True
    assert headline["verdict"] == entry["verdict"], "the answer set no longer exercises the verdict it is named for"

    shown = result_page(page)
    assert shown["verdict"] == headline["verdict"]
    assert shown["criteria"] == [[c["code"], c["outcome"]] for c in headline["criteria"]]
    assert shown["others"] == [[r["set"], r["verdict"]] for r in others]
    for result in others:
        assert shown["other_criteria"][result["set"]] == [[c["code"], c["outcome"]] for c in result["criteria"]]
    assert sorted(shown["notes"]) == sorted(note["code"] for note in expected["notes"])
    assert patient.preselected == {}, "answers ticked on a fresh step, before the person chose anything"


def test_the_answer_sets_cover_every_branch():
    """The table above is only worth something if it keeps covering every conditional branch of the questionnaire."""
    sets = [entry["answers"] for entry in ANSWER_SETS]
    assert len(sets) >= 8
    paths = [path_for(answers) for answers in sets]

    def some(condition):
        return any(condition(answers, path) for answers, path in zip(sets, paths))

    # EDSS known: both walking steps skipped.
    assert some(lambda a, p: a["edss"] is not None and "walking-aid" not in p and "walking-distance" not in p)
    # EDSS "I don't know" with every walking aid; the distance is skipped for a wheelchair only.
    for aid in ("none", "one_sided", "two_sided", "wheelchair"):
        assert some(lambda a, p: a["edss"] is None and a.get("walking_aid") == aid)
    assert some(lambda a, p: a.get("walking_aid") == "wheelchair" and "walking-distance" not in p)
    assert some(lambda a, p: a.get("walking_aid") != "wheelchair" and "walking_distance" in a)
    # DMTs: none (response step skipped), non-high-efficacy only (one question), a high-efficacy one (two).
    assert some(lambda a, p: a["dmts"] == [] and "treatment-response" not in p)
    assert some(lambda a, p: a["dmts"] and not HIGH_EFFICACY & set(a["dmts"])
                and "activity_on_high_efficacy_dmt" not in a)
    assert some(lambda a, p: HIGH_EFFICACY & set(a["dmts"]) and "activity_on_high_efficacy_dmt" in a)
    # Relapses left empty, region "rather not say", a carer, the respondent question left unanswered.
    assert some(lambda a, p: a["relapses_12m"] is None and a["relapses_36m"] is None)
    assert some(lambda a, p: "region" in a and a["region"] is None)
    assert some(lambda a, p: a.get("respondent") == "carer")
    assert some(lambda a, p: "respondent" not in a)
    # Every verdict at least once.
    assert {entry["verdict"] for entry in ANSWER_SETS} == {"likely", "possible", "unlikely"}
    # Skipped steps' keys are absent from the answers (a person never sees those questions).
    for answers, path in zip(sets, paths):
        assert ("walking_aid" in answers) == ("walking-aid" in path)
        assert ("walking_distance" in answers) == ("walking-distance" in path)
        assert ("activity_on_dmt" in answers) == ("treatment-response" in path)
