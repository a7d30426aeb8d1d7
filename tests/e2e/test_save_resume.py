"""Save and finish later: a resume code, shown once, opens the answers in another browser (PRODUCT.md §6)."""

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

from .answer_sets import ANSWER_SETS
from .flow import (STEP_FIELDS, STEP_SLUGS, Patient, answer_step, answer_text, codes_on_paper, current_slug, press, question,
                   review_rows, step_count_text, step_position)

ANSWERS = next(e["answers"] for e in ANSWER_SETS if e["answers"].get("walking_aid") == "two_sided")
SAVED_ON = "walking-distance"


def test_a_resume_code_restores_the_answers_in_a_new_browser(page, site, browser, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    for slug in STEP_SLUGS[:STEP_SLUGS.index(SAVED_ON)]:
        assert current_slug(page) == slug
        patient.arrive(f"step {slug}")
        answer_step(page, slug, ANSWERS)
        press(page, "Continue")
    assert current_slug(page) == SAVED_ON
    patient.arrive(f"step {SAVED_ON}", f"step-{SAVED_ON}")
    answer_step(page, SAVED_ON, ANSWERS)
    press(page, "Save and finish later")

    assert page.url == site + "/check/saved/"
    code = page.locator(".code-box").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}", code), code
    patient.arrive("saved", "saved")
    codes_on_paper(page)
    page.emulate_media(media="print")  # read on paper weeks later: when the code was given, until when it works
    try:
        today, days = timezone.localdate(), settings.DRAFT_RETENTION_DAYS
        given, use_by = date_format(today, "j F Y"), date_format(today + timedelta(days=days - 1), "j F Y")
        dates = page.locator(".code-dates")
        expect(dates).to_be_visible()
        expect(dates).to_have_text(f"Given on {given}. Use it by {use_by}: saved answers left unchanged for {days} "
                                   "days are deleted.")
    finally:
        page.emulate_media(media="screen")
    page.reload()
    expect(page.locator(".code-box")).to_have_count(0)
    # these answers were filled in by a carer: "the resume code", not "your"
    expect(page.locator("main")).to_contain_text("If you wrote down or printed the resume code, it still works.")
    patient.arrive("saved (code already shown)")

    context = browser.new_context()  # another browser: no cookies, no session
    try:
        other = context.new_page()
        later = Patient(other, site, check_accessible, shoot)
        later.start()  # other answers begun here first: the code's answers will take their place, once asked
        answer_step(other, STEP_SLUGS[0], ANSWERS)
        press(other, "Continue")
        response = later.goto("/check/resume/", "resume", "resume")
        assert "no-store" in response.headers["cache-control"]
        code_input = other.get_by_label("Resume code")

        code_input.fill("AAAAA-BBBBB-CCCCC-DDDDD")
        press(other, "Continue")
        expect(other.locator("#id_resume_code_error")).to_contain_text("We could not find answers for that code")
        expect(other.locator(".error-summary")).to_be_visible()
        expect(code_input).to_have_value("AAAAA-BBBBB-CCCCC-DDDDD")
        later.arrive("resume (wrong code)", "resume-wrong-code")

        code_input.fill(code.lower().replace("-", " "))  # typed loosely: case and separators do not matter
        press(other, "Continue")
        expect(other.get_by_role("heading", level=1)).to_have_text("Replace the answers in progress?")
        later.arrive("resume (answers in progress here)", "resume-replace")
        press(other, "Yes, continue with the saved answers")
        assert current_slug(other) == "relapses", "the first question not answered yet"
        n, total = step_position(ANSWERS, "relapses")
        assert step_count_text(other) == f"Step {n} of {total}"
        later.arrive("step relapses (resumed)")

        press(other, "Back")
        assert current_slug(other) == SAVED_ON
        label = answer_text("walking_distance", ANSWERS["walking_distance"], ANSWERS)
        expect(other.get_by_label(label, exact=True)).to_be_checked()
        later.arrive(f"step {SAVED_ON} (resumed)")

        later.goto("/check/review/", "review (resumed)", "review-resumed")
        rows = review_rows(other)
        saved_keys = [key for slug in STEP_SLUGS[:STEP_SLUGS.index(SAVED_ON) + 1] for key in STEP_FIELDS[slug]
                      if key in ANSWERS]
        assert len(saved_keys) == 8
        for key in saved_keys:
            assert rows[question(key, ANSWERS)] == answer_text(key, ANSWERS[key], ANSWERS), key
        assert rows[question("diagnosis_month", ANSWERS)] == "I don't remember"  # the month was left as it was
        assert rows[question("mri_activity_12m", ANSWERS)] == "Not answered yet"
        expect(other.get_by_role("button", name=re.compile("^See (my|the) result$"))).to_have_count(0)
        expect(other.get_by_role("link", name="Answer the remaining questions")).to_be_visible()
    finally:
        context.close()
