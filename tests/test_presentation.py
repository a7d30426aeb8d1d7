"""Table-driven tests for how facts and thresholds read in the result tables (``screening.presentation``).

No database. The expected words are what a person reads in the "Your answer" and "The criteria look for" columns.
"""

from datetime import date

import pytest

from screening.facts import years_since_diagnosis
from screening.forms import STEPS_BY_SLUG
from screening.models import Decision
from screening.presentation import (CARER_FIND_OUT, DECISION_FOR_PATIENT, FIND_OUT, condition_text, display_answer,
                                    fact_text, set_views, tally_text)


@pytest.mark.parametrize("fact, value, facts, expected", [
    ("relapses_12m", [2, 2], None, "2"),  # a count is a whole number, never "2.0"
    ("relapses_36m", [0, 0], None, "0"),
    ("age", [34, 34], None, "34 years"),
    ("edss", [3.5, 3.5], {"edss_source": "reported"}, "3.5 (score given in the check)"),
    ("edss", [6.0, 6.5], {"edss_source": "walking_estimate"}, "6.0 to 6.5 (estimated from walking)"),
    ("edss", [10.0, 10.0], None, "10"),
    # the ends of the scale: "7.0 to 9.5" for a wheelchair user read as "up to bed-bound", which nobody said
    ("edss", [7.0, 9.5], {"edss_source": "walking_estimate"}, "7.0 or more (estimated from walking)"),
    ("edss", [0.0, 4.0], {"edss_source": "walking_estimate"}, "4.0 or less (estimated from walking)"),
    ("years_since_diagnosis", [0.0, 0.08], None, "less than a year"),  # not "0.0 to 0.1 years"
    ("years_since_diagnosis", [0.0, 0.0], None, "less than a year"),  # not "about 0.0 years"
    ("years_since_diagnosis", [0.5, 1.5], None, "less than 2 years"),  # not "0 or 1 years"
    ("years_since_diagnosis", [5.66, 5.74], None, "about 5.7 years"),  # both ends read the same: not "5.7 to 5.7"
    ("years_since_diagnosis", [9.96, 10.04], None, "about 10.0 years"),  # beside "below 10": why it is not known
    ("years_since_diagnosis", [5.6, 5.7], None, "5.6 to 5.7 years"),
    ("years_since_diagnosis", [11.422, 11.504], None, "about 11.5 years"),  # a month: "11.4 to 11.5" read as a range
    ("years_since_diagnosis", [11.0, 12.0], None, "11 or 12 years"),  # a year without its month: whole years
    ("years_since_diagnosis", [1.0, 3.5], None, "1 to 3 years"),
    ("years_since_diagnosis", [12.0, 12.0], None, "12 years"),
    ("prior_hsct", True, None, "had HSCT before"),  # beside "Not had HSCT before", never a bare "yes"
    ("prior_hsct", False, None, "no HSCT before"),
    ("serious_comorbidity", True, None, "a heart, lung, kidney or liver condition, cancer or a long-term infection"),
    ("highly_active", False, None, "not highly active (from the relapses and MRI activity)"),
    # what was ticked, not what was taken: "Another MS medicine" may be a high-efficacy one whose name was forgotten
    ("high_efficacy_dmt_tried", False, None, "no high-efficacy MS medicine ticked"),
    ("dmt_tried", False, None, "no MS medicine taken"),
    ("ms_type", "spms", None, "secondary progressive MS"),
    ("region", "europe", None, "Europe, including the UK"),  # as the question put it
    ("respondent", "carer", None, "someone helping them"),
    ("relapses_12m", None, None, "not known"),
])
def test_an_answer_reads_as_what_the_person_said(fact, value, facts, expected):
    assert fact_text(fact, value, facts) == expected


@pytest.mark.parametrize("year, month, today, expected", [
    # the month "I don't remember": full years gone by, never "20.9 to 21.9 years"
    (2005, None, date(2026, 12, 7), "20 or 21 years"),  # 20.9 to 21.9
    (2016, None, date(2026, 12, 7), "9 or 10 years"),  # beside "below 10 years": why it is not known
    (2016, None, date(2026, 1, 7), "9 or 10 years"),  # 9.0 to 10.0
    (2005, None, date(2027, 1, 1), "about 21 years"),  # 21.0 to 22.0: days / 365.25 may be a day out, so "about"
    (2025, None, date(2026, 12, 7), "less than 2 years"),  # not "0 or 1 years"
    (2024, None, date(2026, 3, 1), "1 or 2 years"),
    (2026, None, date(2026, 12, 7), "less than a year"),
    (2016, 3, date(2026, 12, 7), "about 10.7 years"),  # the month given: to a tenth, as before
])
def test_time_since_diagnosis_reads_as_a_person_counts_it(year, month, today, expected):
    assert fact_text("years_since_diagnosis", years_since_diagnosis(year, month, today)) == expected


