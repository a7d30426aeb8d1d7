"""The patient flow through the Django test client: what a patient would notice, and what the quality bars promise
(PRODUCT.md §6, §9). Browser tests live in tests/e2e/."""

import json
import math
import re
from datetime import datetime, time, timedelta
from html import unescape
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape

from screening import forms, services
from screening.forms import (CARER_CONSENT_LABEL, CARER_CONSENT_TEXT, CARER_CONSENT_VERSION, CONSENT_LABEL,
                             CONSENT_POINTS, CONSENT_TEXT, CONSENT_VERSION, STEPS, STEPS_BY_SLUG, as_form_data)
from screening.models import NEW_CODE_ALPHABET, AuditEvent, CriteriaSet, Criterion, Draft, Note, Screening, hash_code
from screening.views import DRAFT, SUBMIT_TYPED, WITHDRAW_TYPED
from screening.views import RESULT as VIEWS_RESULT

from .factories import answers, make_criterion
from .test_forms import browser_post, said_to_the_person

pytestmark = pytest.mark.django_db

ALL_SLUGS = [step.slug for step in STEPS]
NOT_WALKING = [slug for slug in ALL_SLUGS if not slug.startswith("walking")]
HOME, REVIEW, RESULT = "/", "/check/review/", "/result/"


# ---------------------------------------------------------------- helpers


class RecordingClient(Client):
    """A test client that keeps every response it received, redirects included."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responses = []

    def request(self, **request):
        response = super().request(**request)
        self.responses.append(response)
        return response


@pytest.fixture
def patient():
    return RecordingClient()


def html(response):
    return response.content.decode()


def step_url(slug):
    return reverse("step", kwargs={"slug": slug})


def slug_of(location):
    match = resolve(urlsplit(location).path)
    return match.kwargs.get("slug") if match.url_name == "step" else None


def post_step(client, slug, raw, action="next", **extra):
    """Post one step as a browser would for a person answering as in ``raw``."""
    post = browser_post(STEPS_BY_SLUG[slug], raw)
    data = {key: post.getlist(key) for key in post}
    return client.post(step_url(slug), {**data, "action": action, **extra})


def post_raw_step(client, slug, data, action="next"):
    return client.post(step_url(slug), {**data, "action": action})


STEP_COUNT = re.compile(r"Step (\d+) of (\d+)")


def answer_steps(client, raw, *, until=None):
    """Start and answer each step the site asks for, following its redirects, until the review (or ``until``).

    Returns ``[(slug, n, N), ...]`` as read from each step page.
    """
    response = client.post(reverse("start"), {"confirm": "yes"})  # empty answers, even over some in progress
    assert response.status_code == 302
    shown = []
    while response["Location"] != REVIEW:
        slug = slug_of(response["Location"])
        assert slug, response["Location"]
        if slug == until:
            return shown
        page = client.get(response["Location"])
        assert page.status_code == 200
        n, total = STEP_COUNT.search(html(page)).groups()
        shown.append((slug, int(n), int(total)))
        response = post_step(client, slug, raw)
        assert response.status_code == 302, (slug, html(response))
        assert len(shown) <= len(STEPS), shown
    return shown


def see_result(client, raw):
    answer_steps(client, raw)
    response = client.post(reverse("result_create"))
    assert response.status_code == 302 and response["Location"] == RESULT
    return Screening.objects.latest("pk")


def read_codes(page):
    text = html(page)
    reference = re.search(r'data-code="reference">\s*([^<\s]+)\s*<', text).group(1)
    access = re.search(r'data-code="access">\s*([^<\s]+)\s*<', text).group(1)
    return reference, access


def submit(client, raw, **contact):
    """Answer, see the result, send it with consent; returns the screening and the two codes shown."""
    screening = see_result(client, raw)
    response = client.post(reverse("submit"), {"consent": "on", **contact})
    assert response.status_code == 302 and response["Location"] == reverse("submitted")
    reference, access = read_codes(client.get(reverse("submitted")))
    screening.refresh_from_db()
    return screening, reference, access


def look_up(client, reference, access, **extra):
    return client.post(reverse("status"), {"reference": reference, "access_code": access}, **extra)


def read_resume_code(page):
    match = re.search(r'class="code-box"[^>]*>\s*([^<\s]+)\s*<', html(page))
    return match.group(1) if match else None


def field_block(text, name):
    """The HTML of one field's wrapper: its label or legend, input(s), hint and message."""
    start = text.index(f'id="div_id_{name}"')
    end = min(i for i in (text.find('id="div_id_', start + 1), text.find("</form>", start)) if i != -1)
    return text[start:end]


