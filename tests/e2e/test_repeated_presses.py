"""For tremor: a button pressed twice (a second tap a moment after the first, before the next page has come) sends
one submission, and never leaves the person without a code they were never shown (PRODUCT.md §6, §9).

A browser sends the second press too, shows its page and drops the first's, with the cookie that held the first's
code. With JavaScript (send_once.js) the second press is not sent; without it, the server copes (a second "See my
result" stores a second, identical result, never sent or shown again, and purged with the drafts). Over a network the
first answer arrives after the second tap; here every post is answered late (``slow_answers``) so that the second tap
lands on the same page, as it does over a phone's connection.
"""

import re
import time

import pytest
from django.core.handlers.base import BaseHandler
from playwright.sync_api import expect

from screening import services
from screening.models import Screening

from .answer_sets import ANSWER_SETS
from .flow import STEP_SLUGS, Patient, answer_step, follow, press

ANSWERS = ANSWER_SETS[0]["answers"]
CODE = r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}"
LATENCY = 0.6  # seconds between a post's answer being ready and the browser receiving it
SECOND_TAP = 150  # milliseconds after the first: a tremor's repeated tap
NO_AXE = lambda page, label: None  # noqa: E731


@pytest.fixture
def slow_answers(monkeypatch):
    """Every post is answered ``LATENCY`` seconds after the server has done its work (committed, codes issued)."""
    answer = BaseHandler.get_response

    def late(self, request):
        response = answer(self, request)
        if request.method == "POST":
            time.sleep(LATENCY)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", late)


@pytest.fixture
def no_javascript_page(browser):
    """A page without JavaScript: axe cannot run there (the pages it shows are checked in test_submission and
    test_save_resume, reloaded)."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def tap_twice(page, name):
    """Two taps on the same spot of a button, ``SECOND_TAP`` ms apart, then wait for the page the browser keeps."""
    button = page.get_by_role("button", name=name, exact=True)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(SECOND_TAP)
    page.mouse.click(x, y)
    page.wait_for_timeout(LATENCY * 1000 * 2 + 1000)  # the second tap's answer (the first's navigation was dropped)
    page.wait_for_load_state()


def test_send_pressed_twice_without_javascript_says_the_access_code_was_not_shown_and_gives_a_new_one(
        no_javascript_page, site, shoot, slow_answers):
    page = no_javascript_page
    patient = Patient(page, site, NO_AXE, shoot)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    patient.see_result()
    follow(page, "Send my result to a neurologist")
    page.locator("label", has_text="I agree to send my answers").click()
    tap_twice(page, "Send this result")

    assert page.url == site + "/result/submitted/"
    assert Screening.objects.exclude(reference=None).count() == 1, "sent once"
    # The first press's page, with the codes, was dropped: this one says so (not "shown once already").
    expect(page.locator("[data-code=access]")).to_have_count(0)
    main = page.locator("main")
    expect(main).to_contain_text("If you wrote down or printed your private access code, it still works.")
    expect(main).to_contain_text("a second press of the send button, this page does not show it again")
    reference = page.locator("[data-code=reference]").inner_text().strip()
    patient.arrive("submitted (pressed twice)", "submitted-pressed-twice")

    press(page, "Give me a new access code")
    access_code = page.locator("[data-code=access]").inner_text().strip()
    assert re.fullmatch(CODE, access_code), access_code
    expect(page.locator("[data-code=reference]")).to_have_text(reference)
    assert services.screening_for_codes(reference, access_code) is not None, "the code shown opens the submission"


def test_save_pressed_twice_at_once_without_javascript_offers_a_new_resume_code(
        no_javascript_page, site, browser, shoot, slow_answers, monkeypatch):
    """Both presses read the draft before either stored its code: the second's page has none to show (the first's
    code, which works, was on the page the browser dropped). It says so, and gives a new code that works."""
    issue = services.draft_issue_resume_code

    def read_then_issue(draft):
        draft.resume_code_hash  # read, as each request reads it before storing its own
        time.sleep(0.4)  # the other press reads it too, meanwhile
        return issue(draft)

    monkeypatch.setattr(services, "draft_issue_resume_code", read_then_issue)
    page = no_javascript_page
    patient = Patient(page, site, NO_AXE, shoot)
    patient.start()
    answer_step(page, STEP_SLUGS[0], ANSWERS)
    tap_twice(page, "Save and finish later")

    assert page.url == site + "/check/saved/"
    expect(page.locator(".code-box")).to_have_count(0)
    main = page.locator("main")
    expect(main).to_contain_text("If you wrote down or printed your resume code, it still works.")
    expect(main).to_contain_text("a second press of the save button, this page does not show it again")
    patient.arrive("saved (pressed twice)", "saved-pressed-twice")

    monkeypatch.setattr(services, "draft_issue_resume_code", issue)
    press(page, "Give me a new resume code")
    code = page.locator(".code-box").inner_text().strip()
    assert re.fullmatch(CODE, code), code
    patient.arrive("saved (a new resume code)")

    context = browser.new_context()  # the code opens the answers elsewhere
    try:
        other = context.new_page()
        other.goto(site + "/check/resume/")
        other.get_by_label("Resume code").fill(code)
        press(other, "Continue")
        assert other.url.startswith(site + "/check/" + STEP_SLUGS[1] + "/"), other.url
    finally:
        context.close()


def test_with_javascript_send_pressed_twice_is_sent_once_and_shows_the_codes(page, site, check_accessible, shoot,
                                                                             slow_answers):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    tap_twice(page, "See my result")
    assert page.url == site + "/result/"
    assert Screening.objects.count() == 1, "the second press was sent too: a second result was stored"
    follow(page, "Send my result to a neurologist")
    page.locator("label", has_text="I agree to send my answers").click()
    tap_twice(page, "Send this result")

    assert page.url == site + "/result/submitted/"
    expect(page.locator("[data-code=access]")).to_have_count(1)  # the first press's page: the second was not sent
    reference = page.locator("[data-code=reference]").inner_text().strip()
    access_code = page.locator("[data-code=access]").inner_text().strip()
    assert services.screening_for_codes(reference, access_code) is not None, "the codes shown open the submission"
    patient.arrive("submitted (pressed twice, with JavaScript)", "submitted-pressed-twice-js")


def test_with_javascript_save_pressed_twice_shows_a_code_that_works_and_back_still_goes_back(
        page, site, check_accessible, slow_answers):
    patient = Patient(page, site, check_accessible)
    patient.start()
    answer_step(page, STEP_SLUGS[0], ANSWERS)
    tap_twice(page, "Continue")
    assert page.url == site + f"/check/{STEP_SLUGS[1]}/"
    press(page, "Back")  # a different button of the next page's form: sent at once
    assert page.url == site + f"/check/{STEP_SLUGS[0]}/"
    tap_twice(page, "Save and finish later")
    assert page.url == site + "/check/saved/"
    code = page.locator(".code-box").inner_text().strip()
    assert services.draft_for_resume_code(code) is not None, "the code shown opens the answers"
