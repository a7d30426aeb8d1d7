"""Sending the result to a neurologist, looking up its status with the two codes, and withdrawing it
(PRODUCT.md §6 points 5 and 6)."""

import re

from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from screening import services

from .answer_sets import ANSWER_SETS
from .flow import Patient, codes_on_paper, follow, press

ANSWERS = ANSWER_SETS[0]["answers"]
CODE = r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}"


def look_up(patient, reference, access_code, label, shot=None):
    page = patient.page
    patient.goto("/status/", "status", "status" if shot else None)
    page.get_by_label("Reference code").fill(reference)
    page.get_by_label("Private access code").fill(access_code)
    press(page, "Show the status")
    patient.arrive(label, shot)


def test_submit_look_up_the_status_and_withdraw(page, site, browser, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    patient.check_review(ANSWERS)
    patient.see_result()

    follow(page, "Send my result to a neurologist")
    assert page.url == site + "/result/submit/"
    consent = page.get_by_role("checkbox", name=re.compile("^I agree to send my answers"))
    expect(consent).not_to_be_checked()
    expect(page.locator("main")).to_contain_text("What is shared")
    expect(page.locator("main")).to_contain_text("withdraw")
    patient.arrive("submit", "submit")

    page.get_by_label("Your name (optional)").fill("Sam Example")
    press(page, "Send this result")
    assert page.url == site + "/result/submit/", "nothing is sent without consent"
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_contain_text("Tick the box to agree")
    error = page.locator("#div_id_consent .invalid-feedback")  # in the consent field's own block
    expect(error).to_be_visible()
    expect(error).to_contain_text("Tick the box to agree, or go back to your result without sending it.")
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).not_to_be_checked()
    expect(page.get_by_label("Your name (optional)")).to_have_value("Sam Example")
    patient.arrive("submit (consent not ticked)", "submit-consent-error")

    page.locator("label", has_text="I agree to send my answers").click()
    expect(consent).to_be_checked()
    press(page, "Send this result")
    assert page.url == site + "/result/submitted/"
    reference = page.locator("[data-code=reference]").inner_text().strip()
    access_code = page.locator("[data-code=access]").inner_text().strip()
    assert re.fullmatch(r"R-" + CODE, reference), reference
    assert re.fullmatch(CODE, access_code), access_code
    patient.arrive("submitted", "submitted")
    codes_on_paper(page)

    page.reload()
    expect(page.locator("[data-code=access]")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(access_code)
    expect(page.locator("main")).to_contain_text("If you wrote down or printed your private access code, it still")
    expect(page.locator("[data-code=reference]")).to_have_text(reference)
    patient.arrive("submitted (codes already shown)")
    press(page, "Give me a new access code")  # lost before it was written down: a new one replaces it
    new_access_code = page.locator("[data-code=access]").inner_text().strip()
    assert re.fullmatch(CODE, new_access_code) and new_access_code != access_code
    patient.arrive("submitted (a new access code)")
    access_code = new_access_code

    other = browser.new_context()  # someone looking later, on another device
    try:
        later = Patient(other.new_page(), site, check_accessible, shoot)
        look_up(later, reference, "AAAAA-BBBBB-CCCCC-DDDDD", "status (wrong access code)", "status-wrong-code")
        assert later.page.url == site + "/status/"
        expect(later.page.locator(".error-summary")).to_contain_text("We could not find a submission with those codes")
        expect(later.page.get_by_label("Reference code")).to_have_value(reference)

        look_up(later, reference.lower(), access_code, "status detail", "status-detail")
        assert later.page.url == site + "/status/yours/"
        status = later.page.locator("[data-status]")
        expect(status).to_have_text("Sent: waiting for a neurologist to read it")
        expect(status).to_have_attribute("data-status", "submitted")
        expect(later.page.locator("main")).to_contain_text(reference)

        press(later.page, "Withdraw and erase")
        expect(later.page.locator(".error-summary")).to_contain_text("Tick the box to confirm")
        expect(later.page.locator("#div_id_confirm .invalid-feedback")).to_be_visible()
        later.arrive("status detail (withdraw not confirmed)", "status-withdraw-error")
        later.page.locator("label", has_text="I want to withdraw my submission").click()
        press(later.page, "Withdraw and erase")
        expect(later.page.get_by_role("heading", level=1)).to_have_text("Your result has been withdrawn")
        later.arrive("withdrawn", "withdrawn")
        # Back: the status page the error was shown on (after a redirect), now the withdrawn page; not Chrome's
        # "Confirm Form Resubmission" ("you will repeat any action this page previously performed").
        later.page.go_back()
        assert later.page.url == site + "/status/withdrawn/"
        expect(later.page.get_by_role("heading", level=1)).to_have_text("Your result has been withdrawn")

        look_up(later, reference, access_code, "status (withdrawn codes)", "status-withdrawn-codes")
        assert later.page.url == site + "/status/", "the withdrawn submission cannot be opened any more"
        expect(later.page.locator("[data-status]")).to_have_count(0)
        told = later.page.locator(".error-summary").count() == 1 and "We could not find a submission" in \
            later.page.locator(".error-summary").inner_text()
        later.page.goto(site + "/status/yours/")  # the status page reopened here: it says what became of it
        assert later.page.url == site + "/status/withdrawn/"
        expect(later.page.get_by_role("heading", level=1)).to_have_text("Your result has been withdrawn")
        later.arrive("status (after withdrawing)")
    finally:
        other.close()

    # The first browser's result page is gone too: it says the result was withdrawn and the answers erased (not
    # "There is no result to show", with its "check its status with your two codes", which open nothing now).
    page.goto(site + "/result/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result has been withdrawn")
    expect(page.locator("main")).not_to_contain_text("two codes")
    patient.arrive("result (withdrawn on another device)")

    # Last, so that everything above is checked whatever happens here: the person is told why the codes no longer
    # open anything, instead of being shown the empty form again as if nothing had happened.
    assert told, "looking up withdrawn codes shows the empty form again, with no message"


def test_on_paper_the_status_page_has_the_message_not_what_is_said_about_its_buttons(page, site, check_accessible):
    """Printed for the neurologist at the clinic: the reference, the status and the neurologist's message; not the
    sentences about the reply box and the withdraw button, which are not on the paper ("Your reply goes with your
    result…", "If you withdraw…" read as if there were something to fill in or press); what to do says how to reply
    from another day's screen, not "reply here"."""
    screening = services.screening_create(answers=ANSWERS, today=timezone.localdate())
    reference, access_code = services.screening_submit(screening=screening, consent_version="test-1",
                                                       consent_text="I agree to share my answers.")
    screening.refresh_from_db()
    request = RequestFactory().post("/")
    request.user = get_user_model().objects.create_user("neuro-print")
    services.review_decide(screening=screening, revision=screening.revision, decision="more_info",
                           message="Please send your last MRI report.", internal_note="", request=request)
    patient = Patient(page, site, check_accessible)
    look_up(patient, reference, access_code, "status detail (more information asked)")
    explanations = [page.get_by_text("Your reply goes with your result"),
                    page.get_by_role("heading", name="Withdraw your result"), page.get_by_text("If you withdraw"),
                    page.get_by_text("You can reply here.")]
    on_paper = page.get_by_text("To reply, open the status page and enter your reference code and private access code.")
    for sentence in explanations:  # on screen, with their box and button
        expect(sentence).to_be_visible()
    expect(on_paper).to_be_hidden()

    page.emulate_media(media="print")
    try:
        for sentence in explanations:
            expect(sentence).to_be_hidden()
        assert page.locator("main button, main textarea").count() >= 3  # the reply box and both forms' buttons
        for control in page.locator("main button, main textarea").all():
            expect(control).to_be_hidden()
        expect(page.locator("main")).to_contain_text(reference)
        expect(page.locator("[data-status]")).to_be_visible()
        expect(page.get_by_role("heading", name="Message from the neurologist")).to_be_visible()
        expect(page.locator(".released-message")).to_be_visible()
        expect(page.locator(".released-message")).to_contain_text("Please send your last MRI report.")
        expect(on_paper).to_be_visible()  # what to do, worded for paper: no box "here" to reply in
        expect(page.locator("main")).not_to_contain_text(re.compile(r"\bhere\b"), use_inner_text=True)
    finally:
        page.emulate_media(media="screen")
