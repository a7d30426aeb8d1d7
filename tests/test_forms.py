"""The questionnaire forms as a patient meets them: messages, branches, "Step n of N", and one validation for
the web and the ``screen`` command (PRODUCT.md §2, §6)."""

import re
from datetime import date

import pytest
from django import forms as django_forms
from django.http import QueryDict

from screening.forms import (NONE_OF_THESE, STEPS, STEPS_BY_SLUG, AboutYouForm, DiagnosisForm, EdssForm, HealthForm,
                             Questionnaire, RegionForm, RelapsesForm, TreatmentResponseForm, TreatmentsForm, WalkingAidForm,
                             ResumeForm, StatusLookupForm, SubmitForm, WalkingDistanceForm, as_form_data,
                             carer_consent, step_data, validate_answers)
from screening.models import normalise_code, reference_body

from .factories import answers, browser_value

TODAY = date(2026, 11, 23)
ALL_SLUGS = [step.slug for step in STEPS]


# ---------------------------------------------------------------- helpers shared with test_views


def browser_post(step, raw):
    """The POST body (a QueryDict) a browser sends for ``step`` when the person answers as in ``raw``.

    Text inputs and selects are always posted (empty when left empty), radios only when one is chosen,
    each ticked checkbox once (nothing at all when none is ticked).
    """
    post = QueryDict(mutable=True)
    for name, field in step.form_class.base_fields.items():
        widget = field.widget
        if isinstance(field, django_forms.MultipleChoiceField):  # none of them: the question's own "none" box
            if name in raw:
                post.setlist(name, [browser_value(v) for v in raw[name]] or [NONE_OF_THESE])
        elif isinstance(widget, django_forms.RadioSelect):
            if name in raw:
                post[name] = browser_value(raw[name])
        else:  # text input or select: always in the body
            post[name] = browser_value(raw.get(name))
    return post


def web_answers(raw, today=TODAY):
    """Walk the steps as the web does (only the steps asked, given the answers so far); the resulting questionnaire."""
    data = {}
    for step in STEPS:
        if step.applies(Questionnaire(data, today).answers):
            data.update(step_data(step, browser_post(step, raw)))
    return Questionnaire(data, today)


def bound(form_class, data, *, previous=None, today=TODAY, partial=False):
    form = form_class(data=data, answers=previous or {}, today=today, partial=partial)
    form.is_valid()
    return form


def messages_for(form, field):
    return " ".join(str(m) for m in form.errors.get(field, []))


# ---------------------------------------------------------------- messages, step by step

ABOUT_YOU_CASES = [
    # (posted, field with a problem or None, words in the message)
    ({"age": "15"}, "age", "16 and over"),
    ({"age": "0"}, "age", "16 and over"),
    ({"age": "-3"}, "age", "whole number"),  # a stray minus, as a typo: not "aged 16 and over", nor too old
    ({"age": "-41"}, "age", "whole number"),
    ({"age": " -0 "}, "age", "whole number"),
    ({"age": "abc"}, "age", "whole number"),
    ({"age": "34.5"}, "age", "whole number"),
    ({"age": ""}, "age", "Enter your age"),
    ({}, "age", "Enter your age"),
    ({"age": "100"}, "age", "99 or under"),
    ({"age": "34", "respondent": "boss"}, "respondent", "not one of the answers shown"),
    ({"age": "16"}, None, ""),
    ({"age": "99"}, None, ""),
    ({"age": " 34 ", "respondent": "carer"}, None, ""),
    ({"age": "52 years"}, None, ""),
    ({"age": "15 years"}, "age", "16 and over"),  # a word for years changes nothing else
    ({"age": "100 years old"}, "age", "99 or under"),
    ({"age": "-52 years"}, "age", "whole number"),
    ({"age": "52.5 years"}, "age", "whole number"),
    ({"age": "52 weeks"}, "age", "whole number"),  # only years: not read as 52
    ({"age": "52 months"}, "age", "whole number"),
    ({"age": "years"}, "age", "whole number"),
    ({"age": "52 years 3 months"}, "age", "whole number"),
]

AGES_AS_TYPED = [  # (typed, the age read)
    ("52", 52), (" 52 ", 52), ("52 years", 52), ("52 Years", 52), ("52years", 52), ("52 year", 52), ("52 yrs", 52),
    ("52 yr", 52), ("52 yrs.", 52), ("52 years old", 52), (" 52  YEARS  OLD ", 52), ("16 years", 16),
]


@pytest.mark.parametrize("posted, field, words", ABOUT_YOU_CASES)
def test_about_you_messages(posted, field, words):
    form = bound(AboutYouForm, posted)
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert words in messages_for(form, field), form.errors