@pytest.mark.parametrize("fact, operator, value, expected", [
    ("relapses_12m", "gte", 2, "2 or above"),
    ("relapses_12m", "gte", 1, "1 or above"),
    ("edss", "lt", 6.0, "below 6.0"),
    ("edss", "between", [3.0, 6.5], "3.0 to 6.5"),
    ("age", "between", [18, 55], "18 to 55 years"),
    ("years_since_diagnosis", "lt", 10, "below 10 years"),
    ("prior_hsct", "ne", True, "no HSCT before"),
    ("serious_comorbidity", "eq", False, "no heart, lung, kidney or liver condition, cancer or long-term infection"),
    ("ms_type", "in", ["rrms", "spms"], "relapsing-remitting MS or secondary progressive MS"),
    ("dmt_response", "ne", "stable", "not quiet after 6 months on an MS medicine"),
])
def test_a_threshold_reads_in_the_same_words_as_the_answers(fact, operator, value, expected):
    assert condition_text(fact, operator, value) == expected


@pytest.mark.parametrize("slug, name, expected", [
    ("relapses", "relapses_12m", "Not sure"),  # "leave empty if you are not sure"
    ("about-you", "respondent", "Not answered, so taken as: I am filling it in for myself"),  # optional, skipped
    ("diagnosis", "ms_type", "No answer given"),  # a choice not made (saved before answering it)
    ("region", "region", "I'd rather not say"),  # the question's own "don't know"
])
def test_a_dont_know_answer_reads_as_the_question_offered_it(slug, name, expected):
    assert display_answer(STEPS_BY_SLUG[slug].form_class.base_fields[name], "") == expected


@pytest.mark.parametrize("kind, verdict, title", [
    ("trial", "likely", "Your answers fit this trial's entry rules"),
    ("trial", "possible", "Some answers need a closer look against this trial's entry rules"),
    ("trial", "unlikely", "Your answers fall outside this trial's entry rules"),
    ("guideline", "likely", "Your answers match the usual profile for HSCT under these criteria"),
    ("profile", "unlikely", "HSCT is not usually offered for this profile under these criteria"),
    (None, "likely", "Your answers match the usual profile for HSCT under these criteria"),  # scored before kinds
])
def test_a_trials_verdict_speaks_of_its_entry_rules_not_of_the_usual_profile_for_hsct(kind, verdict, title):
    """A closed trial's window is who the trial took: fitting it is not "the usual profile for HSCT", and falling
    outside it is not "HSCT is not usually offered"."""
    entry = {"set": "a-set", "name": "A set", "verdict": verdict, "edition": "", "criteria": []}
    [view] = set_views([{**entry, "kind": kind} if kind else entry], {}, {}, {})
    assert str(view["text"]["title"]) == title


@pytest.mark.parametrize("fact", sorted(FIND_OUT))
def test_where_to_find_out_speaks_to_a_carer_of_the_person_they_help(fact):
    """Beside a criterion not known: "your clinic letters", "your neurologist" to someone helping read as their own."""
    def said(texts):
        text = texts[fact]
        return str(text({}) if callable(text) else text)
    assert CARER_FIND_OUT.keys() == FIND_OUT.keys()
    assert "your" in said(FIND_OUT).lower()
    assert "your" not in said(CARER_FIND_OUT).lower() and "their" in said(CARER_FIND_OUT).lower()


@pytest.mark.parametrize("kind, verdict, title, summary_starts", [
    ("guideline", "likely", "The answers match the usual profile for HSCT under these criteria",
     "This is worth discussing with their neurologist. It does not mean HSCT is right for them"),
    ("guideline", "possible", "Some answers need a closer look or more information",
     "Some of the answers do not match the usual profile, or we could not tell from the answers."),
    ("guideline", "unlikely", "HSCT is not usually offered for this profile under these criteria",
     "Under these criteria, the answers marked below usually mean HSCT is not offered. Other guidelines and trials "
     "can differ. Ask their neurologist about other options, such as reviewing their MS medicine"),
    ("trial", "likely", "The answers fit this trial's entry rules",
     "This only shows how the answers compare with the people the trial took. Whether a trial is open, and could "
     "take the person with MS, is for the trial team and their neurologist."),
    ("trial", "possible", "Some answers need a closer look against this trial's entry rules",
     "Some of the answers do not fit the trial's entry rules"),
    ("trial", "unlikely", "The answers fall outside this trial's entry rules",
     "The answers marked below are outside what the trial accepted."),
])
def test_a_verdict_read_by_a_carer_speaks_of_the_answers_and_their_neurologist(kind, verdict, title, summary_starts):
    """Someone helping gave the answers: "Your answers match", "your neurologist", "for you" read as the carer's own."""
    entry = {"set": "a-set", "name": "A set", "verdict": verdict, "edition": "", "criteria": [], "kind": kind}
    [view] = set_views([entry], {"respondent": "carer"}, {}, {})
    summary = str(view["text"]["summary"])
    assert str(view["text"]["title"]) == title and summary.startswith(summary_starts)
    assert "your" not in f"{view['text']['title']} {summary}".lower() and " you" not in summary