def input_tags(text, name):
    return re.findall(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', text)


def text_value(text, name):
    (tag,) = input_tags(text, name)
    match = re.search(r'\bvalue="([^"]*)"', tag)
    return match.group(1) if match else None


def checked_values(text, name):
    return [re.search(r'\bvalue="([^"]*)"', tag).group(1) for tag in input_tags(text, name)
            if re.search(r"\schecked\b", tag)]


def selected_option(text, name):
    select = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', text, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select)


def error_summary(text):
    match = re.search(r'<div class="error-summary".*?</div>', text, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip() if match else None


def stored_text():
    """Everything the database holds, as text: every row of every model, sessions decoded."""
    chunks = [repr(row) for model in apps.get_models() for row in model._base_manager.all().values()]
    chunks += [repr(session.get_decoded()) for session in Session.objects.all()]
    return "\n".join(chunks)


def urls_in(response):
    """Every URL a response sends the browser to or lets it follow: Location, href, action, src."""
    found = [response["Location"]] if response.has_header("Location") else []
    if response.get("Content-Type", "").startswith("text/html"):
        found += re.findall(r'\b(?:href|action|src|formaction)="([^"]*)"', html(response))
    return found


def set_draft(client, data):
    """A draft holding ``data`` (form data as the steps keep it), opened in ``client`` (its cookie)."""
    draft, token = services.draft_create()
    draft.data = data
    draft.save()
    client.cookies[DRAFT] = token
    return draft


# ---------------------------------------------------------------- the whole flow

FLOW_ANSWERS = answers(age=47, diagnosis_year=2019, diagnosis_month=7)


def test_the_whole_flow_from_start_to_withdrawal(shipped_criteria, patient):
    shown = answer_steps(patient, FLOW_ANSWERS)
    assert shown == [("about-you", 1, 10), ("diagnosis", 2, 10), ("edss", 3, 10), ("relapses", 4, 8),
                     ("treatments", 5, 8), ("treatment-response", 6, 8), ("health", 7, 8), ("region", 8, 8)]
    draft = Draft.objects.get()
    assert draft.data["age"] == "47" and draft.data["dmts"] == ["fumarate", "natalizumab"]

    review = patient.get(REVIEW)
    assert review.status_code == 200
    assert "47" in html(review) and "Natalizumab (Tysabri)" in html(review)
    assert 'action="/check/result/"' in html(review)

    response = patient.post(reverse("result_create"))
    assert response.status_code == 302 and response["Location"] == RESULT
    screening = Screening.objects.get()
    assert screening.status == Screening.Status.SCORED
    assert screening.answers["age"] == 47 and screening.answers["edss"] == 3.5
    assert screening.primary_verdict == "likely" and screening.snapshot[0]["set"] == "article"

    result = patient.get(RESULT)
    assert result.status_code == 200
    assert 'data-verdict="likely"' in html(result) and "not medical advice" in html(result)

    assert patient.get(reverse("submit")).status_code == 200
    response = patient.post(reverse("submit"), {"consent": "on", "contact_name": "Jo Bloggs",
                                                "contact_details": "jo@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("submitted")
    reference, access = read_codes(patient.get(reverse("submitted")))
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED and screening.reference == reference
    assert screening.contact_name == "Jo Bloggs" and screening.submitted_at is not None
    assert AuditEvent.objects.filter(action="submitted", screening=screening).exists()

    response = look_up(patient, reference, access)
    assert response.status_code == 302 and response["Location"] == reverse("status_detail")
    detail = patient.get(reverse("status_detail"))
    assert detail.status_code == 200
    assert reference in html(detail) and 'data-status="submitted"' in html(detail)
    assert f'href="{HOME}">Done: back to the start page</a>' in html(detail)  # a way on, not only "withdraw"

    response = patient.post(reverse("withdraw"), {"confirm": "on"}, follow=True)
    assert response.redirect_chain == [(reverse("withdrawn"), 302)] and "withdrawn" in html(response)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.WITHDRAWN and screening.withdrawn_at is not None


@pytest.mark.parametrize("raw, path", [
    (answers(edss=None, walking_aid="one_sided", walking_distance="100_199"), ALL_SLUGS),
    (answers(edss=None, walking_aid="wheelchair", dmts=[]),
     [s for s in ALL_SLUGS if s not in ("walking-distance", "treatment-response")]),
    (answers(dmts=["fumarate"]), NOT_WALKING),
], ids=["walks with a stick", "wheelchair, no medicine", "moderate medicine"])
def test_the_site_asks_only_the_steps_that_apply(shipped_criteria, patient, raw, path):
    if raw["dmts"] == ["fumarate"]:
        raw = {k: v for k, v in raw.items() if k != "activity_on_high_efficacy_dmt"}
    shown = answer_steps(patient, raw)
    assert [slug for slug, _n, _total in shown] == path
    assert [n for _slug, n, _total in shown] == list(range(1, len(path) + 1))
    assert shown[-1][2] == len(path)  # the last step says "Step N of N"
    assert patient.post(reverse("result_create"))["Location"] == RESULT


def test_leaving_the_optional_region_unanswered_still_lets_you_see_your_result(shipped_criteria, patient):
    """`region` is optional (PRODUCT.md §2): choosing nothing on that step must not block the result."""
    raw = {key: value for key, value in answers().items() if key != "region"}
    answer_steps(patient, raw)  # the region step is posted with no option chosen
    review = patient.get(REVIEW)
    assert "Some questions still need an answer" not in html(review)
    response = patient.post(reverse("result_create"))
    assert response["Location"] == RESULT


def test_changing_an_answer_from_the_review_page_returns_to_it_via_any_new_question(shipped_criteria, patient):
    answer_steps(patient, answers())
    page = patient.get(step_url("edss") + "?return=review")
    assert 'name="return" value="review"' in html(page)
    response = post_step(patient, "edss", {"edss": None}, **{"return": "review"})
    assert urlsplit(response["Location"]).path == step_url("walking-aid")  # "don't know" brings a new question
    page = patient.get(response["Location"])
    # the button said "Save and return to review": the page says why it is another question instead
    assert "Saved. This question needs an answer too, then you go back to the review." in html(page)
    carried = {"return": "review"} if 'name="return" value="review"' in html(page) else {}
    response = post_step(patient, "walking-aid", {"walking_aid": "wheelchair"}, **carried)
    # the new question answered, back to the review, where that answer is: not on through every step answered
    assert response["Location"] == f"{REVIEW}#section-walking-aid"

    review = html(patient.get(REVIEW))
    change = re.search(r'<a href="([^"]+)">Change<span class="visually-hidden"> How many relapses have you had in the '
                       r'last 3 years\?', review).group(1)
    assert unescape(change) == step_url("relapses") + "?return=review#div_id_relapses_36m"  # to the question itself
    page = patient.get(step_url("relapses") + "?return=review")
    assert 'name="return" value="review"' in html(page) and 'id="div_id_relapses_36m"' in html(page)
    response = post_step(patient, "relapses", answers(relapses_12m=0, relapses_36m=1), **{"return": "review"})
    assert response["Location"] == f"{REVIEW}#section-relapses"
    assert 'id="section-relapses"' in html(patient.get(REVIEW))
    assert Draft.objects.get().data["relapses_36m"] == "1"


def test_an_answer_made_wrong_by_a_later_change_is_shown_with_its_message(shipped_criteria, patient):
    answer_steps(patient, answers(age=60, diagnosis_year=1980))
    response = post_step(patient, "about-you", answers(age=20), **{"return": "review"})
    assert urlsplit(response["Location"]).path == step_url("diagnosis")

    text = html(patient.get(response["Location"]))  # before pressing anything: why, next to the field
    assert "before you were born" in field_block(text, "diagnosis_year")
    assert "before you were born" in error_summary(text)
    assert text_value(text, "diagnosis_year") == "1980"

    review = html(patient.get(REVIEW))
    section = review[review.index("Your diagnosis"):review.index("Your disability score")]
    assert "before you were born" in section
    assert ">Change<" in section and ">Answer<" not in section  # the answers are there: they need changing
    assert re.search(r"<title>\s*Error:", review) and "Some answers need correcting" in review


def test_a_new_step_shows_no_message_before_it_is_answered(shipped_criteria, patient):
    answer_until(patient, "diagnosis")
    post_raw_step(patient, "diagnosis", {}, action="save")  # saved before choosing anything
    text = html(patient.get(step_url("diagnosis")))
    assert error_summary(text) is None and "Error:" not in re.search(r"<title>(.*?)</title>", text, re.S).group(1)

    post_raw_step(patient, "diagnosis", {"diagnosis_year": "20x9"}, action="save")  # one answer typed, wrongly
    text = html(patient.get(step_url("diagnosis")))
    assert "four digits" in field_block(text, "diagnosis_year")
    assert "Choose one answer" not in text  # the questions not answered yet ask for nothing yet


def test_back_from_a_step_opened_from_the_review_keeps_the_way_back_to_it(shipped_criteria, patient):
    answer_steps(patient, answers())
    response = post_step(patient, "edss", answers(), action="back", **{"return": "review"})
    assert response["Location"] == step_url("diagnosis") + "?return=review"



def test_the_review_shows_a_skipped_optional_question_as_the_answer_it_counts_as(shipped_criteria, patient):
    """Not "No answer given" while the result reads "you" as the person with MS: what the check took it as."""
    answer_steps(patient, {**answers(), "respondent": None})
    review = html(patient.get(REVIEW))
    row = re.search(r"<dt>Who is filling in this check\?</dt>\s*<dd>(.*?)</dd>", review).group(1)
    assert row == "Not answered, so taken as: I am filling it in for myself"


def test_a_step_that_does_not_apply_sends_you_on(shipped_criteria, patient):
    answer_steps(patient, answers())
    response = patient.get(step_url("walking-aid"))  # the EDSS was given
    assert response.status_code == 302 and response["Location"] == REVIEW


EARLIER_ANSWERS = {"walking-aid": {"edss": ""}, "walking-distance": {"edss": "", "walking_aid": "none"},
                   "treatment-response": {"dmts": ["natalizumab"]}}


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_no_option_is_chosen_for_you_on_a_new_step(db, patient, slug):
    """PRODUCT.md §6: no radio button is pre-selected, not even "I don't know" or "I'd rather not say"."""
    set_draft(patient, EARLIER_ANSWERS.get(slug, {}))
    page = patient.get(step_url(slug))
    assert page.status_code == 200
    text = html(page)
    preselected = [tag for tag in re.findall(r'<input[^>]*type="(?:radio|checkbox)"[^>]*>', text)
                   if re.search(r"\schecked\b", tag)]
    assert preselected == []


# ---------------------------------------------------------------- bad input: message next to the field, nothing lost

INVALID_STEPS = [
    # (step, posted as typed, field with the message, words of the message, typed values to find again)
    ("about-you", {"age": "15", "respondent": "carer"}, "age", "16 and over",
     {"age": "15", "respondent": ["carer"]}),
    ("about-you", {"age": "abc"}, "age", "whole number", {"age": "abc"}),
    ("about-you", {"age": "-41"}, "age", "whole number", {"age": "-41"}),  # a stray minus: not "16 and over"
    ("diagnosis", {"diagnosis_confirmed": "yes", "ms_type": "spms", "diagnosis_year": "1980",
                   "diagnosis_month": "4"}, "diagnosis_year", "before you were born",
     {"diagnosis_year": "1980", "ms_type": ["spms"], "diagnosis_confirmed": ["yes"], "diagnosis_month": ["4"]}),
    ("diagnosis", {"diagnosis_confirmed": "no", "ms_type": "rrms", "diagnosis_year": "2099",
                   "diagnosis_month": ""}, "diagnosis_year", "cannot be in the future", {"diagnosis_year": "2099"}),
    ("edss", {}, "edss", "Choose your score", {}),
    ("relapses", {"relapses_12m": "3", "relapses_36m": "1", "mri_activity_12m": "unsure"}, "relapses_36m",
     "enter 3 or more", {"relapses_12m": "3", "relapses_36m": "1", "mri_activity_12m": ["unsure"]}),
    ("relapses", {"relapses_12m": "lots", "relapses_36m": "", "mri_activity_12m": "no"}, "relapses_12m",
     "whole number", {"relapses_12m": "lots", "mri_activity_12m": ["no"]}),
    ("health", {"comorbidities": ["heart", "lung"], "pregnancy": "planning"}, "prior_hsct", "Choose one answer",
     {"comorbidities": ["heart", "lung"], "pregnancy": ["planning"]}),
]


def answer_until(client, slug, raw=None):
    answer_steps(client, raw or answers(age=34), until=slug)


def assert_typed_values_shown(text, typed):
    for name, value in typed.items():
        if isinstance(value, list):
            if re.search(rf'<select[^>]*\bname="{name}"', text):
                assert selected_option(text, name) == value, name
            else:
                assert checked_values(text, name) == value, name
        else:
            assert text_value(text, name) == value, name


@pytest.mark.parametrize("slug, posted, field, words, typed", INVALID_STEPS,
                         ids=[f"{case[0]}-{case[2]}-{case[3]}" for case in INVALID_STEPS])
def test_an_invalid_step_is_shown_again_with_the_message_next_to_the_field_and_what_was_typed(
        shipped_criteria, patient, slug, posted, field, words, typed):
    answer_until(patient, slug)
    response = post_raw_step(patient, slug, posted)
    assert response.status_code == 302 and response["Location"] == f"{step_url(slug)}?errors=1"
    response = patient.get(response["Location"])
    assert response.status_code == 200
    text = html(response)
    block = field_block(text, field)
    assert words in block and f'id="id_{field}_error"' in block
    assert words in error_summary(text)
    assert "Error:" in re.search(r"<title>(.*?)</title>", text, re.S).group(1)
    assert_typed_values_shown(text, typed)
    saved = Draft.objects.get().data
    for name, value in posted.items():
        assert saved[name] == value, name  # the draft keeps what was typed, valid or not


@pytest.mark.parametrize("relapses, mri, hinted", [("2", "no", True), ("0", "yes", True), ("0", "no", False),
                                                  ("0", "unsure", False)])
def test_the_treatment_response_question_reminds_of_this_years_activity(shipped_criteria, patient, relapses, mri,
                                                                         hinted):
    """Someone with relapses this year who answers No (thinking of a medicine that once worked) would read that
    their MS is kept quiet by medicine: the question is shown with what they said about this year."""
    answer_until(patient, "relapses")
    post_raw_step(patient, "relapses", {"relapses_12m": relapses, "relapses_36m": "3", "mri_activity_12m": mri})
    post_step(patient, "treatments", answers())
    page = unescape(html(patient.get(step_url("treatment-response"))))
    assert ("You told us about a relapse or new MRI activity in the last 12 months." in page) is hinted
    # which medicines, and which question: not "one of these medicines" and "the answer below"
    assert ("6 months on one of the MS medicines you ticked, answer Yes to the first question" in page) is hinted
    # the names carry their own commas and brackets: a list of them inside brackets ended "(Tysabri))," and could not
    # be told apart, so they are listed after the sentence, one from the next by a semicolon
    assert ("You ticked: Dimethyl or diroximel fumarate (Tecfidera, Vumerity); Natalizumab (Tysabri)." in page) is hinted
    assert "))" not in page


def test_the_browsers_back_button_after_a_corrected_step_shows_the_correction_and_resends_nothing(
        shipped_criteria, patient):
    """The page with the messages is reached by a redirect, so the browser's history holds no post: Back (or a
    reload) after correcting the year shows the corrected year, instead of "Confirm form resubmission" and then the
    old, wrong year sent again over the right one."""
    answer_until(patient, "diagnosis")
    wrong = {"diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": "1970", "diagnosis_month": "3"}
    with_errors = post_raw_step(patient, "diagnosis", wrong)["Location"]
    assert "before you were born" in error_summary(html(patient.get(with_errors)))
    assert post_raw_step(patient, "diagnosis", {**wrong, "diagnosis_year": "2015"}).status_code == 302

    back = html(patient.get(with_errors))
    assert not error_summary(back) and "before you were born" not in back
    assert_typed_values_shown(back, {"diagnosis_year": "2015"})
    assert Draft.objects.get().data["diagnosis_year"] == "2015"


@pytest.mark.parametrize("slug, posted, previous, typed", [
    ("diagnosis", {"diagnosis_confirmed": "unsure", "ms_type": "ppms", "diagnosis_year": "19x",
                   "diagnosis_month": "11"}, "about-you",
     {"diagnosis_year": "19x", "ms_type": ["ppms"], "diagnosis_confirmed": ["unsure"], "diagnosis_month": ["11"]}),
    ("relapses", {"relapses_12m": "4", "relapses_36m": "2", "mri_activity_12m": "yes"}, "edss",
     {"relapses_12m": "4", "relapses_36m": "2", "mri_activity_12m": ["yes"]}),
    ("about-you", {"age": "twelve", "respondent": "self"}, None, {"age": "twelve", "respondent": ["self"]}),
])
def test_back_on_an_invalid_step_keeps_what_was_typed(shipped_criteria, patient, slug, posted, previous, typed):
    answer_until(patient, slug)
    response = post_raw_step(patient, slug, posted, action="back")
    assert response.status_code == 302
    assert response["Location"] == (step_url(previous) if previous else HOME)
    again = patient.get(step_url(slug))
    assert again.status_code == 200
    assert_typed_values_shown(html(again), typed)


def test_continue_after_fixing_an_invalid_answer_goes_on(shipped_criteria, patient):
    answer_until(patient, "diagnosis")
    post_raw_step(patient, "diagnosis", {"diagnosis_year": "abc"})
    response = post_step(patient, "diagnosis", answers(age=34))
    assert response.status_code == 302 and response["Location"] == step_url("edss")
    assert Draft.objects.get().data["diagnosis_year"] == "2021"


# ---------------------------------------------------------------- save and resume


@pytest.mark.parametrize("action", ["back", "save"])
def test_back_or_save_with_no_medicine_ticked_leaves_the_question_unanswered(shipped_criteria, patient, action):
    """Leaving the medicines step with Back or "Save and finish later" before ticking anything is not the answer
    "I have never taken an MS medicine": the question is still to answer, not skipped and scored as never treated."""
    answer_until(patient, "treatments")
    assert post_raw_step(patient, "treatments", {}, action=action).status_code == 302
    assert "dmts" not in Draft.objects.get().data
    review = html(patient.get(REVIEW))
    assert f'href="{step_url("treatments")}?return=review">Answer the remaining questions' in review


def test_the_medicines_question_says_what_to_tick_when_you_do_not_remember_which(shipped_criteria, patient):
    """Left unticked, the answer reads "never treated" (PRODUCT.md §2): someone who forgot the name is told the way
    that keeps them counted as treated."""
    answer_until(patient, "treatments")
    page = unescape(html(patient.get(step_url("treatments"))))
    assert "If you took one but do not remember which, tick “Another MS medicine”" in page
    # which the check cannot count as high-efficacy (PRODUCT.md §3: only those named are): how to be counted
    assert "the check counts a high-efficacy medicine only when it is ticked by name" in page
    # rituximab, an anti-CD20 medicine widely used for MS (off-label), is named, not left to "Another"
    assert "Ocrelizumab, ofatumumab, ublituximab or rituximab (Ocrevus, Kesimpta, Briumvi, MabThera, Truxima, " \
           "Rixathon)" in page


def test_unticking_every_medicine_and_going_back_keeps_the_change(shipped_criteria, patient):
    answer_until(patient, "treatments")
    post_step(patient, "treatments", answers(dmts=["natalizumab"]))
    page = html(patient.get(step_url("treatments")))
    assert '<input type="hidden" name="answered_before" value="dmts">' in page
    post_raw_step(patient, "treatments", {"answered_before": "dmts"}, action="back")
    assert Draft.objects.get().data["dmts"] == []


def save_on_edss(client):
    answer_until(client, "edss", answers(age=47))
    return post_raw_step(client, "edss", {"edss": "5.5"}, action="save")


def test_continuing_after_saving_needs_no_code_in_the_same_browser(shipped_criteria, patient):
    """The person who saved and changes their mind (or reloads the page, losing the code) goes on with their answers;
    on another device, "Continue now" asks for the code."""
    save_on_edss(patient)
    for page in (patient.get(reverse("saved")), patient.get(reverse("saved"))):  # the code shown, then gone
        assert f'href="{REVIEW}">Continue now' in html(page)
    assert patient.get(REVIEW).status_code == 200
    elsewhere = Client().get(reverse("saved"), follow=True)
    assert elsewhere.redirect_chain == [(HOME, 302)] and "use your resume code" in html(elsewhere)
    assert f'href="{reverse("resume")}">I have a resume code' in html(elsewhere)


def test_saving_on_the_review_page_gives_a_resume_code(shipped_criteria, patient):
    """Tired, or not ready to see a result today: the last page before it keeps the answers for another day."""
    answer_steps(patient, answers())
    assert 'action="/check/save/"' in html(patient.get(REVIEW))
    assert patient.post(reverse("answers_save"))["Location"] == reverse("saved")
    saved = patient.get(reverse("saved"))
    assert read_resume_code(saved) and "only the newest one works" in html(saved)
    # where to type it another day, written out for paper, where links do not work
    assert '<strong class="web-address">http://testserver/check/resume/</strong>' in html(saved)


def test_the_resume_code_says_when_it_was_given_and_the_last_day_it_surely_works(shipped_criteria, patient):
    """Printed and read weeks later: the day the code was given, and a day by which the answers are still there
    (they are deleted after so many days without a change, at the time of day they were saved)."""
    answer_until(patient, "relapses")
    patient.post(step_url("relapses"), {"action": "save"})
    today, days = timezone.localdate(), django_settings.DRAFT_RETENTION_DAYS
    use_by = today + timedelta(days=days - 1)
    page = html(patient.get(reverse("saved")))
    assert (f"Given on <strong>{date_format(today, 'j F Y')}</strong>. Use it by <strong>{date_format(use_by, 'j F Y')}"
            f"</strong>: saved answers left unchanged for {days} days are deleted.") in page
    services.purge_stale(before=timezone.make_aware(datetime.combine(use_by, time.max)) - timedelta(days=days))
    assert Draft.objects.exists(), "deleted before the day the page said to use the code by"


def test_a_resumed_check_says_the_answers_are_back_and_an_old_code_says_why_it_fails(shipped_criteria, patient):
    answer_until(patient, "relapses")
    patient.post(step_url("relapses"), {"action": "save"})
    first = read_resume_code(patient.get(reverse("saved")))
    patient.post(step_url("relapses"), {"action": "save"})
    second = read_resume_code(patient.get(reverse("saved")))
    elsewhere = Client()
    response = elsewhere.post(reverse("resume"), {"resume_code": first})
    assert "only the newest code works" in html(response)
    response = elsewhere.post(reverse("resume"), {"resume_code": second}, follow=True)
    assert "Welcome back: your answers are here as you saved them." in html(response)


def test_a_resume_code_asks_before_its_answers_replace_others_in_progress(shipped_criteria, patient):
    """Someone who began again on this device, then finds their code, does not lose today's answers unasked."""
    elsewhere = Client()
    answer_until(elsewhere, "relapses", answers(age=52))
    elsewhere.post(step_url("relapses"), {"action": "save"})
    code = read_resume_code(elsewhere.get(reverse("saved")))
    answer_until(patient, "relapses", answers(age=34))

    asked = patient.post(reverse("resume"), {"resume_code": code})
    assert asked.status_code == 200 and "Replace the answers in progress?" in html(asked)
    assert f'href="{REVIEW}">No, keep the answers in progress' in html(asked)
    assert 'action="/check/save/"' in html(asked)
    assert "34" in html(patient.get(REVIEW))  # nothing replaced yet

    replaced = patient.cookies[DRAFT].value
    response = patient.post(reverse("resume"), {"resume_code": code, "confirm": "yes"}, follow=True)
    assert "Welcome back: your answers are here as you saved them." in html(response)
    assert "52" in html(patient.get(REVIEW))
    assert not Draft.objects.filter(token_hash=hash_code(replaced)).exists()  # not kept, unreachable, for 30 days


def test_answers_in_progress_saved_first_as_the_question_suggests_are_not_asked_about_again(shipped_criteria,
                                                                                             patient):
    """"Save them first, then enter your code again": the second time, nothing is at risk (their own code keeps
    them), so the code opens its answers, and the code just written down still works."""
    elsewhere = Client()
    answer_until(elsewhere, "relapses", answers(age=52))
    elsewhere.post(step_url("relapses"), {"action": "save"})
    code = read_resume_code(elsewhere.get(reverse("saved")))
    answer_until(patient, "relapses", answers(age=34))
    assert "Replace the answers in progress?" in html(patient.post(reverse("resume"), {"resume_code": code}))
    patient.post(reverse("answers_save"))
    own_code = read_resume_code(patient.get(reverse("saved")))

    assert patient.post(reverse("resume"), {"resume_code": code}).status_code == 302  # not asked again
    assert "52" in html(patient.get(REVIEW))
    assert Client().post(reverse("resume"), {"resume_code": own_code}).status_code == 302


def test_a_resume_code_for_the_answers_already_here_or_over_none_asks_nothing(shipped_criteria, patient):
    answer_until(patient, "relapses")
    patient.post(step_url("relapses"), {"action": "save"})
    code = read_resume_code(patient.get(reverse("saved")))
    assert patient.post(reverse("resume"), {"resume_code": code}).status_code == 302
    fresh = Client()
    fresh.post(reverse("start"))
    assert fresh.post(reverse("resume"), {"resume_code": code}).status_code == 302


def test_save_shows_the_resume_code_once_and_stores_only_its_hash(shipped_criteria, patient):
    response = save_on_edss(patient)
    assert response.status_code == 302 and response["Location"] == reverse("saved")
    first = patient.get(reverse("saved"))
    code = read_resume_code(first)
    assert code
    second = patient.get(reverse("saved"))
    assert second.status_code == 200
    assert read_resume_code(second) is None and code not in html(second)

    draft = Draft.objects.get()
    assert draft.data["edss"] == "5.5"
    assert draft.resume_code_hash == hash_code(code) and draft.resume_code_hash != code
    everything = stored_text()
    for variant in (code, code.replace("-", ""), code.lower()):
        assert variant not in everything


@pytest.mark.parametrize("typed", [
    lambda code: code, lambda code: code.lower(), lambda code: f"  {code.replace('-', ' ')} ",
], ids=["as shown", "lower case", "spaces instead of dashes"])
def test_a_resume_code_restores_the_answers_in_a_new_browser(shipped_criteria, patient, typed):
    save_on_edss(patient)
    code = read_resume_code(patient.get(reverse("saved")))

    elsewhere = Client()
    response = elsewhere.post(reverse("resume"), {"resume_code": typed(code)})
    assert response.status_code == 302 and response["Location"] == step_url("relapses")  # the first unanswered
    about = html(elsewhere.get(step_url("about-you")))
    assert text_value(about, "age") == "47"
    assert checked_values(html(elsewhere.get(step_url("edss"))), "edss") == ["5.5"]
    assert "47" in html(elsewhere.get(REVIEW))


def test_a_result_can_be_saved_to_come_back_to_on_another_day(shipped_criteria, patient):
    """Someone who needs to rest or talk it over before sending: a resume code from the result page brings the
    answers back in a new browser, ready to be scored again; once sent, there is nothing to save."""
    screening = see_result(patient, answers(age=47))
    assert 'action="/check/save/"' in html(patient.get(RESULT))
    response = patient.post(reverse("answers_save"))
    assert response.status_code == 302 and response["Location"] == reverse("saved")
    code = read_resume_code(patient.get(reverse("saved")))

    elsewhere = Client()
    response = elsewhere.post(reverse("resume"), {"resume_code": code})
    assert response.status_code == 302 and response["Location"] == REVIEW  # every question answered
    assert "47" in html(elsewhere.get(REVIEW))
    assert elsewhere.post(reverse("result_create"))["Location"] == RESULT
    assert Screening.objects.latest("pk").pk != screening.pk  # scored again, on the day

    sender = Client()
    submit(sender, answers())
    assert 'action="/check/save/"' not in html(sender.get(RESULT))  # sent: the answers live in the submission
    assert sender.post(reverse("answers_save"))["Location"] == HOME


def test_the_pages_say_how_long_answers_are_kept_as_configured(shipped_criteria, patient, settings):
    settings.DRAFT_RETENTION_DAYS = 14
    assert "deleted after 14 days" in html(patient.get(HOME))
    save_on_edss(patient)
    assert "saved answers left unchanged for 14 days are deleted" in html(patient.get(reverse("saved")))
    response = Client().post(reverse("resume"), {"resume_code": "ABCDE-FGHJK-MNPQR-STVWX"})
    assert "deleted after 14 days" in field_block(html(response), "resume_code")


@pytest.mark.parametrize("code", ["ABCDE-FGHJK-MNPQR-STVWX", " abcde fghjk mnpqr stvwx "])
def test_a_wrong_resume_code_gets_a_message(shipped_criteria, patient, code):
    save_on_edss(patient)
    elsewhere = Client()
    response = elsewhere.post(reverse("resume"), {"resume_code": code})
    assert response.status_code == 200
    text = html(response)
    assert "We could not find answers for that code" in field_block(text, "resume_code")
    assert "deleted after 30 days, and as soon as their result is sent to a neurologist" in field_block(text, "resume_code")
    assert elsewhere.get(REVIEW)["Location"] == HOME  # nothing was opened


def test_an_empty_resume_code_gets_a_message(db, patient):
    response = patient.post(reverse("resume"), {"resume_code": ""})
    assert response.status_code == 200 and "Enter the code" in html(response)


# ---------------------------------------------------------------- status lookup and the rate limit


def test_a_session_key_known_before_the_codes_were_typed_does_not_open_the_status(shipped_criteria, patient):
    """Someone who set this browser's session cookie beforehand (a shared computer) and kept its value cannot
    read the message or withdraw: typing the codes gives the browser a new session key."""
    _screening, reference, access = submit(patient, answers())
    kiosk = Client()
    kiosk.get(reverse("status"))
    planted = SessionStore()
    planted.create()
    kiosk.cookies[django_settings.SESSION_COOKIE_NAME] = planted.session_key
    assert look_up(kiosk, reference, access)["Location"] == reverse("status_detail")
    assert kiosk.cookies[django_settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert kiosk.get(reverse("status_detail")).status_code == 200

    watcher = Client()
    watcher.cookies[django_settings.SESSION_COOKIE_NAME] = planted.session_key
    assert watcher.get(reverse("status_detail"))["Location"] == reverse("status")


def test_a_patients_own_steps_with_their_submission_record_no_address(shipped_criteria):
    """Sent, read, withdrawn: the audit log keeps what happened and when, but not where the person was."""
    browser = Client(REMOTE_ADDR="198.51.100.7")
    screening, reference, access = submit(browser, answers())
    look_up(browser, reference, access)
    browser.get(reverse("status_detail"))
    browser.post(reverse("withdraw"), {"confirm": "on"})
    events = dict(AuditEvent.objects.filter(screening=screening).values_list("action", "ip_address"))
    assert events == {"submitted": None, "status_viewed": None, "withdrawn": None}


def test_the_status_lookup_does_not_tell_which_code_was_wrong(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers())
    other_access = services.new_code()
    wrong_reference = "R-" + services.new_code(groups=4)
    cases = {
        "wrong reference": (wrong_reference, access),
        "wrong access code": (reference, other_access),
        "both wrong": (wrong_reference, other_access),
        "an access code as the reference": (access, other_access),
    }
    summaries = {}
    for name, (ref, acc) in cases.items():
        response = look_up(Client(), ref, acc)
        assert response.status_code == 200, name
        assert "We could not find a submission with those codes" in html(response), name
        summaries[name] = error_summary(html(response))
    assert len(set(summaries.values())) == 1, summaries


@pytest.mark.parametrize("reference, access", [("", ""), ("R-X", "")])
def test_a_status_lookup_with_a_missing_code_asks_for_it(db, patient, reference, access):
    response = look_up(patient, reference, access)
    assert response.status_code == 200
    assert "Enter the code" in field_block(html(response), "access_code")


@pytest.mark.parametrize("typed", [
    lambda code: f" {code.lower()} ", lambda code: code.replace("-", " "), lambda code: code.replace("-", ""),
], ids=["lower case", "spaces instead of dashes", "without dashes"])
def test_codes_typed_the_way_people_type_them_still_open_the_status(shipped_criteria, patient, typed):
    """The access code and the resume code forgive case, spaces and missing dashes; so must the reference."""
    screening, reference, access = submit(patient, answers())
    response = look_up(Client(), typed(reference), typed(access))
    assert response.status_code == 302 and response["Location"] == reverse("status_detail")


def test_the_two_codes_in_each_others_boxes_still_open_the_status_and_cost_no_try(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers())
    response = look_up(Client(), access, reference)
    assert response.status_code == 302 and response["Location"] == reverse("status_detail")
    assert not AuditEvent.objects.filter(action="status_lookup_failed").exists()


def test_the_last_tries_before_the_limit_are_counted_down(shipped_criteria, patient, settings):
    settings.LOOKUP_FAILURES_PER_HOUR = 5
    screening, reference, access = submit(patient, answers())
    someone = Client()
    said = [error_summary(html(look_up(someone, reference, services.new_code()))) for _ in range(5)]
    assert "You can try" not in said[0]  # no need to worry anyone early on
    assert "You can try 3 more times in the next hour." in said[1]
    assert "You can try 2 more times in the next hour." in said[2]
    assert "You can try once more in the next hour." in said[3]
    assert "For your security, you cannot try again for an hour." in said[4]
    assert look_up(someone, reference, access).status_code == 429


def submission_and_saved_draft(patient):
    """The codes of a submitted result, and the resume code of answers saved in progress."""
    _screening, reference, access = submit(patient, answers())
    draft, _token = services.draft_create()
    return reference, access, services.draft_issue_resume_code(draft)


def test_a_code_that_cannot_be_one_costs_no_try(shipped_criteria, patient, settings):
    """A person with a tremor who misses or doubles a key is told so, and keeps every try the limit allows."""
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    reference, access, resume_code = submission_and_saved_draft(patient)
    someone = Client()
    for slip in (access[:-1], access + access[-1], access.replace(access[3], "0", 1), reference):
        response = look_up(someone, reference, slip)
        assert response.status_code == 200
        assert "We could not find" not in html(response)
        assert slip in html(response)  # what was typed stays in the box, to correct
        assert someone.post(reverse("resume"), {"resume_code": resume_code[:-1]}).status_code == 200
    assert not AuditEvent.objects.filter(action__in=services.FAILED_LOOKUPS).exists()
    assert look_up(someone, reference, access)["Location"] == reverse("status_detail")
    assert someone.post(reverse("resume"), {"resume_code": resume_code}).status_code == 302


def test_after_too_many_failed_lookups_even_the_right_codes_are_refused(shipped_criteria, patient, settings):
    settings.LOOKUP_FAILURES_PER_HOUR = 3
    reference, access, resume_code = submission_and_saved_draft(patient)

    attacker = Client()
    for attempt in range(3):
        response = look_up(attacker, reference, services.new_code())
        assert response.status_code == 200, attempt

    blocked = look_up(attacker, reference, access)
    assert blocked.status_code == 429
    assert "Too many tries" in html(blocked)
    assert attacker.get(reverse("status_detail"))["Location"] == reverse("status")

    blocked = attacker.post(reverse("resume"), {"resume_code": resume_code})
    assert blocked.status_code == 429 and "Too many tries" in html(blocked)
    assert attacker.get(REVIEW)["Location"] == HOME

    other_address = look_up(Client(), reference, access, REMOTE_ADDR="198.51.100.7")
    assert other_address.status_code == 302



def test_an_ipv6_client_gets_no_fresh_tries_from_a_fresh_address_in_its_64(shipped_criteria, patient, settings):
    """A home, a phone or a server holds a whole IPv6 /64: a new address for each try must not escape the limit.
    Neighbours in another /64, or at the next IPv4 address, keep theirs; the audit log names the /64 it counted."""
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    reference, access, resume_code = submission_and_saved_draft(patient)
    look_up(Client(), reference, services.new_code(), REMOTE_ADDR="2001:db8:1:2::1")
    Client().post(reverse("resume"), {"resume_code": services.new_code()}, REMOTE_ADDR="2001:db8:1:2:a:b:c:d")
    for blocked in ("2001:db8:1:2::3", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        assert look_up(Client(), reference, access, REMOTE_ADDR=blocked).status_code == 429, blocked
        assert Client().post(reverse("resume"), {"resume_code": resume_code},
                             REMOTE_ADDR=blocked).status_code == 429, blocked
    assert look_up(Client(), reference, access, REMOTE_ADDR="2001:db8:1:3::1").status_code == 302
    recorded = set(AuditEvent.objects.filter(action__in=services.FAILED_LOOKUPS).values_list("ip_address", flat=True))
    assert recorded == {"2001:db8:1:2::/64"}

    for _attempt in range(2):  # IPv4: per address, whether or not a dual-stack server writes it as IPv6
        look_up(Client(), reference, services.new_code(), REMOTE_ADDR="::ffff:198.51.100.7")
    assert look_up(Client(), reference, access, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert look_up(Client(), reference, access, REMOTE_ADDR="198.51.100.8").status_code == 302


@pytest.mark.parametrize("behind_proxy", [True, False])
def test_behind_the_proxy_each_patient_has_their_own_lookup_limit(shipped_criteria, patient, settings, behind_proxy):
    """Every request comes from the proxy's address: one person's mistakes must not lock everyone out. Without a
    proxy, X-Forwarded-For is whatever the client sent, and changing it must not escape the limit."""
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    settings.BEHIND_TLS_PROXY = behind_proxy
    screening, reference, access = submit(patient, answers())
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(2):
        look_up(Client(), reference, services.new_code(), HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 198.51.100.7",
                **proxy)
    assert look_up(Client(), reference, access, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    other = look_up(Client(), reference, access, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).status_code
    assert other == (302 if behind_proxy else 429)
    recorded = set(AuditEvent.objects.filter(action="status_lookup_failed").values_list("ip_address", flat=True))
    assert recorded == ({"198.51.100.7"} if behind_proxy else {"10.0.0.2"})


@pytest.mark.parametrize("forwarded, recorded", [
    ("198.51.100.7", "198.51.100.7"), ("192.0.2.1, 198.51.100.7:51234", "198.51.100.7"),
    ("[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"), ("2001:db8::2", "2001:db8::/64"),  # a failed lookup's: its /64
    ("unknown", "10.0.0.2"), ("", "10.0.0.2"),
])
def test_behind_the_proxy_the_clients_address_is_read_as_proxies_write_it(db, settings, forwarded, recorded):
    settings.BEHIND_TLS_PROXY = True
    Client().post(reverse("resume"), {"resume_code": services.new_code()}, REMOTE_ADDR="10.0.0.2",
                  HTTP_X_FORWARDED_FOR=forwarded)
    assert AuditEvent.objects.get(action="resume_failed").ip_address == recorded


@pytest.mark.parametrize("behind_proxy, request_from", [
    (False, {"REMOTE_ADDR": ""}),  # gunicorn bound to a Unix socket (behind a web server): no address at all
    (False, {"REMOTE_ADDR": "unix:/run/gunicorn.sock"}),
    (True, {"REMOTE_ADDR": ""}),  # behind the proxy, which sent no X-Forwarded-For
    (True, {"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "unknown"}),
])
def test_lookups_without_a_readable_address_share_one_limit_rather_than_none(shipped_criteria, patient, settings,
                                                                              behind_proxy, request_from):
    """Failures were stored under no address and counted by the address "", which matched none of them: every
    lookup from such requests was allowed, without end. They now count together, as one client's."""
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    settings.BEHIND_TLS_PROXY = behind_proxy
    reference, access, resume_code = submission_and_saved_draft(patient)
    look_up(Client(), reference, services.new_code(), **request_from)
    Client().post(reverse("resume"), {"resume_code": services.new_code()}, **request_from)
    assert look_up(Client(), reference, access, **request_from).status_code == 429
    assert Client().post(reverse("resume"), {"resume_code": resume_code}, **request_from).status_code == 429
    assert look_up(Client(), reference, access, REMOTE_ADDR="198.51.100.8").status_code == 302  # others keep theirs
    recorded = set(AuditEvent.objects.filter(action__in=services.FAILED_LOOKUPS).values_list("ip_address", flat=True))
    assert recorded == {None}


def test_failed_lookups_older_than_an_hour_no_longer_count(shipped_criteria, patient, settings, monkeypatch):
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    screening, reference, access = submit(patient, answers())
    now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: now() - timedelta(hours=1, minutes=1))  # failures made back then
    for _attempt in range(2):
        look_up(Client(), reference, services.new_code())
    assert look_up(Client(), reference, access).status_code == 429
    monkeypatch.undo()
    assert look_up(Client(), reference, access).status_code == 302


def test_failed_resume_codes_count_towards_the_limit(db, patient, settings):
    settings.LOOKUP_FAILURES_PER_HOUR = 2
    for _attempt in range(2):
        assert patient.post(reverse("resume"), {"resume_code": services.new_code()}).status_code == 200
    assert patient.post(reverse("resume"), {"resume_code": services.new_code()}).status_code == 429
    assert look_up(patient, "R-AAAAA", "BBBBB").status_code == 429


# ---------------------------------------------------------------- codes


def code_bits(code):
    characters = [ch for ch in code.removeprefix("R-") if ch != "-"]
    assert set(characters) <= set(NEW_CODE_ALPHABET), code
    return len(characters) * math.log2(len(NEW_CODE_ALPHABET))


LOOKS_LIKE = {"B": "8", "S": "5", "Z": "2", "G": "6"}


def misread(code):
    """The code as someone might read it from a smudged printout: each letter with a look-alike digit as that digit."""
    return "".join(LOOKS_LIKE.get(ch, ch) for ch in code)


def test_new_codes_have_no_digit_that_looks_like_one_of_their_letters(shipped_criteria, patient):
    codes = [services.new_code() for _ in range(200)]
    assert not set("".join(codes)) & set("2568") and set("".join(codes)) >= {"B", "S", "Z", "G", "3", "4", "7", "9"}


def test_codes_read_with_a_look_alike_digit_still_open_the_status_and_the_answers(shipped_criteria, patient):
    """B read as 8, S as 5, Z as 2, G as 6: each slip cost one of the tries allowed in an hour."""
    screening, reference, access = submit(patient, answers())
    reference, access = "R-" + "BSZG" + reference[6:], "BSZG" + access[4:]  # sure to hold each letter
    Screening.objects.filter(pk=screening.pk).update(reference=reference, access_code_hash=hash_code(access))
    response = look_up(Client(), misread(reference), misread(access))
    assert response.status_code == 302 and response["Location"] == reverse("status_detail")
    assert not AuditEvent.objects.filter(action="status_lookup_failed").exists()
    saver = Client()
    answer_until(saver, "edss")
    saver.post(reverse("answers_save"))
    code = read_resume_code(saver.get(reverse("saved")))
    Draft.objects.filter(resume_code_hash=hash_code(code)).update(resume_code_hash=hash_code("BSZG" + code[4:]))
    elsewhere = Client()
    assert elsewhere.post(reverse("resume"), {"resume_code": misread("BSZG" + code[4:])}).status_code == 302
    assert not AuditEvent.objects.filter(action="resume_failed").exists()


def test_a_code_given_before_with_digits_new_codes_leave_out_still_works_as_typed(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers())
    old_reference, old_access = "R-8B5S2-" + reference[8:], "8B5S2" + access[5:]
    Screening.objects.filter(pk=screening.pk).update(reference=old_reference, access_code_hash=hash_code(old_access))
    response = look_up(Client(), old_reference, old_access)
    assert response.status_code == 302 and response["Location"] == reverse("status_detail")


def test_codes_are_random_long_and_stored_only_as_hashes(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers(), contact_name="Jo Bloggs")
    assert screening.access_code_hash == hash_code(access) != access
    assert code_bits(access) >= 80 and code_bits(reference) >= 80
    everything = stored_text()
    for variant in (access, access.replace("-", ""), access.lower()):
        assert variant not in everything

    _other, other_reference, other_access = submit(Client(), answers())
    assert other_reference != reference and other_access != access


def test_the_codes_page_gives_the_status_pages_full_address_for_paper(shipped_criteria, patient):
    """Printed, "Check the status of your result" is words without a link: the address is written out (no code in
    it)."""
    see_result(patient, answers())
    patient.post(reverse("submit"), {"consent": "on"})
    page = html(patient.get(reverse("submitted")))
    assert '<strong class="web-address">http://testserver/status/</strong>' in page


def test_the_codes_page_says_the_day_the_result_was_sent(shipped_criteria, patient):
    """Kept on paper with the codes, or looked at again later: which sending the codes belong to."""
    see_result(patient, answers())
    patient.post(reverse("submit"), {"consent": "on"})
    Screening.objects.filter(reference__gt="").update(
        submitted_at=timezone.make_aware(datetime(2026, 3, 4, 10, 30)))
    with_codes = html(patient.get(reverse("submitted")))
    assert 'data-code="access"' in with_codes and "Sent on 4 March 2026" in with_codes
    assert "Sent on 4 March 2026" in html(patient.get(reverse("submitted")))  # later, the reference alone


def test_codes_are_shown_once(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers())
    again = patient.get(reverse("submitted"))
    assert again.status_code == 200
    assert access not in html(again) and 'data-code="access"' not in html(again)
    assert f'data-code="reference">{reference}<' in html(again)  # not secret: shown again



def test_a_new_code_is_never_stored_in_plaintext_on_the_server_even_before_it_is_shown(shipped_criteria, patient,
                                                                                     monkeypatch):
    """Between "Send" (or "Save and finish later", or "Give me a new access code") and the page that shows the code,
    the code waits in this browser only: not in the database, its sessions or its backups, were that page never
    opened. Not shown within minutes, it is not shown at all."""
    def stored_until_shown(posted, page):
        posted()
        everything = stored_text()
        shown = patient.get(reverse(page))
        return everything, shown

    everything, shown = stored_until_shown(lambda: save_on_edss(patient), "saved")
    code = read_resume_code(shown)
    assert code and not any(variant in everything for variant in (code, code.replace("-", ""), code.lower()))

    see_result(patient, answers())
    everything, shown = stored_until_shown(lambda: patient.post(reverse("submit"), {"consent": "on"}), "submitted")
    reference, access = read_codes(shown)
    assert reference in everything and access not in everything and access.replace("-", "") not in everything
    everything, shown = stored_until_shown(lambda: patient.post(reverse("submitted")), "submitted")  # a new code
    reissued = read_codes(shown)[1]
    assert reissued != access and reissued not in everything
    assert look_up(Client(), reference, reissued)["Location"] == reverse("status_detail")

    someone = Client()
    save_on_edss(someone)
    now = signing.time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + 11 * 60)  # the page opened 11 minutes later
    late = someone.get(reverse("saved"))
    assert late.status_code == 200 and read_resume_code(late) is None


def test_codes_left_in_a_session_by_an_earlier_release_are_never_shown(shipped_criteria, patient):
    """Before codes waited in a signed cookie, they waited in the session (``show_codes``, ``show_resume_code``), and a
    session saved then may still hold them (migration 0019 drops them): no page reads them there any more."""
    screening, reference, access = submit(patient, answers())
    save_on_edss(patient)
    assert read_resume_code(patient.get(reverse("saved")))  # shown once: this browser holds no code to show now
    session = patient.session
    session["show_codes"] = {"reference": reference, "access_code": "KLMNP-QRSTV"}
    session["show_resume_code"] = "WXYZ2-3456A"
    session.save()
    for _ in range(2):
        sent = html(patient.get(reverse("submitted")))
        assert f'data-code="reference">{reference}<' in sent  # this browser sent it
        assert 'data-code="access"' not in sent and "KLMNP-QRSTV" not in sent
        assert read_resume_code(patient.get(reverse("saved"))) is None


@pytest.mark.parametrize("url", [reverse("submitted"), reverse("saved"), RESULT, reverse("submit")])
def test_a_page_about_something_done_in_another_browser_says_there_is_nothing_here(shipped_criteria, url):
    """Opened in a fresh browser (or one closed since), "Your result has been sent" or "Your answers are saved"
    would be untrue: the start page says what is and is not kept, and the ways on."""
    response = Client().get(url, follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    assert "There is no result to show in this browser" in html(response) or (
        "could not find answers in progress" in html(response))
    assert "has been sent" not in html(response) and "are saved" not in html(response)


def test_the_withdrawn_page_says_so_only_where_a_result_was_withdrawn(shipped_criteria, patient):
    assert Client().get(reverse("withdrawn"))["Location"] == HOME
    screening, reference, access = submit(patient, answers())
    look_up(patient, reference, access)
    patient.post(reverse("withdraw"), {"confirm": "on"})
    assert "Your result has been withdrawn" in html(patient.get(reverse("withdrawn")))


def test_the_saved_page_with_a_cookie_whose_answers_are_gone_says_nothing_was_found(db, patient):
    patient.cookies[DRAFT] = "made-up-token"
    response = patient.get(reverse("saved"), follow=True)
    assert response.redirect_chain == [(HOME, 302)] and "could not find answers in progress" in html(response)


def test_starting_over_answers_not_given_yet_asks_nothing(db, patient):
    patient.post(reverse("start"))
    assert patient.post(reverse("start"))["Location"] == step_url(STEPS[0].slug)


@pytest.mark.parametrize("respondent, said", [
    ("self", "Your result has been withdrawn Your answers, result and contact details have been erased."),
    ("carer", "This result has been withdrawn The answers, the result and the contact details have been erased."),
])
@pytest.mark.parametrize("where", ["here", "on another device"])
def test_after_withdrawal_the_sent_page_says_it_was_withdrawn_and_offers_no_new_code(shipped_criteria, patient,
                                                                                    respondent, said, where):
    """Back to the sent page (the browser's Back or history) after withdrawing, in this browser or with the codes
    on another device: not "has been sent" with its reference, nor "There is no result" and "check its status with
    your two codes", which open nothing any more. It was withdrawn and erased, and no new access code is offered or
    made for it."""
    screening, reference, access = submit(patient, answers(respondent=respondent))
    withdrawer = patient if where == "here" else Client()
    look_up(withdrawer, reference, access)
    withdrawer.post(reverse("withdraw"), {"confirm": "on"})

    for response in (patient.get(reverse("submitted")), patient.post(reverse("submitted"), follow=True)):
        assert response.status_code == 200, response.get("Location")  # not sent home: "There is no result"
        page = main_text(response)
        assert page.startswith(said), page
        assert "has been sent" not in page and reference not in page and "access code" not in page
        assert "There is no result to show" not in page and "<form" not in html(response).split("<main", 1)[1]
    screening.refresh_from_db()
    assert screening.access_code_hash == "" and screening.status == Screening.Status.WITHDRAWN
    assert not AuditEvent.objects.filter(action="access_code_reissued").exists()


@pytest.mark.parametrize("respondent, said", [
    ("self", "Your result has been withdrawn Your answers, result and contact details have been erased."),
    ("carer", "This result has been withdrawn The answers, the result and the contact details have been erased."),
])
@pytest.mark.parametrize("where", ["here", "on another device"])
def test_after_withdrawal_the_result_and_send_pages_say_it_was_withdrawn(shipped_criteria, patient, respondent, said,
                                                                         where):
    """The result page and the send page (Back, history, a tab left open) of a result withdrawn, in this browser or
    with the codes on another device: not sent home with "There is no result to show" and "check its status with
    your two codes", which open nothing any more. It was withdrawn and erased, as the sent page says."""
    screening, reference, access = submit(patient, answers(respondent=respondent))
    withdrawer = patient if where == "here" else Client()
    look_up(withdrawer, reference, access)
    withdrawer.post(reverse("withdraw"), {"confirm": "on"})

    for response in (patient.get(RESULT), patient.get(reverse("submit")),
                     patient.post(reverse("submit"), {"consent": "on"})):
        assert response.status_code == 200, response.get("Location")  # not sent home: "There is no result"
        page = main_text(response)
        assert page.startswith(said), page
        assert "There is no result to show" not in page and "two codes" not in page and reference not in page
        assert "<form" not in html(response).split("<main", 1)[1]
    screening.refresh_from_db()
    assert screening.status == Screening.Status.WITHDRAWN and screening.reference == reference


def test_withdrawing_another_submission_leaves_this_browsers_own_result(shipped_criteria, patient):
    """Someone helping checks and withdraws their own submission with its codes on the patient's computer: the
    patient's result, seen and sent from this browser, is still there, and so is its sent page. Withdrawing the
    browser's own result still takes it from the browser."""
    _, their_reference, their_access = submit(Client(), answers(respondent="carer"))
    _, reference, access = submit(patient, answers())
    look_up(patient, their_reference, their_access)
    patient.post(reverse("withdraw"), {"confirm": "on"})

    result = patient.get(RESULT)
    assert result.status_code == 200, result.get("Location")  # not sent home: "There is no result to show"
    assert main_text(result).startswith("Your result ") and "withdrawn" not in main_text(result)
    sent = patient.get(reverse("submitted"))
    assert sent.status_code == 200, sent.get("Location")
    assert main_text(sent).startswith("Your result has been sent")
    assert reference in main_text(sent) and their_reference not in main_text(sent)

    look_up(patient, reference, access)
    patient.post(reverse("withdraw"), {"confirm": "on"})
    assert patient.cookies[VIEWS_RESULT].value == ""  # gone from the browser, not only withdrawn


def test_the_sent_page_seen_again_after_a_newer_result_opens_that_result_not_no_result(shipped_criteria, patient):
    """Sent, then a new check scored in the same browser, then Back to the sent page: the browser does hold a
    result, the newer one (not sent), so that is where it goes, not home with "There is no result to show"."""
    submit(patient, answers())
    see_result(patient, answers(edss=6.0))
    again = patient.get(reverse("submitted"))
    assert again.status_code == 302 and again["Location"] == RESULT
    assert "data-verdict" in html(patient.get(RESULT))


@pytest.mark.parametrize("respondent, button", [("carer", "See the result for the new answers"),
                                                ("self", "See the result for my new answers")])
def test_a_carers_button_to_the_result_for_changed_answers_is_not_worded_as_the_carers_own(shipped_criteria, patient,
                                                                                         respondent, button):
    """Like the carer's other buttons under the result ("Change the answers"): "my new answers" read as the carer's."""
    see_result(patient, answers(respondent=respondent, edss=3.5))
    post_step(patient, "edss", answers(respondent=respondent, edss=7.0), **{"return": "review"})
    said = [" ".join(text.split()) for text in re.findall(r"<button\b[^>]*>(.*?)</button>", html(patient.get(RESULT)),
                                                          re.S)]
    assert said.count(button) == 2  # in the notice at the top and under "What next?"
    assert respondent == "self" or not any("my new answers" in text for text in said)


@pytest.mark.parametrize("respondent, said", [
    ("carer", "You have changed the answers since this result was worked out. This page still shows the result for "
              "the earlier answers."),
    ("self", "You have changed your answers since this result was worked out. This page still shows the result for "
             "your earlier answers."),
])
def test_a_carer_is_told_the_result_is_for_the_earlier_answers_not_their_own(shipped_criteria, patient, respondent,
                                                                             said):
    """Like the button under it ("See the result for the new answers"): "your earlier answers" read as the carer's."""
    see_result(patient, answers(respondent=respondent, edss=3.5))
    post_step(patient, "edss", answers(respondent=respondent, edss=7.0), **{"return": "review"})
    box = re.search(r'<div class="answers-changed.*?</div>', html(patient.get(RESULT)), re.S).group(0)
    assert said in " ".join(re.sub(r"<[^>]+>", " ", box).split())


def test_a_result_whose_answers_were_changed_since_says_so_and_is_not_sent(shipped_criteria, patient):
    """Back on the result after changing an answer (the browser's Back button, say): the page says it is for the
    earlier answers and offers the new result; the old one cannot be sent, and the change is not lost."""
    old = see_result(patient, answers(edss=3.5))
    assert "answers-changed" not in html(patient.get(RESULT))  # unchanged: nothing to say
    post_step(patient, "edss", answers(edss=7.0), **{"return": "review"})

    page = html(patient.get(RESULT))
    assert "You have changed your answers since this result was worked out" in page
    assert f'href="{reverse("submit")}"' not in page
    response = patient.get(reverse("submit"), follow=True)
    assert response.redirect_chain == [(RESULT, 302)] and "answers-changed" in html(response)
    patient.post(reverse("submit"), {"consent": "on"})
    old.refresh_from_db()
    assert old.status == Screening.Status.SCORED and Draft.objects.get().data["edss"] == "7.0"

    assert patient.post(reverse("result_create"))["Location"] == RESULT
    page = html(patient.get(RESULT))
    assert 'data-verdict="unlikely"' in page and "answers-changed" not in page


def test_a_result_whose_answers_were_changed_on_another_device_is_not_sent_either(shipped_criteria, patient):
    """Resumed with the code on a phone and changed there: the laptop's result says so too, and sending it there
    would have deleted the phone's new answers."""
    see_result(patient, answers(edss=3.5))
    patient.post(reverse("answers_save"))
    phone = Client()
    phone.post(reverse("resume"), {"resume_code": read_resume_code(patient.get(reverse("saved")))})
    post_step(phone, "edss", answers(edss=7.0), **{"return": "review"})
    assert "answers-changed" in html(patient.get(RESULT))
    assert patient.post(reverse("submit"), {"consent": "on"})["Location"] == RESULT
    assert Draft.objects.get().data["edss"] == "7.0" and phone.get(REVIEW).status_code == 200


def test_sending_a_result_deletes_the_earlier_results_of_the_same_answers(shipped_criteria, patient):
    """Seen once, changed, seen again and sent: the first result, with the answers as they were, goes too (a
    withdrawal could not reach it), while a result of other answers stays."""
    other = see_result(Client(), answers(age=60))
    first = see_result(patient, answers(pregnancy="planning"))
    post_step(patient, "edss", answers(edss=4.0), **{"return": "review"})
    patient.post(reverse("result_create"))
    patient.post(reverse("submit"), {"consent": "on"})
    assert not Screening.objects.filter(pk=first.pk).exists()
    assert Screening.objects.filter(pk=other.pk).exists()
    assert list(Screening.objects.values_list("status", flat=True)) == ["scored", "submitted"]


def test_once_sent_and_withdrawn_no_resume_code_opens_the_answers_again(shipped_criteria, patient):
    """Answers saved with a resume code, scored, left behind by starting again, then the result sent and withdrawn:
    "erased" holds for the saved copy too, whichever browser holds it. Answers begun since stay."""
    see_result(patient, answers(pregnancy="planning"))
    patient.post(reverse("answers_save"))
    code = read_resume_code(patient.get(reverse("saved")))
    patient.post(reverse("start"), {"confirm": "yes"})  # kept: the resume code still opens them
    post_step(patient, "about-you", answers(age=52))
    patient.post(reverse("submit"), {"consent": "on"})
    reference, access = read_codes(patient.get(reverse("submitted")))
    look_up(patient, reference, access)
    patient.post(reverse("withdraw"), {"confirm": "on"})

    response = Client().post(reverse("resume"), {"resume_code": code}, follow=True)
    assert "We could not find answers for that code" in html(response)
    assert "planning" not in json.dumps(list(Draft.objects.values_list("data", flat=True)))
    assert text_value(html(patient.get(step_url("about-you"))), "age") == "52"


def test_an_access_code_lost_before_it_was_written_down_can_be_replaced_in_the_same_browser(shipped_criteria,
                                                                                           patient):
    """Reloading the page (or a slip of the hand) must not lock the person out of the neurologist's message."""
    screening, reference, lost = submit(patient, answers())
    again = patient.get(reverse("submitted"))
    assert "Give me a new access code" in html(again)
    response = patient.post(reverse("submitted"))
    assert response.status_code == 302 and response["Location"] == reverse("submitted")
    shown_reference, access = read_codes(patient.get(reverse("submitted")))
    assert shown_reference == reference and access != lost
    assert "We could not find" in html(look_up(Client(), reference, lost))  # the old code stops working
    assert look_up(Client(), reference, access)["Location"] == reverse("status_detail")
    assert AuditEvent.objects.filter(action="access_code_reissued", screening=screening).count() == 1

    elsewhere = Client()  # without the browser's private result cookie: no new code
    assert elsewhere.post(reverse("submitted"))["Location"] == reverse("submitted")
    assert AuditEvent.objects.filter(action="access_code_reissued").count() == 1


def reissue_offered(client):
    return "Give me a new access code" in html(client.get(reverse("submitted")))


@pytest.mark.parametrize("later", ["the code was used", "an hour passed", "a neurologist opened it", "withdrawn"])
def test_an_access_code_in_use_or_after_the_first_hour_is_never_replaced(shipped_criteria, patient, later):
    """Whoever finds the browser later cannot take the submission from the person who kept the code."""
    screening, reference, access = submit(patient, answers())
    assert reissue_offered(patient)
    if later == "the code was used":
        owner = Client()
        look_up(owner, reference, access)
        assert owner.get(reverse("status_detail")).status_code == 200
    elif later == "an hour passed":
        Screening.objects.filter(pk=screening.pk).update(submitted_at=timezone.now() - timedelta(minutes=61))
    elif later == "a neurologist opened it":
        Screening.objects.filter(pk=screening.pk).update(status=Screening.Status.IN_REVIEW)
    else:
        services.screening_withdraw(screening=screening)
    assert not reissue_offered(patient)
    assert patient.post(reverse("submitted"))["Location"] == reverse("submitted")
    assert 'data-code="access"' not in html(patient.get(reverse("submitted")))
    assert not AuditEvent.objects.filter(action="access_code_reissued").exists()
    if later != "withdrawn":
        assert look_up(Client(), reference, access)["Location"] == reverse("status_detail")  # the code still works


def main_buttons(response):
    """The labels of the main part's primary buttons (class btn-primary), in order: what the page puts first."""
    main = html(response).split("<main", 1)[1].split("</main>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", label).split()) for label in
            re.findall(r'<(?:button|a)\b[^>]*class="[^"]*\bbtn-primary\b[^"]*"[^>]*>(.*?)</(?:button|a)>', main, re.S)]


def test_the_codes_page_makes_printing_them_its_main_action(shipped_criteria, patient):
    """Two codes of about 20 characters are hard to copy by hand with a tremor or blurred vision."""
    see_result(patient, answers())
    patient.post(reverse("submit"), {"consent": "on"})
    first = patient.get(reverse("submitted"))
    assert 'data-code="access"' in html(first)
    assert main_buttons(first) == ["Print this page"]


def test_the_sent_page_again_says_first_that_a_code_written_down_still_works(shipped_criteria, patient):
    """After a reload or the browser's Back (not only a double press), someone who wrote the code down must not
    replace it by mistake: that comes first, and the new code is offered as a lesser choice."""
    submit(patient, answers())  # the codes seen once
    again = patient.get(reverse("submitted"))
    said = main_text(again)
    still_works = said.index("If you wrote down or printed your private access code, it still works. "
                             "You do not need a new one.")
    assert "After a reload, the browser's Back button or a second press of the send button" in said
    assert still_works < said.index("If you did not get to write it down, you can get a new one.")
    assert "Give me a new access code" in said and main_buttons(again) == []


def test_the_saved_page_makes_printing_the_resume_code_its_main_action(shipped_criteria, patient):
    """As on the sent page: a code of 20 characters is hard to copy by hand with a tremor or blurred vision."""
    save_on_edss(patient)
    first = patient.get(reverse("saved"))
    assert read_resume_code(first) and main_buttons(first) == ["Print this page"]


@pytest.mark.parametrize("respondent, still_works", [
    ("self", "If you wrote down or printed your resume code, it still works. You do not need a new one."),
    ("carer", "If you wrote down or printed the resume code, it still works. You do not need a new one."),
])
def test_the_saved_page_again_says_first_that_a_resume_code_written_down_still_works(shipped_criteria, patient,
                                                                                     respondent, still_works):
    """After a reload, the browser's Back or a second press: a new code would stop the one written down from
    working, so the page first says that one still works, and offers a new one as a lesser choice."""
    answer_until(patient, "edss", answers(age=47, respondent=respondent))
    post_raw_step(patient, "edss", {"edss": "5.5"}, action="save")
    code = read_resume_code(patient.get(reverse("saved")))
    again = patient.get(reverse("saved"))
    said = main_text(again)
    assert read_resume_code(again) is None and code not in said
    assert said.index(still_works) < said.index(
        "The resume code is shown only once. After a reload, the browser's Back button or a second press of the save "
        "button, this page does not show it again.") < said.index(
        "If you did not get to write it down, you can get a new one. The one shown before then stops working.")
    assert "does not show your resume code" not in said and (respondent == "self" or "your resume code" not in said)
    assert main_buttons(again) == []
    assert re.search(r'<button type="submit" class="btn btn-outline-secondary btn-lg">Give me a new resume code<',
                     html(again))
    assert Client().post(reverse("resume"), {"resume_code": code}).status_code == 302  # it still opens the answers


def test_pressing_twice_replaces_the_access_code_once(shipped_criteria, patient):
    screening, reference, lost = submit(patient, answers())
    stale = Screening.objects.get(pk=screening.pk)  # as read by a second press before the first one saved
    patient.post(reverse("submitted"))
    _reference, shown = read_codes(patient.get(reverse("submitted")))
    assert services.screening_reissue_access_code(screening=stale) is None
    assert look_up(Client(), reference, shown)["Location"] == reverse("status_detail")
    assert AuditEvent.objects.filter(action="access_code_reissued").count() == 1



def test_the_pages_that_show_codes_offer_to_print_them(shipped_criteria, patient):
    """They say "write it down or print this page": a button does it (print.js), and the codes print, not the button."""
    save_on_edss(patient)
    saved = html(patient.get(reverse("saved")))
    other = Client()
    see_result(other, answers())
    other.post(reverse("submit"), {"consent": "on"})
    submitted = html(other.get(reverse("submitted")))
    for text in (saved, submitted):
        button = re.search(r'<p class="no-print">\s*<button type="button"[^>]*data-print>Print this page<', text)
        assert button and "/static/screening/print" in text and 'class="code-box"' in text


# ---------------------------------------------------------------- consent and submission


def kept_in_session(client, key):
    """What a form to correct left in the session, on the server, for its page to show once (``to_correct``)."""
    stored = Session.objects.get(session_key=client.session.session_key).get_decoded()
    return stored.get(key) and QueryDict(stored[key]["typed"]).dict()


def test_sending_without_consent_is_refused_and_keeps_the_contact_typed(shipped_criteria, patient):
    """Refused, and answered with a redirect (303) to the form's page, which shows what was typed with the message,
    once: the browser's Back never leads to Chrome's "Confirm Form Resubmission" page."""
    screening = see_result(patient, answers())
    response = patient.post(reverse("submit"), {"contact_name": "Jo Bloggs", "contact_details": "07700 900123",
                                                "csrfmiddlewaretoken": "a-token"})
    assert (response.status_code, response["Location"]) == (303, reverse("submit"))
    assert kept_in_session(patient, SUBMIT_TYPED) == {"contact_name": "Jo Bloggs",
                                                            "contact_details": "07700 900123"}  # not the token
    text = html(patient.get(reverse("submit")))
    assert "<title>Error: Send your result to a neurologist" in text
    assert "Tick the box to agree" in error_summary(text) and "Tick the box to agree" in field_block(text, "consent")
    assert text_value(text, "contact_name") == "Jo Bloggs"
    assert text_value(text, "contact_details") == "07700 900123"
    assert checked_values(text, "consent") == []  # the consent box starts unticked, and stays so
    again = html(patient.get(reverse("submit")))  # reloaded: the form as first shown
    assert "Error:" not in again and error_summary(again) is None and "Tick the box to agree" not in again
    assert text_value(again, "contact_name") is None and not kept_in_session(patient, SUBMIT_TYPED)
    screening.refresh_from_db()
    assert screening.reference is None and screening.status == Screening.Status.SCORED
    assert screening.consent_version == ""
    response = patient.post(reverse("submit"), {"consent": "on", "contact_name": "Jo Bloggs"})
    assert response["Location"] == reverse("submitted")
    screening.refresh_from_db()
    assert screening.reference and screening.contact_name == "Jo Bloggs"


def test_contact_details_too_long_are_kept_with_a_message_not_cut_short_by_the_browser(shipped_criteria, patient):
    """A maxlength made the browser drop the end of a pasted address without a word."""
    see_result(patient, answers())
    page = html(patient.get(reverse("submit")))
    assert "maxlength" not in page
    details = "pat@example.org; " * 20  # 340 characters, 339 once the last space is stripped
    assert patient.post(reverse("submit"), {"consent": "on", "contact_details": details}).status_code == 303
    response = patient.get(reverse("submit"))
    text = html(response)
    assert response.status_code == 200 and "This is 39 characters too long. Shorten it to 300 characters or fewer." in field_block(
        text, "contact_details")
    assert text_value(text, "contact_details") == details  # all of it, to shorten


def test_the_send_page_says_it_is_not_the_patients_own_neurologist(shipped_criteria, patient):
    """"The neurologists who use HSCT Self-Check" read as one's own neurologist, who then never saw it."""
    see_result(patient, answers())
    page = html(patient.get(reverse("submit")))
    assert "This does not send it to your own neurologist." in page
    assert page.index("your own neurologist") < page.index("What you agree to")


def test_the_send_page_speaks_to_a_carer_about_the_person_they_help(shipped_criteria, patient):
    """The result page tells a carer that "you" means the person with MS, and its button says "Send this result": the
    send page then said "Send your result" and "your own neurologist ... your appointment", the carer's own."""
    see_result(patient, answers(respondent="carer"))
    page = unescape(html(patient.get(reverse("submit")))).split("<main", 1)[1].split("</main>", 1)[0]  # not the footer
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert heading == "Send this result to a neurologist"
    assert "This does not send it to the neurologist of the person with MS." in page
    assert page.index("neurologist of the person with MS") < page.index("What you agree to")
    for own in ("Send your result", "your own neurologist", "your appointment", "your answers"):
        assert own not in page, own


@pytest.fixture
def neurologist_decides(db):
    """``(screening, decision, message)``: a decision saved as the neurologists' decision form saves it."""
    neurologist = get_user_model().objects.create_user("dr-decides", password="Correct-Horse-Battery-42")

    def decide(screening, decision, message):
        request = RequestFactory().post("/")
        request.user = neurologist
        services.review_decide(screening=screening, revision=Screening.objects.get(pk=screening.pk).revision,
                               decision=decision, message=message, internal_note="", request=request)
    return decide


def main_text(response):
    """What the page's main part says, tags left out and spaces squeezed (not the footer, nor the page title)."""
    main = unescape(html(response)).split("<main", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]).split())


@pytest.mark.parametrize("respondent, own, theirs", [
    ("carer", [], ["This result has been sent", "withdraw the result", "Check the status of this result",
                   "Status of this result", "Your reply goes with the result", "Withdraw this result",
                   "If you withdraw, the answers, the result and the contact details are erased",
                   "This result has been withdrawn", "The answers, the result and the contact details have been erased",
                   "with none of the answers or details"]),
    ("self", ["Your result has been sent", "withdraw your result", "Check the status of your result",
              "Status of your result", "Your reply goes with your result", "Withdraw your result",
              "If you withdraw, your answers, result and contact details are erased",
              "Your result has been withdrawn", "Your answers, result and contact details have been erased",
              "with none of your answers or details"], []),
])
def test_a_carer_who_sent_the_result_is_not_told_it_is_their_own(shipped_criteria, patient, neurologist_decides,
                                                                 respondent, own, theirs):
    """The result and send pages tell a carer "this result", "the answers": the pages after sending said "Your result
    has been sent", "Status of your result", "Withdraw your result", "your answers ... erased", the carer's own."""
    screening = see_result(patient, answers(respondent=respondent))
    patient.post(reverse("submit"), {"consent": "on"})
    sent = patient.get(reverse("submitted"))  # with the codes, shown once
    reference, access = read_codes(sent)
    said = [main_text(sent), html(sent).split("<title>", 1)[1].split("</title>", 1)[0]]
    look_up(patient, reference, access)
    neurologist_decides(screening, "more_info", "Which medicine?")
    said.append(main_text(patient.get(reverse("status_detail"))))
    said.append(main_text(patient.post(reverse("withdraw"), {"confirm": "on"}, follow=True)))
    text = " ".join(said)
    for words in own + theirs:
        assert words in text, words
    if respondent == "carer":
        assert "your result" not in text.lower() and "your answers" not in text.lower()


@pytest.mark.parametrize("respondent, decision_words, sent", [
    ("carer", "The neurologist does not suggest HSCT for the person with MS at the moment",
     "Your reply has been sent. The neurologist will read it with the result."),
    ("self", "The neurologist does not suggest HSCT for you at the moment",
     "Your reply has been sent. The neurologist will read it with your result."),
])
def test_the_status_page_tells_a_carer_what_the_neurologist_said_about_the_person_they_help(
        shipped_criteria, patient, neurologist_decides, respondent, decision_words, sent):
    """"Does not suggest HSCT for you" read as said about the carer, who sent the result and reads the message."""
    screening, reference, access = submit(patient, answers(respondent=respondent))
    look_up(patient, reference, access)
    neurologist_decides(screening, "more_info", "Which medicine?")
    response = patient.post(reverse("reply"), {"message": "Ocrelizumab.", "answering": screening.reviews.get().pk,
                                               "after": ""}, follow=True)
    assert sent in main_text(response)
    neurologist_decides(screening, "not_suitable", "Not now.")
    assert decision_words in main_text(patient.get(reverse("status_detail")))


def test_the_consent_box_starts_unticked(shipped_criteria, patient):
    see_result(patient, answers())
    page = patient.get(reverse("submit"))
    assert input_tags(html(page), "consent") and checked_values(html(page), "consent") == []


def test_the_consent_as_shown_is_stored_with_the_submission(shipped_criteria, patient):
    see_result(patient, answers())
    page = html(patient.get(reverse("submit")))
    shown = page.split('class="consent-points"', 1)[1]  # the details, above the box
    for point in CONSENT_POINTS:
        assert escape(str(point)) in shown.split('name="consent"', 1)[0] and str(point) in str(CONSENT_TEXT)
    patient = Client()
    screening, _reference, _access = submit(patient, answers(), contact_name="Jo", contact_details="jo@example.org")
    assert screening.consent_version == CONSENT_VERSION
    assert screening.consent_text == str(CONSENT_TEXT)
    assert screening.contact_name == "Jo" and screening.contact_details == "jo@example.org"


def test_someone_helping_confirms_that_the_person_with_ms_agrees(shipped_criteria, patient):
    """A carer sends someone else's health data: the box says the person with MS agrees, the name asked for is
    theirs, and that wording is what is stored."""
    see_result(patient, answers(respondent="carer"))
    page = html(patient.get(reverse("submit")))
    assert str(CARER_CONSENT_LABEL) in page and str(CONSENT_LABEL) not in page
    assert "Name of the person with MS (optional)" in page
    screening, _reference, _access = submit(Client(), answers(respondent="carer"), contact_name="Bob")
    assert screening.consent_version == CARER_CONSENT_VERSION != CONSENT_VERSION
    assert screening.consent_text == str(CARER_CONSENT_TEXT)
    assert screening.contact_name == "Bob"


def test_a_sent_result_cannot_be_sent_twice(shipped_criteria, patient):
    screening, reference, _access = submit(patient, answers())
    response = patient.post(reverse("submit"), {"consent": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("submitted")
    screening.refresh_from_db()
    assert screening.reference == reference


# ---------------------------------------------------------------- withdrawal


def withdraw(client, reference, access):
    assert look_up(client, reference, access).status_code == 302
    return client.post(reverse("withdraw"), {"confirm": "on"}, follow=True)


def test_withdrawal_needs_the_box_ticked(shipped_criteria, patient):
    """Answered with a redirect (303) to the status page, which says so once: Back after withdrawing no longer
    shows Chrome's "Confirm Form Resubmission ... repeat any action this page previously performed"."""
    screening, reference, access = submit(patient, answers())
    look_up(patient, reference, access)
    response = patient.post(reverse("withdraw"), {"csrfmiddlewaretoken": "a-token"})
    assert (response.status_code, response["Location"]) == (303, reverse("status_detail"))
    assert kept_in_session(patient, WITHDRAW_TYPED) == {}  # nothing typed, and not the token
    text = html(patient.get(reverse("status_detail")))
    assert "Tick the box to confirm" in field_block(text, "confirm")
    assert "Tick the box to confirm" in error_summary(text)
    assert "<title>Error: Status of your result" in text  # heard first by a screen reader
    again = html(patient.get(reverse("status_detail")))  # reloaded: the form as first shown
    assert "Error:" not in again and "Tick the box to confirm" not in again and 'name="confirm"' in again
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED and screening.answers
    assert patient.post(reverse("withdraw"), {"confirm": "on"})["Location"] == reverse("withdrawn")
    screening.refresh_from_db()
    assert screening.status == Screening.Status.WITHDRAWN


WITHDRAW_LOSES_MESSAGE = ("The neurologist's message is erased too: after withdrawing, you can no longer read it. "
                          "Print this page or write the message down first.")


@pytest.mark.parametrize("respondent, heading", [("self", "Withdraw your result"), ("carer", "Withdraw this result")])
def test_before_withdrawing_the_status_page_says_the_message_will_be_lost_and_offers_to_print_it(
        shipped_criteria, patient, neurologist_decides, respondent, heading):
    """The withdraw box said the answers, result and contact details are erased, not the neurologist's message: after
    withdrawing, the codes open nothing and a patient just referred lost the instructions. Above the tick box, it says
    so and offers a Print button; the message itself prints (the withdraw box does not)."""
    screening, reference, access = submit(patient, answers(respondent=respondent))
    look_up(patient, reference, access)
    assert WITHDRAW_LOSES_MESSAGE not in main_text(patient.get(reverse("status_detail")))  # no message: nothing to lose
    assert "data-print" not in html(patient.get(reverse("status_detail")))
    neurologist_decides(screening, "refer", "Please ask your GP to refer you to the transplant centre.")
    page = unescape(html(patient.get(reverse("status_detail"))))
    box = page.split('<div class="withdraw no-print">', 1)[1]
    text = " ".join(re.sub(r"<[^>]+>", " ", box).split())
    assert text.index(heading) < text.index(WITHDRAW_LOSES_MESSAGE) < text.index("Print this page")
    assert box.index(WITHDRAW_LOSES_MESSAGE) < box.index("data-print") < box.index('name="confirm"')
    assert page.index("Please ask your GP to refer you") < page.index('<div class="withdraw no-print">')


@pytest.mark.parametrize("respondent", ["self", "carer"])
def test_the_withdrawn_page_says_the_neurologists_message_can_no_longer_be_read(
        shipped_criteria, patient, neurologist_decides, respondent):
    """"We keep ... the neurologist's decision about it" read as if the message could still be read; it is erased."""
    screening, reference, access = submit(patient, answers(respondent=respondent))
    neurologist_decides(screening, "refer", "Please ask your GP to refer you.")
    said = main_text(withdraw(Client(), reference, access))
    assert "The neurologist's message was erased with them: it can no longer be read." in said
    assert "Please ask your GP" not in said
    undecided, reference, access = submit(Client(), answers(respondent=respondent))
    assert "The neurologist's message" not in main_text(withdraw(Client(), reference, access))  # there was none


def test_a_withdrawal_page_reopened_by_its_address_shows_the_form_again_not_a_blank_page(shipped_criteria, patient):
    """The withdrawal form re-shown with its error stands at /status/withdraw/: a browser that restores the tab asks
    for that address again. The person gets their status page with the form, not an empty "405"."""
    screening, reference, access = submit(patient, answers())
    look_up(patient, reference, access)
    patient.post(reverse("withdraw"), {})
    response = patient.get(reverse("withdraw"), follow=True)
    assert response.redirect_chain == [(reverse("status_detail"), 302)]
    assert 'name="confirm"' in html(response)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUBMITTED and screening.answers


@pytest.mark.parametrize("name, form_page", [("start", HOME), ("result_create", REVIEW), ("answers_save", REVIEW),
                                             ("withdraw", "/status/yours/")])
def test_a_form_address_opened_without_its_form_leads_to_the_form(db, patient, name, form_page):
    response = patient.get(reverse(name))
    assert response.status_code == 302 and response["Location"] == form_page


def test_withdrawal_erases_the_answers_result_and_contact_and_keeps_an_audit_entry(shipped_criteria, patient):
    screening, reference, access = submit(patient, answers(), contact_name="Jo Bloggs",
                                          contact_details="jo@example.org")
    response = withdraw(Client(), reference, access)
    assert response.status_code == 200 and "withdrawn" in html(response)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.WITHDRAWN and screening.withdrawn_at
    assert screening.answers == {} and screening.facts == {} and screening.snapshot == []
    assert screening.primary_verdict == ""
    assert screening.contact_name == "" and screening.contact_details == ""
    assert AuditEvent.objects.filter(action="withdrawn", screening=screening).count() == 1
    assert AuditEvent.objects.filter(action="submitted", screening=screening).count() == 1
    assert "Jo Bloggs" not in stored_text() and "jo@example.org" not in stored_text()
    # the result is gone from the browser that sent it too, which says so
    assert main_text(patient.get(RESULT)).startswith("Your result has been withdrawn")
    assert "Jo Bloggs" not in html(patient.get(RESULT))
    # looking it up again says why it cannot be found, rather than suggesting the codes were mistyped
    assert "If you withdrew it, it has been erased" in html(look_up(Client(), reference, access))


def test_withdrawal_leaves_no_copy_of_the_answers_in_a_draft(shipped_criteria, patient):
    """The withdrawn page says the answers are erased; the draft they were typed into must not keep them."""
    screening, reference, access = submit(patient, answers(age=47))
    withdraw(Client(), reference, access)
    assert [draft.data for draft in Draft.objects.all() if draft.data] == []


def test_after_withdrawal_an_old_resume_code_opens_nothing(shipped_criteria, patient):
    """A resume code printed before sending must not bring the erased answers back."""
    answer_until(patient, "region", answers(age=47))
    post_step(patient, "region", answers(), action="save")
    resume_code = read_resume_code(patient.get(reverse("saved")))
    patient.post(reverse("resume"), {"resume_code": resume_code})
    patient.get(step_url("region"))
    post_step(patient, "region", answers())
    patient.post(reverse("result_create"))
    patient.post(reverse("submit"), {"consent": "on"})
    reference, access = read_codes(patient.get(reverse("submitted")))
    withdraw(Client(), reference, access)

    elsewhere = Client()
    response = elsewhere.post(reverse("resume"), {"resume_code": resume_code})
    assert response.status_code == 200 and "We could not find answers for that code" in html(response)


# ---------------------------------------------------------------- headers: no-store, CSP; HTML: no inline code


def walk_whole_flow(client, raw):
    """Every page of the flow once, including save and resume: returns the codes given on the way."""
    client.get(HOME)
    answer_until(client, "relapses", raw)
    post_step(client, "relapses", raw, action="save")
    resume_code = read_resume_code(client.get(reverse("saved")))
    client.get(reverse("saved"))
    client.get(reverse("resume"))
    client.post(reverse("resume"), {"resume_code": resume_code})
    post_raw_step(client, "about-you", {"age": "15"})  # an error page too
    client.get(step_url("about-you"))
    post_step(client, "about-you", raw)
    response = post_step(client, "relapses", raw, action="back")
    while response["Location"] != REVIEW:
        slug = slug_of(response["Location"])
        client.get(response["Location"])
        response = post_step(client, slug, raw)
    client.get(REVIEW)
    client.get(step_url("health") + "?return=review")
    client.post(reverse("result_create"))
    client.get(RESULT)
    client.get(reverse("submit"))
    client.post(reverse("submit"), {"contact_name": "Jo"})
    client.post(reverse("submit"), {"consent": "on", "contact_name": "Jo"})
    reference, access = read_codes(client.get(reverse("submitted")))
    client.get(reverse("status"))
    look_up(client, reference, "WRONG-CODE")
    look_up(client, reference, access)
    client.get(reverse("status_detail"))
    client.post(reverse("withdraw"), {})
    client.post(reverse("withdraw"), {"confirm": "on"})
    return {"resume": resume_code, "reference": reference, "access": access}


def test_every_response_of_the_flow_is_not_cacheable(shipped_criteria, patient):
    walk_whole_flow(patient, FLOW_ANSWERS)
    assert len(patient.responses) > 30
    for response in patient.responses:
        assert "no-store" in response.get("Cache-Control", ""), (response.request["PATH_INFO"],
                                                                 response.status_code)


def test_no_url_in_the_flow_carries_an_answer_or_a_code(shipped_criteria, patient):
    codes = walk_whole_flow(patient, FLOW_ANSWERS)
    secrets_ = set()
    for code in codes.values():
        secrets_ |= {code, code.replace("-", ""), code.lower()}
    answer_values = {"47", "2019", "rrms", "natalizumab", "fumarate", "europe", "3.5"}
    requested = [r.request["PATH_INFO"] + ("?" + r.request["QUERY_STRING"] if r.request.get("QUERY_STRING") else "")
                 for r in patient.responses]
    urls = requested + [url for response in patient.responses for url in urls_in(response)]
    assert urls
    for url in urls:
        for secret in secrets_ | answer_values:
            assert secret not in url, (secret, url)
        query = urlsplit(url).query
        assert query in ("", "return=review", "errors=1", "return=review&errors=1"), url


def test_no_log_line_of_the_flow_carries_an_answer_a_contact_or_a_code(shipped_criteria, patient, caplog):
    caplog.set_level("DEBUG")
    codes = walk_whole_flow(patient, answers(ms_type="spms", dmts=["alemtuzumab"], region="india"))
    look_up(Client(), codes["reference"], "WRONG")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [*codes.values(), "Jo", "spms", "alemtuzumab", "india"]:
        assert secret not in logged, secret


def test_pages_carry_a_content_security_policy_without_inline_code(shipped_criteria, patient):
    walk_whole_flow(patient, FLOW_ANSWERS)
    pages = [r for r in patient.responses if r.status_code == 200]
    assert len(pages) > 15
    for response in pages:
        policy = response.get("Content-Security-Policy")
        assert policy, response.request["PATH_INFO"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        directives = {part.strip().partition(" ")[0] for part in policy.split(";") if part.strip()}
        assert "script-src" in directives or "default-src" in directives




def test_requests_refused_before_any_view_get_the_security_headers_too(db):
    """A 400 answered by a middleware (a form not in UTF-8, a Host not allowed) is a page like any other: framed by
    no one, not sniffed, under the same policy."""
    refused = {
        "form not in UTF-8": Client().post(reverse("start"), b"a=1", content_type="text/plain; charset=latin-1"),
        "host not allowed": Client().get(HOME, HTTP_HOST="evil.example"),
    }
    for name, response in refused.items():
        assert response.status_code == 400, name
        assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", ""), name
        assert "script-src 'self'" in response["Content-Security-Policy"], name
        assert response.get("X-Frame-Options") == "DENY", name
        assert response.get("X-Content-Type-Options") == "nosniff", name
        assert response.get("Referrer-Policy") == "same-origin", name
        assert "no-store" in response["Cache-Control"], name


def test_pages_have_no_inline_script_or_style(shipped_criteria, patient):
    walk_whole_flow(patient, FLOW_ANSWERS)
    fresh = Client()
    fresh.post(reverse("start"))
    extra = [fresh.get(step_url(slug)) for slug in ALL_SLUGS]  # every step, with no answers yet
    see_result(fresh, answers(edss=None, walking_aid="two_sided", walking_distance="50_99"))
    extra += [fresh.get(RESULT), fresh.get(REVIEW)]
    pages = [r for r in patient.responses + extra
             if r.status_code == 200 and r.get("Content-Type", "").startswith("text/html")]
    assert len(pages) > 25
    for response in pages:
        text = html(response)
        where = response.request["PATH_INFO"]
        for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", text, re.S | re.I):
            assert "src=" in attributes and not body.strip(), where
        assert not re.search(r"<style\b", text, re.I), where
        assert not re.search(r"\sstyle\s*=", text, re.I), where
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), where
        assert "javascript:" not in text.lower(), where


# ---------------------------------------------------------------- CSRF

CSRF_POSTS = ["start", "step:about-you", "result_create", "resume", "submit", "status", "withdraw"]


def url_for(name):
    if name.startswith("step:"):
        return step_url(name.split(":", 1)[1])
    return reverse(name)


@pytest.mark.parametrize("name", CSRF_POSTS)
def test_a_post_without_a_csrf_token_is_refused(shipped_criteria, name):
    browser = Client(enforce_csrf_checks=True)
    browser.get(HOME)
    response = browser.post(url_for(name), {"age": "34", "consent": "on", "confirm": "on", "action": "next"})
    assert response.status_code == 403
    assert not Draft.objects.exists() and not Screening.objects.exists()
    assert "This page has expired" in html(response) and f'href="{HOME}"' in html(response)  # our page, a way on


def test_a_post_with_the_pages_csrf_token_is_accepted(db):
    browser = Client(enforce_csrf_checks=True)
    home = browser.get(HOME)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(home)).group(1)
    response = browser.post(reverse("start"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == step_url("about-you")



def test_a_page_that_is_not_there_says_so_and_offers_a_way_on(db, patient):
    response = patient.get("/no-such-page/")
    assert response.status_code == 404
    assert "We cannot find this page" in html(response) and f'href="{HOME}"' in html(response)


def test_a_post_too_large_to_read_says_so_and_offers_a_way_on(shipped_criteria, patient, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    patient.post(reverse("start"))
    response = post_raw_step(patient, "about-you", {"age": "34", "respondent": "x" * 2000})
    assert response.status_code == 400
    assert "We could not read what was sent" in html(response) and f'href="{HOME}"' in html(response)


def test_the_server_error_page_renders_on_its_own():
    """Shown when something failed: it must not need a request, a database or anything else that may be down."""
    text = render_to_string("500.html")
    assert "Sorry, something went wrong" in text and 'href="/"' in text


# ---------------------------------------------------------------- garbage never crashes

def garbage_payloads():
    """Per kind of garbage: a function from a field name to what is posted for it."""
    return {
        "unknown choices": lambda name: "not-one-of-the-answers",
        "lists for single answers": lambda name: ["1", "2", "yes", "natalizumab"],
        "huge number": lambda name: "9" * 5000,
        "overflowing float": lambda name: "1e999",
        "not a number": lambda name: "nan",
        "negative": lambda name: "-" + "9" * 30,
        "control characters": lambda name: "\x00\x01\x1b[31m\x7f",
        "markup": lambda name: '<script>alert("x")</script>',
        "very long text": lambda name: "ü" * 100_000,
        "other scripts and emoji": lambda name: "٣٤ 🙂 漢字 \u202e",
        "empty": lambda name: "",
    }


DRAFT_STATES = {
    "new draft": {},
    "finished, edss known, no medicine": as_form_data(answers(dmts=[])),
    "finished, wheelchair": as_form_data(answers(edss=None, walking_aid="wheelchair")),
}


def without_crash(what, request):
    """The response, or a test failure naming what was sent when the site crashed (a 500)."""
    try:
        response = request()
    except Exception as error:  # the test client re-raises what the view raised
        pytest.fail(f"{what}: the site crashed with {error!r}")
    assert response.status_code < 500, what
    return response


@pytest.mark.parametrize("state", list(DRAFT_STATES))
@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_garbage_posted_to_any_step_never_crashes(shipped_criteria, slug, state):
    for kind, make in garbage_payloads().items():
        browser = Client()
        set_draft(browser, dict(DRAFT_STATES[state]))
        payload = {name: make(name) for name in STEPS_BY_SLUG[slug].form_class.base_fields}
        for action in ("next", "back", "teleport"):
            response = without_crash(f"{kind}, action={action}",
                                     lambda: browser.post(step_url(slug), {**payload, "action": action}))
            assert response.status_code in (200, 302), (kind, action)
            if response.status_code == 200:
                assert "<script>alert" not in html(response), (kind, action)
        # and the draft it left behind does not break the pages that read it
        without_crash(f"{kind}, then the step again", lambda: browser.get(step_url(slug)))
        without_crash(f"{kind}, then the review", lambda: browser.get(REVIEW))
        without_crash(f"{kind}, then the result", lambda: browser.post(reverse("result_create")))


@pytest.mark.parametrize("slug", ["about-you", "diagnosis", "relapses", "region"])
def test_a_nul_character_typed_into_a_step_gets_a_message_and_is_storable_on_postgresql(shipped_criteria, slug):
    """PostgreSQL's jsonb refuses \\u0000, so a draft holding one is a 500 there (SQLite accepts it)."""
    browser = Client()
    set_draft(browser, {})
    names = list(STEPS_BY_SLUG[slug].form_class.base_fields)
    response = browser.post(step_url(slug), {**{name: "3\x004" for name in names}, "action": "next"}, follow=True)
    assert response.status_code == 200 and error_summary(html(response))
    assert "\\u0000" not in json.dumps(Draft.objects.get().data)


MULTIPART = ("--XyZ\r\nContent-Disposition: form-data; name=\"age\"\r\n\r\n+2AA-\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nnext\r\n--XyZ--\r\n")


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded; charset=latin-1", "age=40&action=next"),
    ("application/x-www-form-urlencoded; charset=utf-16", "age=40&action=next"),
    ("multipart/form-data; boundary=XyZ; charset=rot13", MULTIPART),
    ("multipart/form-data; boundary=XyZ; charset=utf-7", MULTIPART),  # "+2AA-" is a lone surrogate in UTF-7
], ids=["urlencoded latin-1", "urlencoded utf-16", "multipart rot13", "multipart utf-7"])
@pytest.mark.parametrize("path", ["/check/about-you/", "/status/", "/check/resume/", "/accounts/login/"])
def test_a_form_posted_in_another_encoding_gets_the_400_page_and_stores_nothing(shipped_criteria, path,
                                                                               content_type, body):
    browser = Client(enforce_csrf_checks=True)
    set_draft(browser, {})
    response = browser.generic("POST", path, body.encode("latin-1"), content_type=content_type)
    assert response.status_code == 400 and "Something went wrong" in html(response)
    assert "Go to the start page" in html(response)  # a patient's (or signing-in) page: the patients' frame
    assert Draft.objects.get().data == {}


@pytest.mark.parametrize("cookie", ['sessionid="\\000abcdefgh"', 'draft="\\000x"', 'csrftoken="a\\000b"'])
def test_a_cookie_with_a_nul_character_is_ignored_not_a_500(shipped_criteria, cookie):
    """A quoted cookie value's \\000 is read as NUL, which PostgreSQL refuses in any query: every page was a 500."""
    for path in ("/", "/healthz", "/check/resume/"):
        assert Client().get(path, HTTP_COOKIE=cookie).status_code == 200, path


def test_signing_in_with_a_nul_character_in_a_header_is_not_a_500(db):
    """django-axes stores the browser's User-Agent and Accept headers with each sign-in: PostgreSQL refused the NUL."""
    get_user_model().objects.create_user("dr-nul", password="Correct-Horse-Battery-42")
    headers = {"HTTP_USER_AGENT": "a\x00b", "HTTP_ACCEPT": "text/html\x00"}
    wrong = Client().post(reverse("login"), {"username": "dr-nul", "password": "wrong"}, **headers)
    assert wrong.status_code == 200 and "Please enter a correct username and password" in html(wrong)
    right = Client().post(reverse("login"), {"username": "dr-nul", "password": "Correct-Horse-Battery-42"},
                          **headers)
    assert right.status_code == 302


def test_a_form_posted_as_utf8_under_another_name_is_read(shipped_criteria):
    browser = Client()
    set_draft(browser, {})
    response = browser.generic("POST", step_url("about-you"), b"age=40&respondent=self&action=next",
                               content_type="application/x-www-form-urlencoded; charset=utf8")
    assert response.status_code == 302 and Draft.objects.get().data["age"] == "40"


@pytest.mark.parametrize("slug", ALL_SLUGS)
def test_a_body_that_is_not_utf8_never_crashes(shipped_criteria, slug):
    browser = Client()
    set_draft(browser, {})
    names = list(STEPS_BY_SLUG[slug].form_class.base_fields)
    body = "&".join(f"{name}=%FF%FE%C0%AF%ED%A0%80" for name in names) + "&action=next"
    response = browser.post(step_url(slug), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302)


def test_garbage_posted_to_the_other_forms_never_crashes(shipped_criteria, patient):
    see_result(patient, answers())
    long = "x" * 10_000
    assert patient.post(reverse("submit"), {"consent": ["on", "off"], "contact_name": long,
                                            "contact_details": "\x00"}).status_code in (200, 302, 303)
    assert patient.post(reverse("resume"), {"resume_code": long}).status_code == 200
    assert look_up(patient, long, ["a", "b"]).status_code == 200
    assert look_up(patient, "\x00", "🙂").status_code == 200


# ---------------------------------------------------------------- missing things: 404 and redirects


def test_starting_again_over_answers_in_progress_asks_first_and_keeps_them_until_told(shipped_criteria, patient):
    """"Start again with empty answers" sits under "Continue where you stopped": a slip of a shaking finger must not
    clear answers that only a resume code could bring back."""
    patient.post(reverse("start"))
    post_step(patient, "about-you", answers())
    token = patient.cookies[DRAFT].value
    assert "Start again with empty answers" in html(patient.get(HOME))

    response = patient.post(reverse("start"))
    assert response.status_code == 200 and "Start again with empty answers?" in html(response)
    assert f'href="{REVIEW}"' in html(response) and 'action="/check/save/"' in html(response)
    assert DRAFT not in response.cookies and patient.cookies[DRAFT].value == token
    assert "34" in html(patient.get(REVIEW))  # still there

    response = patient.post(reverse("start"), {"confirm": "yes"})
    assert response.status_code == 302 and slug_of(response["Location"]) == STEPS[0].slug
    assert patient.cookies[DRAFT].value != token
    assert "Not answered yet" in html(patient.get(REVIEW))
    # the cleared answers are gone, not kept unreachable in the database for 30 days
    assert Draft.objects.count() == 1 and not Draft.objects.filter(token_hash=hash_code(token)).exists()


def test_starting_again_keeps_answers_saved_with_a_resume_code_for_that_code(shipped_criteria, patient):
    answer_until(patient, "relapses")
    patient.post(step_url("relapses"), {"action": "save"})
    code = read_resume_code(patient.get(reverse("saved")))
    patient.post(reverse("start"), {"confirm": "yes"})
    assert Draft.objects.count() == 2
    assert Client().post(reverse("resume"), {"resume_code": code}).status_code == 302


@pytest.mark.parametrize("with_draft", [True, False])
@pytest.mark.parametrize("slug", ["no-such-step", "step-11", "admin"])
def test_an_unknown_step_is_not_found(db, patient, slug, with_draft):
    if with_draft:
        patient.post(reverse("start"))
    assert patient.get(step_url(slug)).status_code == 404
    assert patient.post(step_url(slug), {"action": "next"}).status_code == 404


@pytest.mark.parametrize("method, url", [("get", step_url(slug)) for slug in ALL_SLUGS]
                         + [("post", step_url(slug)) for slug in ALL_SLUGS]
                         + [("get", REVIEW), ("post", "/check/result/")])
def test_without_answers_in_progress_you_are_sent_home_with_a_message(db, patient, method, url):
    response = getattr(patient, method)(url, {"age": "34", "action": "next"} if method == "post" else {})
    assert response.status_code == 302 and response["Location"] == HOME
    home = html(patient.get(HOME))
    assert "could not find answers in progress" in home
    # what was typed had nowhere to go: said, rather than letting the person think it was kept
    assert ("what was on that page was not saved" in home) is (method == "post" and "/check/result/" not in url)
    assert not Draft.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_draft_cookie_whose_draft_is_gone_sends_you_home_and_changes_no_other_draft(db, patient, method):
    """E.g. the draft was purged after the retention period, or the cookie was made up."""
    other = Client()
    other.post(reverse("start"))
    post_step(other, "about-you", answers())
    kept = Draft.objects.get().data
    patient.cookies[DRAFT] = "made-up-token"
    response = getattr(patient, method)(step_url("about-you"), {"age": "50", "action": "next"})
    assert response.status_code == 302 and response["Location"] == HOME
    assert Draft.objects.get().data == kept


@pytest.mark.parametrize("url, home", [(RESULT, HOME), ("/result/submit/", HOME),
                                       ("/status/yours/", "/status/")])
def test_pages_that_need_a_result_send_you_back_without_one(db, patient, url, home):
    response = patient.get(url)
    assert response.status_code == 302 and response["Location"] == home


def test_withdraw_without_a_looked_up_submission_goes_to_the_status_page(db, patient):
    response = patient.post(reverse("withdraw"), {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/status/"


@pytest.mark.parametrize("again", ["withdraw", "status_detail"])
def test_withdrawing_again_from_a_stale_tab_says_it_is_withdrawn_not_a_blank_lookup(shipped_criteria, patient, again):
    """The status page left open in a second tab: withdrawing there (or reloading it) after withdrawing in the first
    led to the empty lookup form, with no word of what had happened."""
    screening, reference, access = submit(patient, answers())
    withdraw(patient, reference, access)
    request = patient.post if again == "withdraw" else patient.get
    response = request(reverse(again), {"confirm": "on"} if again == "withdraw" else None, follow=True)
    assert response.redirect_chain == [(reverse("withdrawn"), 302)]
    assert "Your result has been withdrawn" in html(response)


def test_the_verdict_names_what_was_answered_for_each_criterion_behind_it(shipped_criteria, patient):
    """Someone whose MS is stable on a medicine reads their own answer as the reason, not "Does not match" beside a
    criterion worded from its favourable side (a double negative); and each criterion as what is looked for, not as
    if it were them ("Because of: Relapsing-remitting MS")."""
    screening = see_result(patient, answers(activity_on_dmt="no", activity_on_high_efficacy_dmt="no"))
    assert screening.primary_verdict == "unlikely"
    verdict = re.search(r'<ul class="deciding">(.*?)</ul>', html(patient.get(RESULT)), re.S).group(1)
    items = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
             for item in re.findall(r"<li>(.*?)</li>", verdict, re.S)]
    assert items and all(item.startswith("Looked for: ") and ". Your answer: " in item for item in items), items
    assert ("Looked for: MS not already kept quiet by an MS medicine. Your answer: quiet after 6 months on an MS "
            "medicine") in items, items
    assert "Because of these answers:" in html(patient.get(RESULT))
    assert "Does not match" not in verdict


def test_an_answer_behind_two_criteria_is_said_once_in_the_verdict_where_it_decides(shipped_criteria, patient):
    """Stable on a medicine fails "not kept quiet by a medicine" (it decides) and "a poor response" (it does not):
    read twice in the verdict, under "Because of" and again under "Also", it looks like two things wrong."""
    see_result(patient, answers(activity_on_dmt="no", activity_on_high_efficacy_dmt="no"))
    page = html(patient.get(RESULT))
    verdict = unescape(re.sub(r"<[^>]+>", "", re.search(r'<section class="verdict.*?</section>', page, re.S).group(0)))
    assert verdict.count("Your answer: quiet after 6 months on an MS medicine") == 1, verdict
    assert "Because of these answers:" in verdict
    table = re.search(r'<table class="table criteria-table">.*?</table>', page, re.S).group(0)
    assert 'data-criterion="poor_dmt_response" data-outcome="unfavourable"' in table  # still in the table


def test_beside_an_unlikely_verdict_the_other_criteria_not_met_are_listed_too(shipped_criteria, patient):
    """PPMS at 60 with a heart condition: the verdict rests on the MS type and the EDSS, and the heart condition must
    not look unimportant for not deciding it."""
    screening = see_result(patient, answers(ms_type="ppms", age=60, edss=7.0, comorbidities=["heart"]))
    assert screening.primary_verdict == "unlikely"
    page = html(patient.get(RESULT))
    because = re.search(r'<ul class="deciding">(.*?)</ul>', page, re.S).group(1)
    also = re.search(r'Also to look at with your neurologist:</p>\s*<ul class="also">(.*?)</ul>', page, re.S).group(1)
    assert "Relapsing-remitting MS" in because and "No serious heart" not in because
    assert "No serious heart, lung, kidney or liver disease" in also and "Your answer: a heart" in unescape(re.sub(r"<[^>]+>", "", also))
    assert "Relapsing-remitting MS" not in also


@pytest.mark.parametrize("changes, said, borderline", [
    (dict(edss=None, walking_aid="one_sided", walking_distance="100_199"), True, True),  # 6.0 estimated: decides it
    (dict(edss=None, walking_aid="two_sided", walking_distance="50_99"), True, True),  # 6.5
    (dict(edss=None, walking_aid="wheelchair"), True, False),  # 7.0 to 9.5: not a borderline estimate
    # the type of MS, or the medicine answer, rules it out whatever the score: no "this may be different"
    (dict(edss=None, walking_aid="one_sided", walking_distance="100_199", ms_type="ppms"), True, False),
    (dict(edss=None, walking_aid="one_sided", walking_distance="100_199", activity_on_dmt="no",
          activity_on_high_efficacy_dmt="no"), True, False),
    (dict(edss=6.5), False, False),  # a score the neurologist gave: nothing to add
    (dict(edss=None, walking_aid="none", walking_distance="500_plus"), False, False),  # estimated, but not behind it
])
def test_a_verdict_resting_on_a_score_estimated_from_walking_says_so_in_the_verdict(shipped_criteria, patient,
                                                                                    changes, said, borderline):
    """clinical.md §3d: people rate their own disability higher than a neurologist does, so a borderline estimate
    behind "not usually offered" is said to be one, in the verdict box, not only in a note far below."""
    see_result(patient, answers(**changes))
    verdict = re.search(r'<section class="verdict.*?</section>', html(patient.get(RESULT)), re.S).group(0)
    assert ("was estimated from what you told us about walking" in verdict) is said
    assert ("This rests on an estimate." in verdict and "If it is lower, this result may be different" in verdict
            ) is borderline


@pytest.mark.parametrize("changes, differing", [
    # SPMS with relapses: the guidelines that ask about the type of MS look closer (clinical.md §1a)
    (dict(ms_type="spms"), ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)",
                            "US National MS Society recommendations (2021)"]),
    # a walking estimate of 6.0: the NMSS sets no disability limit, so it is not "reading it differently"
    (dict(edss=None, walking_aid="one_sided", walking_distance="500_plus"),
     ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)"]),
    (dict(edss=6.5), ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)"]),
    (dict(edss=7.0), []),  # above every source's limit (6.5 at most): a guideline's "closer look" is no real hope
    (dict(edss=None, walking_aid="wheelchair"), []),
    (dict(), []),  # "match" everywhere: nothing to contrast
    # a transplant before and 6.5: the NMSS is less strict about the first, but sets no disability limit
    (dict(prior_hsct=True, edss=6.5), ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)"]),
    (dict(dmts=["natalizumab"], activity_on_dmt="no", activity_on_high_efficacy_dmt="no"), []),  # all agree
])
def test_beside_not_usually_offered_the_guidelines_that_judge_the_same_answers_less_strictly(
        shipped_criteria, patient, changes, differing):
    see_result(patient, answers(**changes))
    verdict = re.search(r'<section class="verdict.*?</section>', html(patient.get(RESULT)), re.S).group(0)
    listed = re.search(r'<ul class="guidelines-differ">(.*?)</ul>', verdict, re.S)
    items = re.findall(r"<li>(.*?)</li>", listed.group(1)) if listed else []
    names = [unescape(item).split(" — ")[0] for item in items]
    assert names == differing
    assert ('href="#other-criteria"' in verdict) is bool(differing)


@pytest.mark.parametrize("changes, differing, reason", [
    # the article's profile asks neither about the diagnosis nor about age (clinical.md §5): the guidelines do
    (dict(diagnosis_confirmed="no"), ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)",
                                      "US National MS Society recommendations (2021)"], "MS confirmed by a neurologist"),
    (dict(age=70), ["EBMT guideline (2020)", "ECTRIMS–EBMT recommendations (2025)",
                    "US National MS Society recommendations (2021)"], "Aged"),
])
def test_beside_a_match_the_guidelines_that_are_stricter_are_named_with_their_reasons(
        shipped_criteria, patient, changes, differing, reason):
    """"Your answers match" never stands alone when the guidelines say "not usually offered" or "closer look"."""
    see_result(patient, answers(**changes))
    verdict = re.search(r'<section class="verdict.*?</section>', html(patient.get(RESULT)), re.S).group(0)
    assert 'data-verdict="likely"' in verdict
    items = [unescape(item) for item in re.findall(
        r"<li>(.*?)</li>", re.search(r'<ul class="guidelines-differ">(.*?)</ul>', verdict, re.S).group(1))]
    assert [item.split(" — ")[0] for item in items] == differing
    assert all(f"(not met or not known: {reason}" in item for item in items), items


def test_beside_a_possible_verdict_there_is_one_list(shipped_criteria, patient):
    see_result(patient, answers(comorbidities=["heart"]))
    page = html(patient.get(RESULT))
    assert "To look at with your neurologist:" in page and "Also to look at" not in page


@pytest.mark.parametrize("respondent, told", [("carer", True), ("self", False), (None, False)])
def test_a_result_filled_in_for_someone_else_says_whom_your_means(shipped_criteria, patient, respondent, told):
    see_result(patient, answers(respondent=respondent))
    assert ("the notes and explanations on this page say “you” or “your”, they mean the person with MS"
            in html(patient.get(RESULT))) == told


@pytest.mark.parametrize("respondent, buttons", [
    ("carer", ["Send this result to a neurologist", "Change the answers", "Save the answers to come back later"]),
    ("self", ["Send my result to a neurologist", "Change my answers", "Save my answers to come back later"]),
])
def test_a_carers_buttons_to_the_result_and_under_it_are_not_worded_as_the_carers_own(shipped_criteria, patient, respondent,
                                                                            buttons):
    answer_steps(patient, answers(respondent=respondent))
    see_the_result = "See the result" if respondent == "carer" else "See my result"
    assert f">{see_the_result}</button>" in html(patient.get(reverse("review")))
    see_result(patient, answers(respondent=respondent))
    next_actions = re.search(r'<ul class="next-actions[^>]*>(.*?)</ul>', html(patient.get(RESULT)), re.S).group(1)
    said = [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<(?:a|button)\b[^>]*>(.*?)</(?:a|button)>",
                                                                       next_actions, re.S)]
    assert [text for text in said if text in buttons] == buttons


def test_the_result_page_lists_its_parts_and_what_to_do_next_after_the_verdict(shipped_criteria, patient):
    """Many screens long on a phone: right after the verdict, each part and the way to send it is one step away."""
    see_result(patient, answers(pregnancy="planning"))
    page = html(patient.get(RESULT))
    after_verdict = page.split('id="verdict-title"', 1)[1]
    contents = re.search(r'<nav class="contents[^>]*>(.*?)</nav>', after_verdict, re.S).group(1)
    targets = re.findall(r'href="#([^"]+)"', contents)
    assert len(targets) >= 5 and targets[-1] == "next"
    for target in targets:
        assert after_verdict.split("</nav>", 1)[1].count(f'id="{target}"') == 1, target
    assert "send your result to a neurologist" in contents
    assert "Questions to ask" in contents


def test_a_result_in_progress_is_not_visible_to_another_browser(shipped_criteria, patient):
    see_result(patient, answers())
    assert Client().get(RESULT)["Location"] == HOME


# ---------------------------------------------------------------- the result comes from the stored snapshot


def test_the_result_page_shows_the_criteria_as_they_were_when_scored(shipped_criteria, patient):
    screening = see_result(patient, answers())
    headline = screening.snapshot[0]
    criterion = Criterion.objects.get(criteria_set__code=headline["set"], code=headline["criteria"][0]["code"])
    label, explanation = escape(criterion.label), escape(criterion.explanation)
    before = html(patient.get(RESULT))
    assert label in before and explanation in before

    criterion.label = "A label changed after the result was given"
    criterion.explanation = "An explanation changed after the result was given"
    criterion.save()
    Criterion.objects.filter(criteria_set__code=headline["set"]).exclude(pk=criterion.pk).update(active=False)

    after = html(patient.get(RESULT))
    assert label in after and explanation in after
    assert "changed after the result" not in after
    assert after.count("data-criterion=") == before.count("data-criterion=")



def test_the_result_says_in_plain_words_what_each_set_of_criteria_is(shipped_criteria, patient):
    """"Compared with the Article profile": which article? Each set's description is with its criteria, as it was
    when the result was given; a result stored before descriptions were kept shows none, and no error."""
    screening = see_result(patient, answers())
    sets = {criteria_set.code: criteria_set for criteria_set in CriteriaSet.objects.all()}
    page = html(patient.get(RESULT))
    headline = page[page.index('id="criteria"'):page.index('id="other-criteria"')]
    assert escape(sets["article"].description) in headline
    for code in ("ebmt-2020", "mist"):
        details = page[page.index(f'<details class="set-details" data-set="{code}">'):]
        assert escape(sets[code].description) in details[:details.index("</details>")]

    CriteriaSet.objects.filter(code="article").update(description="A description written after the result")
    assert "written after the result" not in html(patient.get(RESULT))
    Screening.objects.filter(pk=screening.pk).update(
        snapshot=[{k: v for k, v in entry.items() if k != "description"} for entry in screening.snapshot])
    page = html(patient.get(RESULT))
    assert 'class="set-description"' not in page and "Criterion by criterion" in page


def test_the_risks_are_open_on_the_result_page_and_general_notes_are_titles_that_open(shipped_criteria, patient):
    """A hopeful "likely" must not leave the risk of dying from the treatment behind a tap at the foot of the page;
    what HSCT involves, costs and where it is offered are titles to open, so the page stays short."""
    assert see_result(patient, answers()).primary_verdict == "likely"
    page = html(patient.get(RESULT))
    for code in ("treatment-related-mortality", "side-effects-and-infections", "fertility"):
        assert f'<article class="note" data-note="{code}">' in page, code
    assert '<details class="note" data-note="hsct-four-steps"><summary>' in page


@pytest.mark.parametrize("region", ["europe", "us_canada", "other"])
def test_no_section_title_is_said_twice_by_the_note_under_it(shipped_criteria, patient, region):
    """Heading by heading, a screen reader must not read "Where HSCT is offered" twice in a row."""
    see_result(patient, answers(region=region))
    headings = re.findall(r"<h([23])[^>]*>(.*?)</h\1>", html(patient.get(RESULT)), re.S)
    titles = [" ".join(text.split()) for _, text in headings]
    repeated = [a for a, b in zip(titles, titles[1:]) if a == b]
    assert not repeated and "Questions to ask" in titles


def test_a_closed_note_is_still_a_heading_for_screen_readers(shipped_criteria, patient):
    """Moving from heading to heading is how many screen-reader users read a long page: a note closed to keep the
    page short keeps its title as a heading, under its section's, like an open one."""
    see_result(patient, answers())
    page = html(patient.get(RESULT))
    closed = re.search(r'<details class="note" data-note="hsct-four-steps"><summary>(.*?)</summary>', page, re.S)
    assert re.fullmatch(r"\s*<h3[^>]*>[^<]+</h3>\s*", closed.group(1)), closed.group(1)


@pytest.mark.parametrize("kind", ["risk", "general"], ids=["open note", "note that opens"])
def test_a_blank_line_in_a_note_starts_a_new_paragraph(shipped_criteria, patient, kind):
    """A long note is read in short paragraphs by someone tired or with blurred vision: a blank line in its body is
    a new paragraph (not two line breaks inside one, nor a paragraph inside a paragraph, which is invalid HTML),
    and a single line break stays a line break."""
    Note.objects.create(code="two-paragraphs", kind=kind, title="Two paragraphs", source="Test source",
                        body="Risks & benefits.\n\nSecond paragraph,\non two lines.")
    see_result(patient, answers())
    page = html(patient.get(RESULT))
    note = re.search(r'<(article|details) class="note" data-note="two-paragraphs">(.*?)</\1>', page, re.S).group(2)
    assert re.findall(r"<p>(.*?)</p>", note, re.S) == ["Risks &amp; benefits.", "Second paragraph,<br>on two lines."]
    assert 'class="source"' in note


def test_the_result_tables_speak_to_the_patient(shipped_criteria, patient):
    screening = see_result(patient, answers())
    content = html(patient.get(RESULT))
    captions = [" ".join(c.split()) for c in re.findall(r'<caption id="criteria-[^"]+">(.*?)</caption>', content, re.S)]
    assert len(captions) == len(screening.snapshot)
    assert all(caption.startswith("How your answers compare with") for caption in captions)
    assert "Your answer" in content and "patient" not in " ".join(captions)


def test_a_criterion_not_known_from_the_answers_says_where_to_find_out(shipped_criteria, patient):
    """Someone who answered "I'm not sure" reads, beside each criterion left open, where the answer can be found."""
    see_result(patient, answers(ms_type="unsure", mri_activity_12m="unsure", relapses_12m=None, relapses_36m=None,
                                 dmts=["fumarate"], activity_on_dmt="unsure"))
    content = html(patient.get(RESULT))
    verdict = re.search(r'<section class="verdict.*?</section>', content, re.S).group(0)
    assert "Your type of MS is usually written in your neurologist&#x27;s letters" in verdict
    assert "your last MRI report says whether it showed new, enlarging or enhancing lesions" in verdict
    assert verdict.count("after 6 months on an MS medicine") == 1  # two criteria on it: said once
    see_result(patient, answers())  # everything known: nothing to find out
    assert "find-out" not in html(patient.get(RESULT))
    # a year without its month, ten years ago: less or more than 10 years, the month decides
    today = timezone.localdate()
    see_result(patient, answers(diagnosis_year=today.year - 10, diagnosis_month=None))
    assert "The month you were diagnosed (in your first neurologist" in html(patient.get(RESULT))
    see_result(patient, answers(diagnosis_year=today.year - 10, diagnosis_month=today.month))  # given: not asked for
    assert "The month you were diagnosed" not in html(patient.get(RESULT))


def test_a_note_shown_because_of_an_answer_is_read_near_the_verdict(shipped_criteria, patient):
    """"Your diagnosis has not been confirmed yet" is about this person: under "About your answers", before the
    criteria, not among the notes for everyone at the foot of a long page. Notes for everyone stay there."""
    see_result(patient, answers(diagnosis_confirmed="no"))
    content = html(patient.get(RESULT))
    about, criteria = content.index('id="about-your-answers"'), content.index('id="criteria"')
    assert about < content.index('data-note="diagnosis-not-confirmed"') < criteria
    assert content.index('data-note="hsct-four-steps"') > criteria
    assert content.index('href="#about-your-answers"') < content.index('href="#criteria"')
    see_result(patient, answers())  # nothing about these answers in particular
    assert "about-your-answers" not in html(patient.get(RESULT))


def test_a_note_near_the_verdict_sends_the_reader_to_the_other_criteria_by_their_heading_below_it(shipped_criteria,
                                                                                                   patient):
    """The age and EDSS notes, under "About your answers", said "the sets of criteria above": the other sets are
    below them, under "Other published criteria", which is what they now name."""
    see_result(patient, answers(age=50, edss=7.5))
    content = html(patient.get(RESULT))
    for code in ("age-and-guidelines", "edss-7-or-more"):
        start = content.index(f'data-note="{code}"')
        note = content[start:content.index("</article>", start)]
        assert "“Other published criteria”" in note and "above" not in note, code
        assert start < content.index('id="other-criteria"')


def test_what_else_to_ask_after_not_usually_offered_is_open_beside_the_verdict(shipped_criteria, patient):
    """A disappointed, tired reader meets what they can still do next to the verdict, open, before the criteria,
    the risk figures and the costs: not as a closed title at the foot of the page."""
    assert see_result(patient, answers(edss=7.5)).primary_verdict == "unlikely"
    content = html(patient.get(RESULT))
    about, criteria = content.index('id="about-your-answers"'), content.index('id="criteria"')
    assert about < content.index('<article class="note" data-note="unlikely-other-options">') < criteria
    see_result(patient, answers())
    assert "unlikely-other-options" not in html(patient.get(RESULT))


def test_someone_whose_ms_is_quiet_on_medicine_reads_that_this_is_good_news(shipped_criteria, patient):
    """"Not usually offered … such as reviewing your MS medicine" must not read as a nudge to change a medicine
    that works: a note says that quiet MS is what the medicine aims for, and not to stop it unasked."""
    see_result(patient, answers(activity_on_dmt="no", activity_on_high_efficacy_dmt="no"))
    content = unescape(html(patient.get(RESULT)))
    assert 'data-note="quiet-on-medicine"' in content and "a good result, not a reason to change" in content
    see_result(patient, answers())  # still active on medicine: not said
    assert 'data-note="quiet-on-medicine"' not in html(patient.get(RESULT))


def test_a_health_condition_reads_as_the_one_ticked_beside_its_criterion(shipped_criteria, patient):
    """The question asked which conditions, not how serious: the answer shown is the one ticked, not the whole
    list the criterion names."""
    see_result(patient, answers(comorbidities=["heart", "mental_health"]))
    content = unescape(html(patient.get(RESULT)))
    assert "Your answer:</span> a heart condition</li>" in content  # in the verdict box
    cells = re.findall(r'<tr data-criterion="serious_comorbidity"[^>]*>\s*<th[^>]*>[^<]*</th>\s*'
                       r'<td data-label="Your answer">([^<]*)</td>', content)
    assert cells and set(cells) == {"a heart condition"}  # in every set's table; mental health has its own row


def test_the_other_sets_table_reads_a_trials_result_as_fitting_its_entry_rules(shipped_criteria, patient):
    screening = see_result(patient, answers())
    content = html(patient.get(RESULT))
    cells = dict(re.findall(r'<tr data-set="([^"]+)" data-verdict="[^"]+">\s*<th scope="row">.*?</th>\s*'
                            r'<td class="verdict-cell[^"]*">(.*?)</td>', content, re.S))
    trials = {entry["set"] for entry in screening.snapshot if entry["kind"] == "trial"}
    assert trials == {"mist", "beat-ms", "ram-ms", "starms"} and len(cells) == len(screening.snapshot) - 1
    for code, cell in cells.items():
        assert ("this trial's entry rules" in unescape(cell)) is (code in trials), (code, cell)
        assert ("usual profile" in cell or "not usually offered" in cell) is (code not in trials), (code, cell)


def test_the_other_sets_say_once_what_a_trials_result_does_not_mean(shipped_criteria, patient):
    see_result(patient, answers())
    assert html(patient.get(RESULT)).count("For a trial, this only shows how your answers compare") == 1
    CriteriaSet.objects.filter(kind="trial").update(active=False)
    see_result(patient, answers())
    assert "For a trial" not in html(patient.get(RESULT))


def test_the_start_page_says_what_the_browser_keeps_and_for_how_long(db, patient):
    """Draft and result cookies go when the browser closes: "kept so that you do not lose them" promised more."""
    page = " ".join(html(patient.get(HOME)).split())
    assert "This browser keeps your answers and your result until you close it." in page
    assert "save your answers with a resume code" in page


@pytest.mark.parametrize("age, shown", [(60, True), (45, True), (44, False)])
def test_a_result_says_what_the_guidelines_make_of_age_when_the_primary_set_does_not(shipped_criteria, patient,
                                                                                      age, shown):
    """clinical.md §5: the article's profile omits age; the guidelines look for under 45 or 50."""
    see_result(patient, answers(age=age, diagnosis_year=2021))
    assert ('data-note="age-and-guidelines"' in html(patient.get(RESULT))) is shown


def test_pages_say_they_are_in_british_english(shipped_criteria, patient):
    """One language, with translation off: screen readers are still told which."""
    see_result(patient, answers())
    for url in (HOME, RESULT):
        assert '<html lang="en-gb">' in html(patient.get(url))


# ---------------------------------------------------------------- purge_drafts


def backdate_draft(days_updated, days_created=None):
    draft, _token = services.draft_create()
    now = timezone.now()
    Draft.objects.filter(pk=draft.pk).update(
        updated_at=now - timedelta(days=days_updated),
        created_at=now - timedelta(days=days_created if days_created is not None else days_updated))
    return draft.pk


def backdated_screening(days, status):
    screening = Screening.objects.create(answers=answers(), facts={}, snapshot=[], scored_on=timezone.localdate(),
                                         status=status)
    Screening.objects.filter(pk=screening.pk).update(created_at=timezone.now() - timedelta(days=days))
    return screening.pk


@pytest.mark.parametrize("retention", [30, 5])
def test_purge_drafts_deletes_only_stale_drafts_and_unsubmitted_results(db, settings, retention):
    settings.DRAFT_RETENTION_DAYS = retention
    old, new = retention + 1, retention - 1
    stale_draft, fresh_draft = backdate_draft(old), backdate_draft(new)
    old_but_touched = backdate_draft(1, days_created=old + 30)
    S = Screening.Status
    stale_result = backdated_screening(old, S.SCORED)
    fresh_result = backdated_screening(new, S.SCORED)
    kept = [backdated_screening(old, status) for status in (S.SUBMITTED, S.IN_REVIEW, S.REVIEWED, S.WITHDRAWN)]
    sessions = [SessionStore(), SessionStore()]
    for session, expiry in zip(sessions, (-60, 60)):  # a submission opened with its codes, never opened again
        session["status_screening_id"] = kept[0]
        session.set_expiry(expiry)
        session.save()

    out = StringIO()
    call_command("purge_drafts", stdout=out)

    assert set(Draft.objects.values_list("pk", flat=True)) == {fresh_draft, old_but_touched}
    assert not Draft.objects.filter(pk=stale_draft).exists()
    assert set(Screening.objects.values_list("pk", flat=True)) == {fresh_result, *kept}
    assert not Screening.objects.filter(pk=stale_result).exists()
    assert "1 draft(s)" in out.getvalue() and "1 unsubmitted result(s)" in out.getvalue()
    assert list(Session.objects.values_list("session_key", flat=True)) == [sessions[1].session_key]


# ---------------------------------------------------------------- query counts do not grow with the content


class Measured:
    """Runs each page request inside a context manager: first to count the queries, then to hold the count."""

    def __init__(self, budget=None, assert_num_queries=None):
        self.counts, self.budget, self.assert_num_queries = {}, budget, assert_num_queries

    def __call__(self, page, request):
        if self.budget is None:
            with CaptureQueriesContext(connection) as queries:
                response = request()
            self.counts[page] = len(queries.captured_queries)
        else:
            with self.assert_num_queries(self.budget[page]):
                response = request()
        assert response.status_code in (200, 302), page
        return response


def flow_with_measured_pages(client, raw, measure):
    """The flow from start to result, measuring each step page, the review, scoring and the result page."""
    response = client.post(reverse("start"))
    while response["Location"] != REVIEW:
        slug = slug_of(response["Location"])
        measure(f"GET {slug}", lambda: client.get(step_url(slug)))
        response = post_step(client, slug, raw)
    measure("GET review", lambda: client.get(REVIEW))
    measure("POST result", lambda: client.post(reverse("result_create")))
    return measure("GET result", lambda: client.get(RESULT))


def grow_content():
    for criteria_set in CriteriaSet.objects.all():
        for i in range(30):
            make_criterion(criteria_set, code=f"extra-{i}", label=f"Extra criterion {i}", fact="age",
                           operator="gte", value=16, kind="inclusion", severity="possible")
    kinds = ["general", "expectation", "risk", "question", "availability", "cost"]
    for i in range(20):
        Note.objects.create(code=f"extra-note-{i}", kind=kinds[i % len(kinds)], title=f"Extra note {i}",
                            body="More to read.", source="Test source", order=100 + i)


@pytest.mark.parametrize("raw", [answers(), answers(edss=None, walking_aid="one_sided", walking_distance="100_199")],
                         ids=["edss known", "walking"])
def test_page_queries_do_not_grow_with_criteria_sets_or_notes(shipped_criteria, django_assert_num_queries, raw):
    first = Measured()
    before = html(flow_with_measured_pages(Client(), raw, first))
    assert first.counts and all(first.counts.values())

    grow_content()
    after = html(flow_with_measured_pages(Client(), raw, Measured(first.counts, django_assert_num_queries)))
    added_sets = CriteriaSet.objects.filter(active=True).count()
    assert after.count("data-criterion=") == before.count("data-criterion=") + 30 * added_sets
    assert after.count('class="note"') >= before.count('class="note"') + 20


def test_no_template_syntax_leaks_into_any_page(shipped_criteria, patient):
    """A template comment written across lines ({# … #}) is not a comment in Django: it would show to patients."""
    screening = see_result(patient, answers())
    pages = [patient.get(step_url(slug)) for slug in ("about-you", "edss", "treatments", "health")]
    pages += [patient.get(REVIEW), patient.get(RESULT), patient.get(reverse("submit")), Client().get("/"),
              Client().get(reverse("status")), Client().get(reverse("resume"))]
    for page in pages:
        text = html(page)
        assert not any(token in text for token in ("{#", "#}", "{%", "%}", "{{", "}}")), page.request["PATH_INFO"]
    assert screening.pk


def test_a_carer_is_reminded_on_every_later_step_to_answer_for_the_person_they_help(shipped_criteria, patient):
    answer_steps(patient, answers(respondent="carer"))
    reminder = "answer each question for them"
    assert reminder in html(patient.get(step_url("diagnosis")))
    assert reminder not in html(patient.get(step_url("about-you")))
    answer_steps(patient, answers(respondent="self"))
    assert reminder not in html(patient.get(step_url("diagnosis")))


@pytest.mark.parametrize("respondent, intro", [
    ("carer", "Change anything that is not right before you see the result."),
    ("self", "Change anything that is not right before you see your result."),
])
def test_a_carers_review_page_does_not_call_the_result_theirs(shipped_criteria, patient, respondent, intro):
    """The button under it says "See the result" to a carer: the line above it said "before you see your result"."""
    answer_steps(patient, answers(respondent=respondent))
    review = unescape(html(patient.get(reverse("review"))))
    assert intro in review
    assert ("your result" in review) is (respondent == "self")


def test_a_carers_review_page_asks_the_age_of_the_person_they_help(shipped_criteria, patient):
    """"How old are you? 41" on a carer's review page read as the carer's own age, and so it did when the first step
    was shown again to change it."""
    answer_steps(patient, answers(respondent="carer", age=41))
    review = unescape(html(patient.get(reverse("review"))))
    assert "How old is the person you are helping?" in review and "How old are you?" not in review
    again = unescape(html(patient.get(step_url("about-you"))))
    assert "How old is the person you are helping?" in again and "How old are you?" not in again
    answer_steps(patient, answers(respondent="self", age=41))
    review = unescape(html(patient.get(reverse("review"))))
    assert "How old are you?" in review and "person you are helping" not in review


# ---------------------------------------------------------------- what makes the steps fast must not leak or lose


def test_one_persons_answers_never_show_on_another_persons_blank_step(shipped_criteria):
    """A step nobody has answered yet is rendered once and reused; it must come out blank for the next person."""
    first, second = Client(), Client()
    answer_steps(first, answers(edss=6.5, relapses_12m=1, relapses_36m=5), until="treatments")
    assert checked_values(html(first.get(step_url("edss"))), "edss") == ["6.5"]
    assert text_value(html(first.get(step_url("relapses"))), "relapses_12m") == "1"
    answer_steps(second, answers(), until="edss")
    assert checked_values(html(second.get(step_url("edss"))), "edss") == []
    answer_steps(second, answers(edss=3.0), until="relapses")
    assert text_value(html(second.get(step_url("relapses"))), "relapses_12m") in (None, "")


def legends(response):
    """The questions of a step page, as their fieldsets' legends read (without the asterisk of a required one)."""
    return [" ".join(re.sub(r"<[^>]+>", "", unescape(text)).split()).removesuffix("*")
            for text in re.findall(r"<legend[^>]*>(.*?)</legend>", html(response), re.S)]


def test_a_question_names_what_this_person_told_us_even_where_blank_steps_are_reused(shipped_criteria):
    """The high-efficacy question listed seven medicines (two given as a short course, not "6 months on"), and a
    carer was asked "Are you pregnant?": each is now worded for the person, and a blank step rendered for one
    wording is never shown to someone who should read another."""
    on_ocrelizumab, on_two, carer = Client(), Client(), Client()
    answer_steps(on_ocrelizumab, answers(dmts=["fumarate", "anti_cd20"]), until="treatment-response")
    answer_steps(on_two, answers(dmts=["natalizumab", "cladribine"]), until="treatment-response")
    answer_steps(carer, answers(respondent="carer"), until="health")
    first, second = (legends(client.get(step_url("treatment-response"))) for client in (on_ocrelizumab, on_two))
    assert first[1] == ("From 6 months after you started ocrelizumab, ofatumumab, ublituximab or rituximab, did you "
                        "still have a relapse or new MRI activity?")
    assert second[1] == ("From 6 months after you started cladribine or natalizumab, did you still have a relapse or "
                         "new MRI activity?")
    page = unescape(html(carer.get(step_url("health"))))
    assert "Is the person you are helping pregnant, breastfeeding, or planning a pregnancy?" in page
    assert "They are pregnant or breastfeeding" in page and "I am pregnant" not in page
    yourself = Client()
    answer_steps(yourself, answers(), until="health")
    page = unescape(html(yourself.get(step_url("health"))))
    assert "Are you pregnant, breastfeeding, or planning a pregnancy?" in page and "They are" not in page


WALKS_WITH_A_STICK = dict(edss=None, walking_aid="one_sided", walking_distance="100_199")  # every step asked


def what_is_asked(step, raw):
    """Each text of a step's questions (labels, help, answers) as the questionnaire puts them to this person."""
    form = step.form_class(answers=raw, today=timezone.localdate())
    return {str(text) for field in form.fields.values() for text in (
        field.label, field.help_text, *(label for _value, label in getattr(field, "choices", ()))) if text}


@pytest.mark.parametrize("first", ["self", "carer"])  # whoever reaches a blank step first, each reads their own
def test_a_carer_reads_every_step_about_the_person_they_help_and_a_patient_reads_it_as_before(shipped_criteria,
                                                                                               first):
    raw = {respondent: answers(respondent=respondent, **WALKS_WITH_A_STICK) for respondent in ("self", "carer")}
    pages, kept = {}, {}
    for respondent in sorted(raw, key=lambda r: r != first):
        client = RecordingClient()
        answer_steps(client, raw[respondent])
        pages[respondent] = {resolve(r.request["PATH_INFO"]).kwargs["slug"]: unescape(html(r))
                             for r in client.responses if r.request["REQUEST_METHOD"] == "GET" and r.status_code == 200}
        pages[respondent]["review"] = unescape(html(client.get(reverse("review"))))
        client.post(reverse("result_create"))
        kept[respondent] = Screening.objects.latest("pk").answers
    titles = {respondent: re.findall(r'<h2 id="section-[^"]+">(.*?)</h2>', pages[respondent].pop("review"))
              for respondent in raw}  # the review page's sections, titled as the steps were
    assert titles["self"] == [str(step.title) for step in STEPS if step.slug in ALL_SLUGS]
    assert said_to_the_person(titles["carer"][1:]) == [] and "Their diagnosis" in titles["carer"]
    assert list(pages["carer"]) == list(pages["self"]) == ALL_SLUGS
    for step in STEPS[1:]:
        carers, patients = what_is_asked(step, raw["carer"]), what_is_asked(step, raw["self"])
        assert said_to_the_person(carers) == [], step.slug
        for respondent, own, others in (("carer", carers, patients), ("self", patients, carers)):
            page = pages[respondent][step.slug]
            (title,) = re.findall(r"<h1>(.*?)</h1>", page)  # the step's title speaks as its questions do
            assert title == titles[respondent][ALL_SLUGS.index(step.slug)], (respondent, title)
            assert [text for text in own if text not in page] == [], (respondent, step.slug)
            assert [text for text in others - own if text in page] == [], (respondent, step.slug)
    assert kept["carer"] == {**kept["self"], "respondent": "carer"}  # the same answers, under the same keys


@pytest.fixture
def carer_wording(monkeypatch):
    """``CARER_WORDING`` to change for one test (its questions are worded once per process)."""
    forms.question_for.cache_clear()
    yield lambda name, wording: monkeypatch.setitem(forms.CARER_WORDING, name, wording)
    monkeypatch.undo()
    forms.question_for.cache_clear()


@pytest.mark.parametrize("first", ["self", "carer"])
@pytest.mark.parametrize("slug, name, wording, carers", [  # the label the same, another part not
    ("walking-aid", "walking_aid", {"choices": {"none": "They walk without any help"}}, "They walk without any help"),
    ("walking-distance", "walking_distance", {"help_text": "With the help they usually use."},
     "With the help they usually use."),
])
def test_a_blank_step_kept_for_one_wording_is_never_shown_for_another_that_differs_in_an_answer_or_its_help(
        shipped_criteria, carer_wording, first, slug, name, wording, carers):
    carer_wording(name, wording)
    pages = {}
    for respondent in sorted(("self", "carer"), key=lambda r: r != first):
        client = Client()
        answer_steps(client, answers(respondent=respondent, **WALKS_WITH_A_STICK), until=slug)
        pages[respondent] = unescape(html(client.get(step_url(slug))))
    assert carers in pages["carer"] and carers not in pages["self"]


def test_the_draft_token_lives_in_a_private_cookie_that_goes_once_the_result_is_sent(shipped_criteria, patient,
                                                                                      settings):
    answer_steps(patient, answers())
    cookie = patient.responses[0].cookies[DRAFT]  # set by "Start"
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["max-age"]  # gone with the browser
    assert Draft.objects.filter(token_hash=hash_code(cookie.value)).exists()
    assert "sessionid" not in patient.cookies  # the steps need no session: one row read per step
    patient.post(reverse("result_create"))
    assert "sessionid" not in patient.cookies  # nor does scoring: the result's id is in a signed cookie
    response = patient.post(reverse("submit"), {"consent": "on"})
    assert response.status_code == 302
    assert response.cookies[DRAFT].value == ""
    assert not Draft.objects.filter(token_hash=hash_code(cookie.value)).exists()


def test_the_draft_and_result_cookies_are_https_only_when_the_session_cookie_is(shipped_criteria, settings):
    settings.SESSION_COOKIE_SECURE = True
    patient = RecordingClient()
    assert patient.post(reverse("start")).cookies[DRAFT]["secure"]
    answer_steps(patient, answers())
    assert patient.post(reverse("result_create")).cookies[VIEWS_RESULT]["secure"]


def test_the_result_cookie_is_private_holds_no_health_data_and_cannot_be_altered(shipped_criteria, patient):
    mine = see_result(patient, answers())
    cookie = patient.cookies[VIEWS_RESULT]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["max-age"]  # gone with the browser
    assert cookie.value.split(":")[0] == str(mine.pk)  # an id and its signature: nothing about health
    other = see_result(Client(), answers(ms_type="ppms"))
    for forged in (str(other.pk), cookie.value.replace(str(mine.pk), str(other.pk), 1), "", "not-a-cookie"):
        stranger = Client()
        stranger.cookies[VIEWS_RESULT] = forged
        assert stranger.get(RESULT)["Location"] == HOME, forged
        assert stranger.get(reverse("submit"))["Location"] == HOME, forged
    assert 'data-verdict="likely"' in html(patient.get(RESULT))


def test_the_result_page_reads_the_result_its_notes_and_its_answers_only(shipped_criteria, patient,
                                                                         django_assert_num_queries):
    see_result(patient, answers())
    patient.get(RESULT)  # the criteria's teaching text is read once per process: it never changes
    with django_assert_num_queries(3):  # the answers in progress: whether they changed since it was scored
        assert 'data-verdict="likely"' in html(patient.get(RESULT))


def test_a_step_page_reads_the_draft_and_nothing_else(shipped_criteria, patient, django_assert_num_queries):
    answer_steps(patient, answers(), until="relapses")
    with django_assert_num_queries(1):
        assert patient.get(step_url("relapses")).status_code == 200
    with django_assert_num_queries(1):  # what was typed, merged into the draft, which comes back
        assert post_step(patient, "relapses", answers()).status_code == 302


def test_a_guideline_named_beside_not_usually_offered_says_how_many_criteria_are_not_met(shipped_criteria, patient):
    """A 58-year-old with SPMS, two sticks and a heart condition read "Not every guideline reads your answers this
    way: EBMT guideline (2020) — Some answers need a closer look", as if it held out hope, beside six criteria not
    met: the count is said there, and beside every other set's verdict."""
    see_result(patient, answers(age=58, ms_type="spms", edss=None, walking_aid="two_sided", walking_distance="20_49",
                                diagnosis_year=2004, relapses_12m=0, relapses_36m=0, mri_activity_12m="unsure",
                                comorbidities=["heart"]))
    page = unescape(html(patient.get(RESULT)))
    listed = re.search(r'<ul class="guidelines-differ">(.*?)</ul>', page, re.S).group(1)
    assert "<li>EBMT guideline (2020) — Some answers need a closer look or more information (6 of 12 criteria not met, " \
           "1 not known)</li>" in listed
    cells = re.findall(r'<td class="verdict-cell [^"]*">(.*?)</td>', page, re.S)
    assert cells and all(re.search(r'<span class="tally">(all \d+ criteria met|\d+ of \d+ criteria not)', cell)
                         for cell in cells), cells


def test_someone_never_treated_is_not_asked_about_their_current_ms_medicine(shipped_criteria, patient):
    """"Ask your neurologist whether your current MS medicine is still the best choice", to someone who has never
    taken one."""
    see_result(patient, answers(ms_type="ppms", dmts=[]))
    page = unescape(html(patient.get(RESULT)))
    assert "If HSCT does not fit now: what else to ask about" in page
    assert "current MS medicine" not in page and "whether to start one, keep the one you take" in page


def test_someone_coming_back_finds_their_answers_in_progress_at_the_top_of_the_start_page(shipped_criteria, patient):
    """At 320 pixels "Continue where you stopped" was some 1,850 pixels down, under the introduction."""
    assert "You have answers in progress" not in html(patient.get(HOME))
    patient.post(reverse("start"))
    post_step(patient, "about-you", answers())
    page = html(patient.get(HOME))
    main = page[page.index("<main"):]
    assert main.index(f'<a href="{REVIEW}">go back to them</a>') < main.index("<h1")


@pytest.mark.parametrize("slug, posted, said", [
    ("about-you", {"respondent": "self", "age": "abc"}, "How old are you? Enter your age"),  # a question: as it is
    ("diagnosis", {"diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": "19"},
     "In which year were you diagnosed? Enter a year"),
])
def test_the_error_summary_reads_each_question_then_what_is_wrong(shipped_criteria, patient, slug, posted, said):
    answer_until(patient, slug)
    response = patient.get(post_raw_step(patient, slug, posted)["Location"])
    assert said in " ".join(unescape(re.sub(r"<[^>]+>", " ", error_summary(html(response)))).split())


def test_a_label_that_is_not_a_question_is_followed_by_a_colon_in_the_error_summary(shipped_criteria, patient):
    """"Email or phone number (optional) Enter at most…" ran the label into the message."""
    see_result(patient, answers())
    patient.post(reverse("submit"), {"consent": "on", "contact_details": "x" * 301})
    response = patient.get(reverse("submit"))
    summary = " ".join(unescape(re.sub(r"<[^>]+>", " ", error_summary(html(response)))).split())
    assert "Email or phone number (optional): " in summary, summary


def test_an_error_report_emailed_to_admins_carries_no_answer_cookie_or_variable(shipped_criteria, patient,
                                                                              settings, monkeypatch, mailoutbox):
    """Were ADMINS set, Django would email each server error with the request's form values, cookies and the local
    variables of every frame: answers, and the draft cookie that opens them. The report keeps the error, not them."""
    settings.ADMINS = [("Ops", "ops@example.org")]
    answer_steps(patient, answers(), until="health")
    draft_cookie = patient.cookies["draft"].value

    def broken(token, step_data):
        answers_seen = dict(step_data)  # noqa: F841 (a local variable, as the reporter shows it)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "draft_save_step", broken)
    patient.raise_request_exception = False
    response = patient.post(step_url("health"), {"comorbidities": "cancer", "prior_hsct": "false",
                                                 "pregnancy": "planning", "action": "next"})
    assert response.status_code == 500
    (report,) = mailoutbox
    text = report.body + "".join(content for content, _type in getattr(report, "alternatives", []))
    assert "the database went away" in text and "comorbidities" in text  # the error, and which fields were sent
    for health_data in ("cancer", "planning", draft_cookie, "answers_seen = {"):
        assert health_data not in text, health_data