@pytest.mark.parametrize("typed, age", AGES_AS_TYPED)
def test_an_age_in_years_is_read_as_its_number(typed, age):
    form = bound(AboutYouForm, {"age": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["age"] == age


@pytest.mark.parametrize("form_kwargs", [
    {"initial": {"age": " 52 years "}},  # the step opened again: the answer as saved
    {"data": {"age": " 52 years ", "respondent": "boss"}},  # shown with a message about another question
], ids=["answered", "with-a-message"])
def test_an_age_is_shown_again_without_the_spaces_around_it(form_kwargs):
    form = AboutYouForm(answers={}, today=TODAY, **form_kwargs)
    assert 'value="52 years"' in str(form["age"])


def test_about_you_respondent_is_optional_and_defaults_to_self():
    questionnaire = Questionnaire({"age": "34"}, TODAY)
    assert questionnaire.answers["respondent"] == "self"
    assert "about-you" not in [s.slug for s in questionnaire.incomplete]


DIAGNOSIS_OK = {"diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_month": ""}
DIAGNOSIS_CASES = [
    # (age already given, posted changes, field, words)  today is 23 November 2026
    (34, {"diagnosis_year": "1985"}, "diagnosis_year", "before you were born"),  # born 1991 at the earliest
    (34, {"diagnosis_year": "1990"}, "diagnosis_year", "before you were born"),
    (34, {"diagnosis_year": "1991"}, None, ""),
    (34, {"diagnosis_year": "2027"}, "diagnosis_year", "cannot be in the future"),
    (34, {"diagnosis_year": "2026", "diagnosis_month": "12"}, "diagnosis_year", "cannot be in the future"),
    (34, {"diagnosis_year": "2026", "diagnosis_month": "11"}, None, ""),
    (34, {"diagnosis_year": "2026"}, None, ""),
    (90, {"diagnosis_year": "1949"}, "diagnosis_year", "from 1950 onwards"),
    (90, {"diagnosis_year": "1950"}, None, ""),
    (None, {"diagnosis_year": "1949"}, "diagnosis_year", "from 1950 onwards"),
    (34, {"diagnosis_year": "abc"}, "diagnosis_year", "four digits"),
    (34, {"diagnosis_year": "20 19"}, "diagnosis_year", "four digits"),
    (34, {"diagnosis_year": "19"}, "diagnosis_year", "four digits"),  # two digits for 2019, not "before you were born"
    (None, {"diagnosis_year": "19"}, "diagnosis_year", "four digits"),
    (34, {"diagnosis_year": "20190"}, "diagnosis_year", "four digits"),
    (34, {"diagnosis_year": ""}, "diagnosis_year", "If you are not sure, your best guess will do"),
    (34, {"diagnosis_year": "2019", "diagnosis_month": "13"}, "diagnosis_month", "Choose a month from the list"),
    (34, {"diagnosis_year": "2019", "diagnosis_month": "March"}, "diagnosis_month", "Choose a month from the list"),
    (34, {"diagnosis_year": "2019", "diagnosis_confirmed": None}, "diagnosis_confirmed", "Choose one answer"),
    (34, {"diagnosis_year": "2019", "ms_type": None}, "ms_type", "Choose one answer"),
    (34, {"diagnosis_year": "2019", "ms_type": "benign"}, "ms_type", "not one of the answers shown"),
    (34, {"diagnosis_year": "2019", "diagnosis_confirmed": "maybe"}, "diagnosis_confirmed",
     "not one of the answers shown"),
]


@pytest.mark.parametrize("age, changes, field, words", DIAGNOSIS_CASES)
def test_diagnosis_messages(age, changes, field, words):
    posted = {key: value for key, value in {**DIAGNOSIS_OK, **changes}.items() if value is not None}
    form = bound(DiagnosisForm, posted, previous={"age": age} if age else {})
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert words in messages_for(form, field), form.errors


def test_the_born_before_message_names_the_age_given():
    form = bound(DiagnosisForm, {**DIAGNOSIS_OK, "diagnosis_year": "1980"}, previous={"age": 34})
    assert "you are 34" in messages_for(form, "diagnosis_year")


EDSS_CASES = [
    # (posted, cleaned value, words of the message when invalid)
    ({"edss": "4"}, 4.0, None),
    ({"edss": "4.0"}, 4.0, None),
    ({"edss": "0"}, 0.0, None),
    ({"edss": "0.0"}, 0.0, None),
    ({"edss": "9.5"}, 9.5, None),
    ({"edss": "3.50"}, 3.5, None),
    ({"edss": ""}, None, None),  # "I don't know my score"
    ({}, None, "Choose your score"),  # nothing chosen
    ({"edss": "4.25"}, None, "from 0 to 9.5 in steps of 0.5"),
    ({"edss": "10"}, None, "from 0 to 9.5 in steps of 0.5"),
    ({"edss": "-1"}, None, "from 0 to 9.5 in steps of 0.5"),
    ({"edss": "four"}, None, "from 0 to 9.5 in steps of 0.5"),
]


@pytest.mark.parametrize("posted, cleaned, words", EDSS_CASES)
def test_edss_messages(posted, cleaned, words):
    form = bound(EdssForm, posted)
    if words is None:
        assert form.is_valid(), form.errors
        assert form.cleaned_data["edss"] == cleaned
    else:
        assert not form.is_valid()
        assert words in messages_for(form, "edss"), form.errors


def test_edss_4_and_4_point_0_are_the_same_answer():
    four = Questionnaire(as_form_data(answers(edss=4)), TODAY)
    four_point_0 = Questionnaire({**as_form_data(answers()), "edss": "4.0"}, TODAY)
    assert four.answers == four_point_0.answers
    assert four.answers["edss"] == 4.0 and not four.problems()


def test_an_empty_edss_means_dont_know_and_asks_about_walking():
    questionnaire = Questionnaire(as_form_data(answers(edss=None)), TODAY)
    assert questionnaire.answers["edss"] is None
    assert questionnaire.first_incomplete() == STEPS_BY_SLUG["walking-aid"]


RELAPSES_OK = {"relapses_12m": "1", "relapses_36m": "2", "mri_activity_12m": "no"}
RELAPSES_CASES = [
    ({"relapses_12m": "3", "relapses_36m": "2"}, "relapses_36m", "enter 3 or more"),
    ({"relapses_12m": "3", "relapses_36m": "3"}, None, ""),
    ({"relapses_12m": "", "relapses_36m": "2"}, None, ""),  # not sure about the last year
    ({"relapses_12m": "3", "relapses_36m": ""}, None, ""),
    ({"relapses_12m": "", "relapses_36m": ""}, None, ""),
    ({"relapses_12m": None}, "relapses_12m", "leave it empty if you are not sure"),
    ({"relapses_36m": None}, "relapses_36m", "leave it empty if you are not sure"),
    ({"relapses_12m": "21", "relapses_36m": "30"}, "relapses_12m", "20 or fewer"),
    ({"relapses_36m": "51"}, "relapses_36m", "50 or fewer"),
    ({"relapses_12m": "-1"}, "relapses_12m", "0 or more"),
    ({"relapses_12m": "1.5"}, "relapses_12m", "whole number"),
    ({"relapses_12m": "two"}, "relapses_12m", "whole number"),
    ({"mri_activity_12m": None}, "mri_activity_12m", "Choose one answer"),
    ({"mri_activity_12m": "perhaps"}, "mri_activity_12m", "not one of the answers shown"),
    ({"mri_activity_12m": "no_mri"}, None, ""),
]


@pytest.mark.parametrize("respondent", ["self", "carer"])
def test_a_relapse_count_says_to_enter_0_for_none_because_an_empty_one_means_not_sure(respondent):
    """Someone with no relapses, told only "leave empty if you are not sure", may leave it empty for "none": their
    answer then counts as not known, and the result says their MS activity is unknown instead of what it is."""
    form = RelapsesForm(answers={"respondent": respondent}, today=TODAY)
    for name in ("relapses_12m", "relapses_36m"):
        assert "If there were none, enter 0" in str(form.fields[name].help_text), name


@pytest.mark.parametrize("changes, field, words", RELAPSES_CASES)
def test_relapses_messages(changes, field, words):
    posted = {key: value for key, value in {**RELAPSES_OK, **changes}.items() if value is not None}
    form = bound(RelapsesForm, posted)
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert words in messages_for(form, field), form.errors


@pytest.mark.parametrize("form_class, posted, cleaned, words", [
    (TreatmentsForm, {"dmts": ["natalizumab", "snake_oil"]}, None, "not one of the answers shown"),
    # nothing ticked is no answer (a tired Continue), not "never treated"
    (TreatmentsForm, {"dmts": []}, None,
     "Tick the MS medicines you have taken, or “I have never taken an MS medicine”."),
    (TreatmentsForm, {"dmts": ["none"]}, [], ""),
    (TreatmentsForm, {"dmts": ["fumarate", "natalizumab"]}, ["fumarate", "natalizumab"], ""),
    (TreatmentsForm, {"dmts": ["none", "fumarate"]}, None,
     "“I have never taken an MS medicine” is ticked with other answers: untick it, or untick the others."),
    (HealthForm, {"comorbidities": [], "prior_hsct": "false", "pregnancy": "no"}, None,
     "Tick the conditions you have, or “None of these”."),
    (HealthForm, {"comorbidities": ["none"], "prior_hsct": "false", "pregnancy": "no"}, [], ""),
    (HealthForm, {"comorbidities": ["heart", "none"], "prior_hsct": "false", "pregnancy": "no"}, None,
     "“None of these” is ticked with other answers"),
])
def test_a_checkbox_question_is_answered_by_ticking_what_applies_or_its_none_box(form_class, posted, cleaned, words):
    form = bound(form_class, posted)
    field = next(iter(posted))
    if cleaned is not None:
        assert form.is_valid(), form.errors
        assert form.cleaned_data[field] == cleaned
    else:
        assert words in messages_for(form, field), form.errors


@pytest.mark.parametrize("dmts, posted, field, words", [
    (["fumarate"], {}, "activity_on_dmt", "Choose one answer"),
    (["fumarate"], {"activity_on_dmt": "yes"}, None, ""),
    (["natalizumab"], {"activity_on_dmt": "yes"}, "activity_on_high_efficacy_dmt", "Choose one answer"),
    (["natalizumab"], {"activity_on_dmt": "yes", "activity_on_high_efficacy_dmt": "no"}, None, ""),
    (["anti_cd20"], {"activity_on_dmt": "often", "activity_on_high_efficacy_dmt": "no"}, "activity_on_dmt",
     "not one of the answers shown"),
    # Activity on a high-efficacy medicine is activity on an MS medicine: "no" then "yes" contradict each other.
    (["natalizumab"], {"activity_on_dmt": "no", "activity_on_high_efficacy_dmt": "yes"},
     "activity_on_high_efficacy_dmt", "the question above says No"),
    (["natalizumab"], {"activity_on_dmt": "no", "activity_on_high_efficacy_dmt": "no"}, None, ""),
    (["natalizumab"], {"activity_on_dmt": "unsure", "activity_on_high_efficacy_dmt": "yes"}, None, ""),
    (["fumarate"], {"activity_on_dmt": "no", "activity_on_high_efficacy_dmt": "yes"}, None, ""),  # not asked: ignored
])
def test_treatment_response_messages(dmts, posted, field, words):
    form = bound(TreatmentResponseForm, posted, previous={"dmts": dmts})
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert words in messages_for(form, field), form.errors


HEALTH_OK = {"comorbidities": ["none"], "prior_hsct": "false", "pregnancy": "no"}


@pytest.mark.parametrize("changes, field, words", [
    ({"prior_hsct": None}, "prior_hsct", "Choose one answer"),
    ({"prior_hsct": "maybe"}, "prior_hsct", "not one of the answers shown"),
    ({"pregnancy": None}, "pregnancy", "Choose one answer"),
    ({"pregnancy": "soon"}, "pregnancy", "not one of the answers shown"),
    ({"comorbidities": ["heart", "gout"]}, "comorbidities", "not one of the answers shown"),
    ({"comorbidities": ["heart", "mental_health"]}, None, ""),
])
def test_health_messages(changes, field, words):
    posted = {key: value for key, value in {**HEALTH_OK, **changes}.items() if value is not None}
    form = bound(HealthForm, posted)
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert words in messages_for(form, field), form.errors


@pytest.mark.parametrize("posted, cleaned", [({"prior_hsct": "true"}, True), ({"prior_hsct": "false"}, False)])
def test_prior_hsct_yes_and_no_are_booleans(posted, cleaned):
    form = bound(HealthForm, {**HEALTH_OK, **posted})
    assert form.is_valid() and form.cleaned_data["prior_hsct"] is cleaned


@pytest.mark.parametrize("form_class, posted, field, words", [
    (WalkingAidForm, {}, "walking_aid", "Choose one answer"),
    (WalkingAidForm, {"walking_aid": "skateboard"}, "walking_aid", "not one of the answers shown"),
    (WalkingDistanceForm, {}, "walking_distance", "Choose one answer"),
    (WalkingDistanceForm, {"walking_distance": "1000"}, "walking_distance", "not one of the answers shown"),
    (RegionForm, {"region": "mars"}, "region", "not one of the answers shown"),
])
def test_walking_and_region_messages(form_class, posted, field, words):
    form = bound(form_class, posted)
    assert not form.is_valid()
    assert words in messages_for(form, field), form.errors


@pytest.mark.parametrize("posted", [{}, {"region": ""}])
def test_region_is_optional(posted):
    form = bound(RegionForm, posted)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["region"] is None


# ---------------------------------------------------------------- nothing chosen for the person


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_no_field_has_an_initial_value(slug):
    form_class = STEPS_BY_SLUG[slug].form_class
    form = form_class(answers={"dmts": ["natalizumab"], "age": 34}, today=TODAY)
    for name, field in form.fields.items():
        assert field.initial is None, name
        assert form.initial.get(name) is None, name


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_no_radio_button_is_preselected_on_an_empty_step(slug):
    """PRODUCT.md §6: "no radio button is pre-selected", including the "I don't know" / "rather not say" ones."""
    form_class = STEPS_BY_SLUG[slug].form_class
    form = form_class(answers={"dmts": ["natalizumab"], "age": 34}, today=TODAY)
    for field in form:
        if field.widget_type in ("radioselect", "checkboxselectmultiple"):
            assert "checked" not in str(field), f"{field.name} starts with an option chosen"


# ---------------------------------------------------------------- branches: which steps are asked

FULL_PATH = ALL_SLUGS
NOT_WALKING = [s for s in ALL_SLUGS if not s.startswith("walking")]

BRANCHES = [
    ("edss known, high-efficacy medicine", answers(), NOT_WALKING),
    ("edss known, no medicine", answers(dmts=[]), [s for s in NOT_WALKING if s != "treatment-response"]),
    ("edss unknown, walks with a stick", answers(edss=None, walking_aid="one_sided", walking_distance="100_199"),
     FULL_PATH),
    ("edss unknown, wheelchair", answers(edss=None, walking_aid="wheelchair"),
     [s for s in ALL_SLUGS if s != "walking-distance"]),
    ("edss unknown, wheelchair, no medicine", answers(edss=None, walking_aid="wheelchair", dmts=[]),
     [s for s in ALL_SLUGS if s not in ("walking-distance", "treatment-response")]),
]


@pytest.mark.parametrize("raw, asked", [b[1:] for b in BRANCHES], ids=[b[0] for b in BRANCHES])
def test_the_steps_asked_follow_the_answers(raw, asked):
    questionnaire = Questionnaire(as_form_data(raw), TODAY)
    assert [s.slug for s in questionnaire.applicable] == asked
    assert questionnaire.first_incomplete() is None, questionnaire.problems()


@pytest.mark.parametrize("dmts, high_efficacy_question", [
    (["interferon_beta"], False), (["fumarate", "glatiramer", "other"], False), (["s1p_modulator"], False),
    (["natalizumab"], True), (["anti_cd20"], True), (["alemtuzumab"], True), (["cladribine"], True),
    (["fumarate", "cladribine"], True),
])
def test_the_high_efficacy_question_is_asked_only_after_a_high_efficacy_medicine(dmts, high_efficacy_question):
    raw = {key: value for key, value in answers(dmts=dmts).items() if key != "activity_on_high_efficacy_dmt"}
    questionnaire = Questionnaire(as_form_data(raw), TODAY)
    form = questionnaire.forms["treatment-response"]
    assert ("activity_on_high_efficacy_dmt" in form.fields) is high_efficacy_question
    incomplete = [s.slug for s in questionnaire.incomplete]
    assert ("treatment-response" in incomplete) is high_efficacy_question


@pytest.mark.parametrize("dmts, question, help_text", [
    (["natalizumab"], "started natalizumab, did", "This is an MS medicine too"),
    (["fumarate", "cladribine"], "started cladribine, did", "This is an MS medicine too"),
    (["natalizumab", "anti_cd20"], "started natalizumab or ocrelizumab, ofatumumab, ublituximab or rituximab, did",
     "These are MS medicines too"),
    (["anti_cd20"], "started ocrelizumab, ofatumumab, ublituximab or rituximab, did", "These are MS medicines too"),
])
def test_the_high_efficacy_question_names_the_medicines_ticked_and_its_help_says_one_or_several(
        dmts, question, help_text):
    field = Questionnaire(as_form_data(answers(dmts=dmts)), TODAY).forms["treatment-response"].fields[
        "activity_on_high_efficacy_dmt"]
    assert question in str(field.label)
    assert str(field.help_text).startswith(help_text)


def test_a_wheelchair_user_is_not_asked_how_far_they_walk():
    questionnaire = Questionnaire(as_form_data(answers(edss=None, walking_aid="wheelchair")), TODAY)
    assert STEPS_BY_SLUG["walking-distance"] not in questionnaire.applicable
    assert STEPS_BY_SLUG["walking-distance"] not in questionnaire.expected


def test_a_missing_walking_distance_is_required_when_not_in_a_wheelchair():
    questionnaire = Questionnaire(as_form_data(answers(edss=None, walking_aid="two_sided")), TODAY)
    assert questionnaire.first_incomplete() == STEPS_BY_SLUG["walking-distance"]


# ---------------------------------------------------------------- "Step n of N" along a path

# Per path: the steps in the order a person meets them, and N shown on each of those step pages.
STEP_COUNTS = [
    ("edss known, high-efficacy medicine", answers(), [
        ("about-you", 10), ("diagnosis", 10), ("edss", 10),  # walking is undecided until the EDSS is answered
        ("relapses", 8), ("treatments", 8), ("treatment-response", 8), ("health", 8), ("region", 8)]),
    ("edss known, no medicine", answers(dmts=[]), [
        ("about-you", 10), ("diagnosis", 10), ("edss", 10), ("relapses", 8), ("treatments", 8),
        ("health", 7), ("region", 7)]),
    ("edss unknown, walks with a stick", answers(edss=None, walking_aid="one_sided", walking_distance="100_199"), [
        ("about-you", 10), ("diagnosis", 10), ("edss", 10), ("walking-aid", 10), ("walking-distance", 10),
        ("relapses", 10), ("treatments", 10), ("treatment-response", 10), ("health", 10), ("region", 10)]),
    ("edss unknown, wheelchair, no medicine", answers(edss=None, walking_aid="wheelchair", dmts=[]), [
        ("about-you", 10), ("diagnosis", 10), ("edss", 10), ("walking-aid", 10), ("relapses", 9),
        ("treatments", 9), ("health", 8), ("region", 8)]),
]


@pytest.mark.parametrize("raw, expected", [c[1:] for c in STEP_COUNTS], ids=[c[0] for c in STEP_COUNTS])
def test_step_n_of_n_counts_up_by_one_and_n_changes_only_when_a_branch_is_decided(raw, expected):
    data, shown = {}, []
    for slug, _total in expected:
        questionnaire = Questionnaire(data, TODAY)
        step = STEPS_BY_SLUG[slug]
        assert questionnaire.first_incomplete() == step
        shown.append((slug, questionnaire.expected.index(step) + 1, len(questionnaire.expected)))
        data.update(step_data(step, browser_post(step, raw)))
    assert shown == [(slug, n, total) for n, (slug, total) in enumerate(expected, start=1)]
    assert Questionnaire(data, TODAY).first_incomplete() is None


@pytest.mark.parametrize("slug, changes", [
    ("about-you", {"age": "50"}), ("diagnosis", {"diagnosis_year": "2010"}), ("relapses", {"relapses_12m": "0"}),
    ("health", {"pregnancy": "planning"}), ("region", {"region": "india"}),
])
def test_changing_an_answer_that_decides_no_branch_keeps_n(slug, changes):
    before = Questionnaire(as_form_data(answers()), TODAY)
    after = Questionnaire({**as_form_data(answers()), **changes}, TODAY)
    assert len(after.expected) == len(before.expected) == 8


def test_an_invalid_edss_leaves_the_walking_steps_counted():
    questionnaire = Questionnaire({**as_form_data(answers()), "edss": "12"}, TODAY)
    assert len(questionnaire.expected) == 10
    assert questionnaire.first_incomplete() == STEPS_BY_SLUG["edss"]


# ---------------------------------------------------------------- first_incomplete


@pytest.mark.parametrize("data, first", [
    ({}, "about-you"),
    ({"age": "34"}, "diagnosis"),
    ({"age": "15"}, "about-you"),
    ({**as_form_data(answers()), "age": "abc"}, "about-you"),
    ({**as_form_data(answers()), "relapses_36m": "0"}, "relapses"),
    ({key: v for key, v in as_form_data(answers()).items() if key != "pregnancy"}, "health"),
    ({key: v for key, v in as_form_data(answers()).items() if key != "dmts"}, "treatments"),
    (as_form_data(answers(edss=None)), "walking-aid"),
    (as_form_data(answers(edss=None, walking_aid="none")), "walking-distance"),
    (as_form_data(answers()), None),
])
def test_first_incomplete(data, first):
    step = Questionnaire(data, TODAY).first_incomplete()
    assert (step.slug if step else None) == first


def test_an_unanswered_optional_step_is_incomplete_until_it_is_posted():
    raw = {key: value for key, value in answers().items() if key != "region"}
    data = as_form_data(raw)
    assert Questionnaire(data, TODAY).first_incomplete() == STEPS_BY_SLUG["region"]
    assert Questionnaire({**data, "region": ""}, TODAY).first_incomplete() is None
    assert Questionnaire({**data, "region": ""}, TODAY).answers["region"] is None


# ---------------------------------------------------------------- the web and the command agree

ANSWER_SETS = [
    ("likely, edss known, high-efficacy medicine", answers()),
    ("edss unknown, walks with a stick, no medicine, not sure of relapses",
     {key: value for key, value in answers(
         edss=None, walking_aid="one_sided", walking_distance="100_199", dmts=[], relapses_12m=None,
         relapses_36m=None, diagnosis_month=None, region=None, mri_activity_12m="no_mri").items()
      if not key.startswith("activity_on")}),
    ("carer, wheelchair, moderate medicine, conditions", {
        key: value for key, value in answers(
            respondent="carer", age=61, ms_type="spms", diagnosis_year=1990, diagnosis_month=None, edss=None,
            walking_aid="wheelchair", relapses_12m=0, relapses_36m=0, dmts=["fumarate", "glatiramer"],
            activity_on_dmt="unsure", comorbidities=["heart", "mental_health"], prior_hsct=True,
            pregnancy="planning", region="other").items()
        if key != "activity_on_high_efficacy_dmt"}),
]


@pytest.mark.parametrize("raw", [s[1] for s in ANSWER_SETS], ids=[s[0] for s in ANSWER_SETS])
def test_validate_answers_accepts_what_the_web_steps_accept(raw):
    cleaned, problems = validate_answers(raw, TODAY)
    web = web_answers(raw)
    assert problems == []
    assert web.first_incomplete() is None, web.problems()
    assert web.answers == cleaned


@pytest.mark.parametrize("changes, key", [
    ({"age": 15}, "age"), ({"diagnosis_year": 1980}, "diagnosis_year"), ({"edss": 4.25}, "edss"),
    ({"relapses_12m": 3, "relapses_36m": 1}, "relapses_36m"), ({"dmts": ["snake_oil"]}, "dmts"),
    ({"region": "mars"}, "region"),
])
def test_validate_answers_refuses_what_the_web_steps_refuse(changes, key):
    raw = answers(**changes)
    _cleaned, problems = validate_answers(raw, TODAY)
    web = web_answers(raw)
    assert key in [k for k, _m in problems]
    assert key in [k for k, _m in web.problems()]
    assert dict(problems)[key] == dict(web.problems())[key]


# ---------------------------------------------------------------- checking answers leaves the questions as they are


def test_showing_a_step_again_leaves_its_questions_as_they_were_for_everyone():
    """The forms that check answers share their fields with the step's class; the one shown is a copy of its own,
    since rendering adds classes to the widgets."""
    from crispy_forms.utils import render_crispy_form

    data = {**as_form_data(answers()), "age": "abc"}
    shown = [render_crispy_form(Questionnaire(data, TODAY).form_to_show("about-you")) for _ in range(2)]
    assert "Enter your age as a whole number" in shown[0]
    assert shown[1] == shown[0]  # no class added twice
    assert "class" not in AboutYouForm.base_fields["age"].widget.attrs
    with pytest.raises(TypeError):  # a form that shares its fields refuses to be rendered
        render_crispy_form(Questionnaire(data, TODAY).forms["about-you"])
    assert "class" not in AboutYouForm.base_fields["age"].widget.attrs


def test_a_step_kept_but_not_asked_is_checked_leniently_without_making_its_question_optional():
    data = {**as_form_data(answers()), "walking_aid": "none"}  # the EDSS is known: walking is not asked
    questionnaire = Questionnaire(data, TODAY)
    assert not questionnaire.forms["walking-aid"].fields["walking_aid"].required
    assert WalkingAidForm.base_fields["walking_aid"].required
    assert Questionnaire(as_form_data(answers(edss=None)), TODAY).first_incomplete() == STEPS_BY_SLUG["walking-aid"]


# ---------------------------------------------------------------- codes people type (resume, status lookup)


CODE = "ABCDE-FGHJK-MNPQR-STVWX"


OTHER = "KMNPQ-RSTVW-XYZ23-45678"


@pytest.mark.parametrize("reference, access_code", [
    (OTHER, f"R-{CODE}"), (OTHER.lower(), f"r {CODE.lower()}"), (OTHER, f"R{CODE}".replace("-", "")),
])
def test_the_two_codes_typed_in_each_others_boxes_are_taken_the_right_way_round(reference, access_code):
    """Refused, only the access box was marked: "correcting" that one alone then cost a try of the lookup limit."""
    form = StatusLookupForm({"reference": reference, "access_code": access_code})
    assert form.is_valid(), form.errors
    assert (reference_body(form.cleaned_data["reference"]), normalise_code(form.cleaned_data["access_code"])) == (
        normalise_code(CODE), normalise_code(OTHER))


@pytest.mark.parametrize("form_class, data, field, message", [
    (ResumeForm, {"resume_code": f" {CODE.lower()} "}, None, None),
    (ResumeForm, {"resume_code": CODE.replace("-", " ")}, None, None),
    (ResumeForm, {"resume_code": CODE[:-1]}, "resume_code", "A code has 20 letters and numbers; this one has 19."),
    (ResumeForm, {"resume_code": CODE + "X"}, "resume_code", "A code has 20 letters and numbers; this one has 21."),
    (ResumeForm, {"resume_code": CODE.replace("MN", "MO").replace("J", "1")}, "resume_code",
     "Codes use only the letters A to Z (but not I, L, O or U) and the numbers 2 to 9. Check the code: this one has "
     "1, O."),
    (ResumeForm, {"resume_code": CODE.replace("E", "é")}, "resume_code", "this one has É."),
    (ResumeForm, {"resume_code": "ＡＢＣＤＥ－ＦＧＨＪＫ－ＭＮＰＱＲ－ＳＴＶＷＸ"}, None, None),  # a full-width keyboard
    (ResumeForm, {"resume_code": f"R-{CODE}"}, "resume_code", "This looks like the reference code of a result you sent."),
    (ResumeForm, {"resume_code": ""}, "resume_code", "Enter the code."),
    (StatusLookupForm, {"reference": f"R-{CODE}", "access_code": CODE}, None, None),
    (StatusLookupForm, {"reference": CODE, "access_code": CODE}, None, None),  # the R- left off
    (StatusLookupForm, {"reference": f"R-{CODE}-B", "access_code": CODE}, "reference",
     "After the R, a reference has 20 letters and numbers; this one has 21."),
    (StatusLookupForm, {"reference": f"R-{CODE[:-1]}", "access_code": CODE}, "reference",  # a key missed
     "After the R, a reference has 20 letters and numbers; this one has 19."),
    (StatusLookupForm, {"reference": f"r {CODE[:-1]}", "access_code": CODE}, "reference", "this one has 19."),
    (StatusLookupForm, {"reference": f"R{CODE[:-1]}", "access_code": CODE}, None, None),  # 20: may be a code alone
    (StatusLookupForm, {"reference": CODE, "access_code": f"r-{CODE}"}, "access_code",
     "This looks like the reference code, which starts with R. Type the private access code here."),
    (StatusLookupForm, {"reference": f"R-{CODE}", "access_code": f"r-{CODE}"}, "access_code",
     "This looks like the reference code, which starts with R. Type the private access code here."),
])
def test_a_code_that_cannot_be_one_is_told_what_is_wrong_with_it(form_class, data, field, message):
    """A missed, doubled or misread character is named before any lookup, so it costs none of the tries allowed."""
    form = form_class(data)
    assert form.is_valid() == (field is None), form.errors
    if field:
        assert message in form.errors[field][0]


def test_a_question_worded_for_one_person_stays_worded_for_them_alone():
    """The questionnaire's forms share their fields, for speed: a carer's "Is the person you are helping pregnant…"
    and one person's medicines in the high-efficacy question were written into everyone's."""
    for shared in (True, False):
        carer = HealthForm(answers={"respondent": "carer"}, today=TODAY, shared_fields=shared)
        assert str(carer.fields["pregnancy"].label).startswith("Is the person you are helping pregnant")
        one = TreatmentResponseForm(answers={"dmts": ["natalizumab"]}, today=TODAY, shared_fields=shared)
        assert "started natalizumab, did you" in str(one.fields["activity_on_high_efficacy_dmt"].label)
        yourself = HealthForm(answers={"respondent": "self"}, today=TODAY, shared_fields=shared)
        assert str(yourself.fields["pregnancy"].label) == "Are you pregnant, breastfeeding, or planning a pregnancy?"
        assert dict(yourself.fields["pregnancy"].choices)["planning"] == "I am planning a pregnancy in the next 2 years"
        other = TreatmentResponseForm(answers={"dmts": ["alemtuzumab"]}, today=TODAY, shared_fields=shared)
        assert "started alemtuzumab, did you" in str(other.fields["activity_on_high_efficacy_dmt"].label)
        assert str(TreatmentResponseForm.base_fields["activity_on_high_efficacy_dmt"].label).endswith(
            "rituximab, alemtuzumab or cladribine, did you still have a relapse or new MRI activity?")


# ---------------------------------------------------------------- worded for someone helping the person with MS

# "you" and "I" that stand for whoever answers (a carer too), not for the person with MS
ANSWERERS_OWN_WORDS = re.compile("|".join([
    "the person you are helping", "I'm not sure", "I don't know", "I don't remember", "I'd rather not say",
    "if you remember", "if you don't know", "if you are not sure", "if you answered", "you told us"]), re.IGNORECASE)
SAID_TO_THE_PERSON = re.compile(r"\b(you|your|yours|yourself|I|I'm|I've|me|my|myself)\b", re.IGNORECASE)
ASKED_EVERYTHING = {"dmts": ["natalizumab"]}  # the high-efficacy question asked too
EVERY_ANSWER = as_form_data(answers(edss=None, walking_aid="one_sided", walking_distance="100_199"))


def said_to_the_person(texts):
    """Those of ``texts`` that speak to the person with MS as "you" or "I"."""
    return [text for text in texts if SAID_TO_THE_PERSON.search(ANSWERERS_OWN_WORDS.sub("", text))]


def what_it_says(field):
    """Every text of a question: its label, its help, its answers and its messages."""
    choices = [label for _value, label in getattr(field, "choices", ())]
    return [str(text) for text in (field.label, field.help_text, *choices, *field.error_messages.values()) if text]


def answers_taken(field):
    return [value for value, _label in getattr(field, "choices", ())]


def asked(step, respondent, data=None):
    return step.form_class(data=data, answers={**ASKED_EVERYTHING, "respondent": respondent}, today=TODAY)


@pytest.mark.parametrize("step", STEPS[1:], ids=lambda step: step.slug)  # the first asks who is answering
def test_a_carer_is_asked_about_the_person_they_help_for_the_same_answers_and_a_patient_as_before(step):
    carer, patient = asked(step, "carer", EVERY_ANSWER), asked(step, "self", EVERY_ANSWER)
    assert {name: said_to_the_person(what_it_says(field)) for name, field in carer.fields.items()} == \
        {name: [] for name in carer.fields}
    # the same questions, answers and cleaned values: only the words differ
    assert carer.is_valid() and patient.is_valid(), (carer.errors, patient.errors)
    assert carer.cleaned_data == patient.cleaned_data
    assert {name: answers_taken(field) for name, field in carer.fields.items()} == \
        {name: answers_taken(field) for name, field in patient.fields.items()}
    for name, field in patient.fields.items():  # built after the carer's: nothing of theirs left in the shared fields
        as_declared = step.form_class.base_fields[name]
        same_from = 2 if name == "activity_on_high_efficacy_dmt" else 1  # its help says one medicine or several
        assert what_it_says(field)[same_from:] == what_it_says(as_declared)[same_from:], name
        assert field.label == as_declared.label or name == "activity_on_high_efficacy_dmt", name  # names medicines


def test_once_a_carer_says_who_is_answering_the_age_is_asked_about_the_person_they_help():
    """The first step asks who is answering and the age together: before anyone has said, its help speaks to both;
    once a carer has (the step shown again, the review page, the neurologist's page), "How old are you?" asked the
    carer's own age."""
    carer = bound(AboutYouForm, {"respondent": "carer", "age": ""})
    assert str(carer.fields["age"].label) == "How old is the person you are helping?"
    assert said_to_the_person(what_it_says(carer.fields["age"])) == []
    assert messages_for(carer, "age") == "Enter their age in years."
    assert messages_for(bound(AboutYouForm, {"respondent": "carer", "age": "forty"}), "age") == (
        "Enter their age as a whole number, for example 34.")
    assert messages_for(bound(AboutYouForm, {"respondent": "carer", "age": "-41"}), "age") == (  # a stray minus
        "Enter their age as a whole number, for example 34.")
    assert bound(AboutYouForm, {"respondent": "carer", "age": "41"}).cleaned_data == {"respondent": "carer", "age": 41}
    for data in ({"age": ""}, {"respondent": "self", "age": ""}):  # not said, or for themselves: as before
        form = bound(AboutYouForm, data)
        assert str(form.fields["age"].label) == "How old are you?", data
        assert messages_for(form, "age") == "Enter your age in years.", data
    assert str(AboutYouForm.base_fields["age"].label) == "How old are you?"  # the shared field left as it was


@pytest.mark.parametrize("form_class, posted, field, message", [
    (DiagnosisForm, {"diagnosis_confirmed": "yes", "ms_type": "rrms"}, "diagnosis_year",
     "Enter the year they were diagnosed. If you are not sure, a best guess will do."),
    (DiagnosisForm, {"diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": "1980"}, "diagnosis_year",
     "That year is before they were born (you told us they are 34)."),
    (EdssForm, {}, "edss", "Choose their score, or “I don't know their score”."),
    (TreatmentsForm, {"dmts": []}, "dmts",
     "Tick the MS medicines they have taken, or “They have never taken an MS medicine”."),
    (TreatmentsForm, {"dmts": ["none", "fumarate"]}, "dmts",
     "“They have never taken an MS medicine” is ticked with other answers: untick it, or untick the others."),
    (HealthForm, {**HEALTH_OK, "comorbidities": []}, "comorbidities",
     "Tick the conditions they have, or “None of these”."),
])
def test_a_carers_messages_speak_of_the_person_they_help(form_class, posted, field, message):
    form = bound(form_class, posted, previous={"respondent": "carer", "age": 34})
    assert messages_for(form, field) == message


def test_a_carers_consent_is_told_from_the_patients_own_by_its_version():
    """The neurologist's page says whose the name is from the wording the result was sent with: a carer's (the name
    asked for is the patient's) or the patient's own (or a carer's before the carer's wording existed)."""
    carer, own = SubmitForm(carer=True), SubmitForm()
    assert carer.fields["contact_name"].label == "Name of the person with MS (optional)"
    assert carer_consent(carer.consent_version) and not carer_consent(own.consent_version)
    assert not carer_consent("2026-11-2") and not carer_consent("")  # the earlier wording; none recorded