@pytest.mark.parametrize("outcomes, expected", [
    ("UUUUUUFFF???", "6 of 12 criteria not met, 3 not known"),  # beside a guideline's "closer look"
    ("FFFFF?", "1 of 6 criteria not known"),
    ("FFU", "1 of 3 criteria not met"),
    ("FFFF", "all 4 criteria met"),
])
def test_a_verdict_is_said_with_how_many_criteria_were_not_met_and_not_known(outcomes, expected):
    """"Some answers need a closer look" read the same for one answer missing as for six criteria not met, beside
    the headline's "not usually offered" under "Not every guideline reads your answers this way"."""
    names = {"U": "unfavourable", "F": "favourable", "?": "unknown"}
    assert tally_text([{"outcome": names[letter]} for letter in outcomes]) == expected


def test_every_decision_has_words_for_the_patient():
    """A decision without them would break the patient's status page the day it is released."""
    assert set(DECISION_FOR_PATIENT) == set(Decision)
    assert all(str(words).startswith("The neurologist ") for words in DECISION_FOR_PATIENT.values())


def criterion(code, fact, operator, value, kind, severity, outcome):
    return {"code": code, "label": code, "fact": fact, "operator": operator, "value": value, "kind": kind,
            "severity": severity, "outcome": outcome}


POOR_RESPONSE = criterion("poor_dmt_response", "dmt_response", "in", ["breakthrough", "breakthrough_high_efficacy"],
                          "inclusion", "possible", "unfavourable")
DOING_WELL = criterion("doing_well_on_dmt", "dmt_response", "eq", "stable", "exclusion", "unlikely", "unfavourable")
RRMS_NOT = criterion("relapsing_remitting", "ms_type", "eq", "rrms", "inclusion", "unlikely", "unfavourable")
COMORBIDITY = criterion("serious_comorbidity", "serious_comorbidity", "eq", True, "exclusion", "possible",
                        "unfavourable")
EDSS_UNKNOWN = criterion("edss_below_6", "edss", "lt", 6.0, "inclusion", "unlikely", "unknown")
DURATION_MET = criterion("diagnosed_under_10_years", "years_since_diagnosis", "lt", 10, "inclusion", "possible",
                         "favourable")


@pytest.mark.parametrize("verdict, criteria, deciding, also", [
    # "stable on my medicine" fails both medicine criteria: said once, beside "Because of", not again under "Also"
    ("unlikely", [POOR_RESPONSE, DOING_WELL, DURATION_MET], ["doing_well_on_dmt"], []),
    # ... and a different answer not met or not known still comes under "Also"
    ("unlikely", [POOR_RESPONSE, DOING_WELL, COMORBIDITY, EDSS_UNKNOWN], ["doing_well_on_dmt"],
     ["serious_comorbidity", "edss_below_6"]),
    ("unlikely", [RRMS_NOT, COMORBIDITY, DURATION_MET], ["relapsing_remitting"], ["serious_comorbidity"]),
    # a "closer look": every criterion not met or not known is to look at, and there is no "Also"
    ("possible", [POOR_RESPONSE, COMORBIDITY, DURATION_MET], ["poor_dmt_response", "serious_comorbidity"], []),
])
def test_an_answer_is_said_once_beside_the_verdict_where_it_decides(verdict, criteria, deciding, also):
    facts = {"dmt_response": "stable", "ms_type": "spms", "serious_comorbidity": True, "edss": None,
             "years_since_diagnosis": [4.0, 4.0]}
    entry = {"set": "article", "name": "Article profile", "verdict": verdict, "edition": "", "criteria": criteria}
    [view] = set_views([entry], facts, {}, {})
    assert [row["code"] for row in view["deciding"]] == deciding
    assert [row["code"] for row in view["also"]] == also
    assert len(view["rows"]) == len(criteria)  # the criteria table still shows every criterion
