"""At 320 CSS pixels wide (a small phone, or 400% zoom on a laptop): no sideways scrolling and no axe violation on
any page of the check, including an error state, the review and the result with every detail open, nor on the
neurologists' screening and re-score pages (WCAG 1.4.10). Wider, where the criteria tables are tables wider than
their box (a laptop at 125-150% zoom): they scroll in their box, the page does not."""

import re

from playwright.sync_api import expect

from screening.models import Criterion

from .answer_sets import ANSWER_SETS
from .flow import Patient, follow, no_horizontal_scroll, open_all_details, press, question
from .test_review_flow import detail_url, make_user, sign_in, submit

ANSWERS = ANSWER_SETS[0]["answers"]  # the longest path: a high-efficacy medicine asks both response questions
# Many criteria not met or not known: many "Why it matters" open, and the other sets' tables at their widest.
WIDE_TABLES = next(s for s in ANSWER_SETS if s["name"] == "possible-never-treated-relapses-unknown-region-not-said")


def test_every_page_fits_320_pixels(page, site, check_accessible, shoot):
    page.set_viewport_size({"width": 320, "height": 800})
    patient = Patient(page, site, check_accessible, shoot, narrow=True)  # every page: axe and no sideways scroll
    patient.start(shot="narrow-landing")
    patient.arrive("step about-you (320 px)", "narrow-step-about-you")
    page.get_by_label(question("age")).fill("abc")
    press(page, "Continue")
    expect(page.locator(".error-summary")).to_be_visible()
    patient.arrive("step about-you (error, 320 px)", "narrow-step-error")
    # down the page: the question, its hint, what is wrong, then the box with what was typed still in it
    tops = [page.locator(selector).bounding_box()["y"] for selector in (
        "#div_id_age label", "#id_age_helptext", "#id_age_error", "#id_age")]
    assert tops == sorted(tops), tops
    expect(page.locator("#id_age")).to_have_value("abc")

    patient.fill_questionnaire(ANSWERS, shots=False)
    patient.check_review(ANSWERS, shot="narrow-review")
    patient.see_result(shot="narrow-result")
    follow(page, "Send my result to a neurologist")
    patient.arrive("submit (320 px)")
    press(page, "Send this result")
    patient.arrive("submit (consent not ticked, 320 px)")
    page.locator("label", has_text="I agree to send my answers").click()
    press(page, "Send this result")
    patient.arrive("submitted (320 px)", "narrow-submitted")
    open_all_details(page)
    no_horizontal_scroll(page)
    # the resume code's page, with the address to type it at written out in full
    patient.start()
    press(page, "Save and finish later")
    patient.arrive("saved (320 px)", "narrow-saved")


def test_the_result_page_does_not_scroll_sideways_where_its_tables_do(page, site):
    """From the cards (below 40em) to the widest column (1200 px), a criteria table can be wider than its box and
    scroll in it; the page must not scroll with it, whatever is open. The words only a screen reader hears at the end
    of a row ("Why it matters: <criterion>") once escaped the box and widened the page, by 33 px at 1000 px."""
    page.set_default_timeout(10_000)
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    patient.fill_questionnaire(WIDE_TABLES["answers"])
    press(page, re.compile("^See (my|the) result$"))
    for width in (700, 768, 900, 1000, 1024, 1100, 1200, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for opened in ("false", "true"):
            page.locator("details").evaluate_all(f"els => els.forEach(d => d.open = {opened})")
            no_horizontal_scroll(page, width)
        if width == 900:  # else this would test nothing: some tables are wider than their box here (no longer at 1000)
            assert page.locator(".set-details .table-responsive").evaluate_all(
                "rs => rs.filter(r => r.scrollWidth > r.clientWidth).length") > 0


def test_the_neurologists_screening_and_re_score_pages_fit_320_pixels(page, site, settings, check_accessible, shoot):
    """The verdicts as scored, as last re-scored and now: each set a card, as on the screening's page; the facts
    table scrolls in its own box, which the keyboard reaches (a named region)."""
    page.set_default_timeout(10_000)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_user("dr-narrow")
    screening = submit(edss=3.5)
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0  # changed since the screening was scored: a re-score to preview
    criterion.save()
    sign_in(page, site, "dr-narrow")
    rescore_url = f"{detail_url(site, screening)}rescore/"
    page.goto(rescore_url)
    press(page, "Save this re-score with the screening")  # then the preview has a column more: the last re-score

    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(detail_url(site, screening))
    open_all_details(page)
    no_horizontal_scroll(page)
    facts = page.get_by_role("region", name="Facts")
    assert facts.evaluate("r => r.scrollWidth > r.clientWidth")
    expect(facts).to_have_attribute("tabindex", "0")

    page.goto(rescore_url)
    no_horizontal_scroll(page)
    open_all_details(page)
    no_horizontal_scroll(page)
    labels = page.locator("tr[data-set='article'] td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert labels[0] == '"As scored: "' and labels[1].startswith('"Last re-score (') and \
        labels[2] == '"With current criteria: "', labels
    check_accessible(page, "re-score preview (320 px)")
    shoot(page, "narrow-rescore")
