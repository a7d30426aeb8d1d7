"""Back and next never lose what was typed, valid or not; errors are explained next to the field; nothing is
preselected (PRODUCT.md §2, §6, §9)."""

import re

import pytest
from playwright.sync_api import expect

from screening.forms import NONE_OF_THESE

from .flow import (Patient, choice_label, current_slug, follow, group, preselected, press, question, review_rows,
                   step_count_text)


def test_an_invalid_age_is_explained_and_kept_through_back_and_continue(page, site, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start(shot="landing")
    assert preselected(page) == [], "nothing is chosen for the person"
    patient.arrive("step about-you", "step-about-you")
    age = page.get_by_label(question("age"))

    age.fill("abc")
    press(page, "Continue")
    assert current_slug(page) == "about-you"
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name=re.compile("Enter your age as a whole number"))).to_be_visible()
    message = page.locator("#id_age_error")  # next to the field, and read out with it
    expect(message).to_have_text("Enter your age as a whole number, for example 34.")
    expect(age).to_have_attribute("aria-describedby", re.compile(r"\bid_age_error\b"))
    expect(age).to_have_attribute("aria-invalid", "true")
    expect(age).to_have_value("abc")
    patient.arrive("step about-you (age not a number)", "step-about-you-error")

    # Back from the first step is the landing page; from there "Continue where you stopped" finds the answer again.
    press(page, "Back")
    assert page.url == site + "/"
    patient.arrive("landing (answers in progress)", "landing-in-progress")
    follow(page, "Continue where you stopped")
    assert current_slug(page) == "review"
    patient.arrive("review (age not valid yet)")
    row = review_rows(page)[question("age")]  # what was typed, and why it cannot be used yet
    assert row.splitlines()[0] == "abc" and row.endswith("Enter your age as a whole number, for example 34.")
    follow(page, re.compile(r"How old are you\?"))
    assert current_slug(page) == "about-you"
    expect(age).to_have_value("abc")
    patient.arrive("step about-you (from review)")
    press(page, "Save and return to review")
    expect(page.locator("#id_age_error")).to_have_text("Enter your age as a whole number, for example 34.")
    expect(age).to_have_value("abc")
    patient.arrive("step about-you (still not a number)")

    age.fill("12")
    press(page, "Save and return to review")
    expect(page.locator("#id_age_error")).to_have_text(
        "This check is for people aged 16 and over. For a younger person, ask their MS team about treatment options, "
        "HSCT included.")
    expect(age).to_have_value("12")
    patient.arrive("step about-you (under 16)", "step-about-you-under-16")

    age.fill("40")
    press(page, "Save and return to review")
    assert current_slug(page) == "diagnosis", "the next unanswered step"


def test_back_and_continue_keep_every_answer_even_an_invalid_one(page, site, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    page.get_by_label(question("age")).fill("40")
    press(page, "Continue")

    assert current_slug(page) == "diagnosis"
    assert preselected(page) == []
    patient.arrive("step diagnosis")
    confirmed = page.get_by_role("group", name=question("diagnosis_confirmed")).get_by_label("Yes", exact=True)
    ms_type = page.get_by_label(re.compile("^Relapsing-remitting MS"))
    year, month = page.get_by_label(question("diagnosis_year")), page.get_by_label(question("diagnosis_month"))
    page.get_by_text("Yes", exact=True).click()
    page.get_by_text(re.compile("^Relapsing-remitting MS")).click()
    year.fill("20x9")
    month.select_option(label="March")
    press(page, "Continue")

    assert current_slug(page) == "diagnosis"
    expect(page.locator(".error-summary")).to_contain_text("Enter a year as four digits")
    expect(page.locator("#id_diagnosis_year_error")).to_have_text("Enter a year as four digits, for example 2019.")
    expect(confirmed).to_be_checked()
    expect(ms_type).to_be_checked()
    expect(year).to_have_value("20x9")
    expect(month).to_have_value("3")
    patient.arrive("step diagnosis (year not valid)", "step-diagnosis-error")

    press(page, "Back")
    assert current_slug(page) == "about-you"
    expect(page.get_by_label(question("age"))).to_have_value("40")
    patient.arrive("step about-you (back)")
    press(page, "Continue")
    assert current_slug(page) == "diagnosis"
    expect(confirmed).to_be_checked()
    expect(ms_type).to_be_checked()
    expect(year).to_have_value("20x9")
    expect(month).to_have_value("3")
    patient.arrive("step diagnosis (forward again)")

    year.fill("2019")
    press(page, "Continue")
    assert current_slug(page) == "edss"
    assert step_count_text(page) == "Step 3 of 10"
    assert preselected(page) == [], "not even “I don't know my score”"
    patient.arrive("step edss")
    page.get_by_text("3.5", exact=True).click()
    press(page, "Back")
    assert current_slug(page) == "diagnosis"
    press(page, "Continue")
    assert current_slug(page) == "edss"
    expect(page.get_by_label("3.5", exact=True)).to_be_checked()
    assert preselected(page) == ["edss=3.5"]
    press(page, "Continue")
    assert current_slug(page) == "relapses", "a known score skips the walking questions"
    assert step_count_text(page) == "Step 4 of 8"


def test_the_step_buttons_are_far_enough_apart_for_a_shaking_hand(page, site):
    """Continue, Back and Save do different things: at least 24 px between them, side by side on a laptop and
    wrapped onto their own lines on a small phone (a press meant for one must not land on another)."""
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()

    def gaps():
        boxes = [page.get_by_role("button", name=name, exact=True).bounding_box()
                 for name in ("Continue", "Back", "Save and finish later")]
        apart = []
        for first, second in zip(boxes, boxes[1:]):
            if abs(first["y"] - second["y"]) < 1:  # on one line: the space between them across
                apart.append(second["x"] - (first["x"] + first["width"]))
            else:  # wrapped: the space between the lines
                apart.append(second["y"] - (first["y"] + first["height"]))
        return apart

    assert all(gap >= 24 for gap in gaps()), gaps()
    page.set_viewport_size({"width": 320, "height": 800})
    assert all(gap >= 24 for gap in gaps()), gaps()


@pytest.mark.parametrize("slug, key, others", [
    ("health", "comorbidities", ["heart", "lung"]),
    ("treatments", "dmts", ["interferon_beta", "glatiramer"]),
])
def test_a_checkbox_questions_none_box_and_its_other_boxes_untick_each_other(page, site, slug, key, others):
    """"None of these" left ticked from before does not stay beside a condition or medicine ticked now (Continue would
    then say to untick one), nor the other way round; the box just ticked keeps the focus."""
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    page.goto(f"{site}/check/{slug}/")
    asked = group(page, key)
    none, first, second = (asked.get_by_label(choice_label(key, value), exact=True)
                           for value in [NONE_OF_THESE, *others])

    def ticked():
        return asked.locator("input:checked").evaluate_all("els => els.map(e => e.value)")

    asked.get_by_text(choice_label(key, NONE_OF_THESE), exact=True).click()
    assert ticked() == [NONE_OF_THESE]
    asked.get_by_text(choice_label(key, others[0]), exact=True).click()
    assert ticked() == others[:1]
    expect(first).to_be_focused()
    page.keyboard.press("Tab")  # by the keyboard too
    expect(second).to_be_focused()
    page.keyboard.press("Space")
    assert ticked() == others, "a second answer leaves the first ticked"

    asked.get_by_text(choice_label(key, NONE_OF_THESE), exact=True).click()
    assert ticked() == [NONE_OF_THESE]
    expect(none).to_be_focused()
    none.click()  # unticked, "none" leaves nothing ticked: no answer, as it looks
    assert ticked() == []

    asked.get_by_text(choice_label(key, NONE_OF_THESE), exact=True).click()
    first.click()
    press(page, "Continue")
    expect(page.get_by_text("is ticked with other answers")).to_have_count(0)


def test_an_error_summary_link_shows_the_whole_question_with_its_field_focused(page, site):
    """On a phone, a link in the error summary brings its question into view (the legend or label at the top, then
    the hint and the message) and puts the focus in the field: not the field at the top edge, the question above
    the screen. The link still names the field itself."""
    page.set_viewport_size({"width": 375, "height": 667})
    page.emulate_media(reduced_motion="reduce")  # the page jumps (else Bootstrap scrolls smoothly): read where it ends
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    page.get_by_label(question("age")).fill("52")
    press(page, "Continue")
    press(page, "Continue")  # nothing answered on the diagnosis step
    assert current_slug(page) == "diagnosis"
    for key, field_id, asked in [("ms_type", "id_ms_type_0", "#div_id_ms_type legend"),
                                 ("diagnosis_year", "id_diagnosis_year", "label[for=id_diagnosis_year]")]:
        page.evaluate("window.scrollTo(0, 0)")
        link = page.locator(".error-summary").get_by_role("link", name=re.compile("^" + re.escape(question(key))))
        expect(link).to_have_attribute("href", f"#{field_id}")
        link.click()
        expect(page.locator(f"#{field_id}")).to_be_focused()
        top = page.locator(asked).bounding_box()["y"]
        assert 6 <= top < 667, f"{key}: the question's top at {top} px (a little below the edge, not cut by it)"
        for part in (f"#id_{key}_helptext", f"#id_{key}_error", f"#{field_id}"):  # and all below it, on screen
            expect(page.locator(part)).to_be_in_viewport(ratio=1)
