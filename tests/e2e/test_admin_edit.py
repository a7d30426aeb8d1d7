"""One criteria edit through the real admin in a real browser: sign in, move a threshold, preview its effect on the
reference cases, save it, and see the set's page flag the case that now disagrees."""

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from screening.models import CriteriaSet, Criterion, Note

from .flow import no_horizontal_scroll, tab_stop_only_while_it_scrolls

PASSWORD = "Correct-Horse-Battery-42"
CASE = "active-rrms-failed-natalizumab"  # EDSS 3.5: likely under the Article set while its limit is EDSS below 6.0


def sign_in_as_admin(page, site, username, path):
    """A new superuser, signed in on the real admin login page, which then opens ``path``."""
    get_user_model().objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    page.set_default_timeout(10_000)
    page.goto(f"{site}/admin/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site + path)


SAVE = "Save: patients' results use these criteria from now"


def gap_above_discard(page, button):
    """CSS pixels between the preview's submit button and the "Discard" link under it."""
    above = page.get_by_role("button", name=button).bounding_box()
    below = page.get_by_role("link", name="Discard and go back to the saved page").bounding_box()
    return below["y"] - (above["y"] + above["height"])


def test_an_admin_previews_and_saves_a_threshold_change(page, site, shoot, check_accessible):
    article = CriteriaSet.objects.get(code="article")
    edss = Criterion.objects.get(criteria_set=article, code="edss_below_6")
    assert edss.value == 6.0
    change_path = f"/admin/screening/criteriaset/{article.pk}/change/"
    sign_in_as_admin(page, site, "criteria-admin", change_path)
    expect(page.locator(f'#reference-cases tr[data-case="{CASE}"]')).to_have_attribute("data-agrees", "yes")
    check_accessible(page, "admin: a set's page")
    # A citation, a source, a label: each shown whole, to be checked without scrolling inside its box.
    boxes = page.locator('[name="citation"], [name$="-source"]:not([name*="__prefix__"]), '
                         '[name$="-label"]:not([name*="__prefix__"])')
    assert boxes.count() == 1 + 2 * article.criteria.count()
    cut_off = boxes.evaluate_all("""boxes => boxes.filter(b => b.scrollWidth > b.clientWidth
                                                              || b.scrollHeight > b.clientHeight + 1).map(b => b.name)""")
    assert cut_off == []

    # Move the EDSS threshold from 6.0 to 3.0 in the criterion's own "Value" box, and its label with it.
    code_box = page.locator('input[name$="-code"][value="edss_below_6"]')
    prefix = code_box.get_attribute("name").removesuffix("code")
    value_box = page.locator(f'textarea[name="{prefix}value"]')
    expect(value_box).to_have_value("6.0")
    value_box.fill("3.0")
    page.locator(f'textarea[name="{prefix}label"]').fill("Disability score (EDSS) below 3.0")

    # Preview: nothing is saved yet, and the case's flip is shown.
    page.get_by_role("button", name=re.compile("^Preview the effect on reference cases")).click()
    page.wait_for_url(re.compile(r"/preview/$"))
    expect(page.get_by_text("Nothing has been saved.")).to_be_visible()
    row = page.locator(f'#preview-results tr[data-case="{CASE}"]')
    expect(row).to_have_attribute("data-before", "likely")
    expect(row).to_have_attribute("data-after", "unlikely")
    expect(row).to_have_attribute("data-agrees", "no")
    expect(row).to_contain_text("unlikely (changes)")
    expect(row).to_contain_text("DISAGREES")
    shoot(page, "admin-preview")
    check_accessible(page, "admin: the preview")
    # A press meant for the Save button that slips (a tremor) must not land on "Discard" (WCAG 2.5.8: 24 px).
    assert gap_above_discard(page, SAVE) >= 24
    edss.refresh_from_db()
    assert edss.value == 6.0 and CriteriaSet.objects.get(pk=article.pk).version == article.version

    # Cases now disagree: saving needs the tick and a reason, kept in the history.
    page.get_by_label(re.compile(r"^I have checked that 4 reference cases now disagree")).check()
    page.get_by_label("Reason for this change").fill("EBMT lowered the limit")
    # Save what was previewed: the set's page now flags the case.
    page.get_by_role("button", name=SAVE).click()
    page.wait_for_url(site + change_path)
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    flagged = page.locator(f'#reference-cases tr[data-case="{CASE}"]')
    expect(flagged).to_have_attribute("data-agrees", "no")
    expect(flagged).to_contain_text("DISAGREES")
    expect(page.locator(f'textarea[name="{prefix}value"]')).to_have_value("3.0")
    shoot(page, "admin-after-save")
    for path in ("criteriaset", "criterion", "note"):  # the lists, with their filters
        page.goto(f"{site}/admin/screening/{path}/")
        check_accessible(page, f"admin: the list of {path}")

    edss.refresh_from_db()
    assert edss.value == 3.0
    assert CriteriaSet.objects.get(pk=article.pk).version == article.version + 1
    assert edss.history.latest().history_user.username == "criteria-admin"
    assert edss.history.latest().history_change_reason == "EBMT lowered the limit"


def test_a_preview_with_a_problem_goes_back_to_the_edits_as_typed(page, site, check_accessible):
    """A slip ("5,5") found by the preview: "Go back to your edits" brings the page back as typed, a line break in an
    explanation too, with the message beside the box; corrected, it saves. Only "Discard" lost the edits before."""
    article = CriteriaSet.objects.get(code="article")
    change_path = f"/admin/screening/criteriaset/{article.pk}/change/"
    sign_in_as_admin(page, site, "slip-admin", change_path)
    prefix = page.locator('input[name$="-code"][value="edss_below_6"]').get_attribute("name").removesuffix("code")
    value_box, explanation_box = (page.locator(f'textarea[name="{prefix}{name}"]') for name in ("value", "explanation"))
    value_box.fill("5,5")
    page.locator(f'textarea[name="{prefix}label"]').fill("Disability score (EDSS) below 5.5")
    explanation_box.fill("Walking is still possible.\nHSCT works best before disability builds up.")

    page.get_by_role("button", name=re.compile("^Preview the effect on reference cases")).click()
    page.wait_for_url(re.compile(r"/preview/$"))
    expect(page.locator("ul.errorlist")).to_contain_text("edss_below_6 · value: This is not JSON.")
    check_accessible(page, "admin: a preview that lists problems")
    assert gap_above_discard(page, "Go back to your edits (nothing is saved)") >= 24
    page.get_by_role("button", name="Go back to your edits (nothing is saved)").click()

    page.wait_for_url(site + change_path)
    expect(value_box).to_have_value("5,5")
    expect(explanation_box).to_have_value("Walking is still possible.\nHSCT works best before disability builds up.")
    expect(page.locator(f"#id_{prefix}value_error")).to_contain_text("Write a number with a dot")  # beside the box
    check_accessible(page, "admin: the edits back from their preview")
    assert Criterion.objects.get(criteria_set=article, code="edss_below_6").value == 6.0

    value_box.fill("5.5")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    edss = Criterion.objects.get(criteria_set=article, code="edss_below_6")
    assert edss.value == 5.5 and edss.explanation.splitlines() == [
        "Walking is still possible.", "HSCT works best before disability builds up."]


def test_the_admin_warns_before_the_idle_sign_out_and_keeps_an_edit_from_being_lost(page, site, settings):
    """An admin writing a note's body can pass the idle time: warned first, "Stay signed in" keeps the session; once
    signed out, Save is held back (it would lead to the sign-in page and drop the edit) and the text stays to copy."""
    settings.STAFF_IDLE_SECONDS = 8  # the warning opens 4 seconds before the end
    note = Note.objects.order_by("pk").first()
    sign_in_as_admin(page, site, "notes-admin", f"/admin/screening/note/{note.pk}/change/")
    body = page.locator("textarea[name=body]")
    body.fill("A long edit, typed slowly.")
    dialog = page.locator("#idle-dialog")
    page.wait_for_selector("#idle-dialog[open]", timeout=8_000)
    expect(dialog).to_contain_text("You will be signed out soon")  # the dialog the review pages check with axe
    with page.expect_response(lambda r: r.url.endswith("/accounts/keepalive/")) as kept:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 204

    expect(dialog.get_by_role("heading")).to_have_text("You have been signed out", timeout=12_000)
    dialog.get_by_role("button", name="Close").click()
    expect(body).to_have_value("A long edit, typed slowly.")
    expect(page.locator('input[type=submit][name="_save"]')).to_be_disabled()
    assert Note.objects.get(pk=note.pk).body == note.body


def test_the_admins_wide_tables_scroll_in_their_own_box_not_the_page(page, site, check_accessible):
    """A set's page (its reference cases), the preview of an edit and the set's history on a phone (WCAG 1.4.10): each
    wide table scrolls sideways in its own box, a named region the keyboard reaches while it scrolls, and the page
    never does. They made the page 352, 423 and 518 px wide at 320 (the history 856 px at 768)."""
    article = CriteriaSet.objects.get(code="article")
    edss = Criterion.objects.get(criteria_set=article, code="edss_below_6")
    edss.value, edss.label = 5.5, "Disability score (EDSS) below 5.5"
    edss.save()  # a change in the set's history and in its criteria's
    change_path = f"/admin/screening/criteriaset/{article.pk}/change/"
    sign_in_as_admin(page, site, "narrow-admin", change_path)

    def fits(width, regions):
        page.set_viewport_size({"width": width, "height": 800})
        no_horizontal_scroll(page, width)
        for name in regions:
            region = page.get_by_role("region", name=name)
            expect(region).to_have_count(1)
            if width == 320:
                assert tab_stop_only_while_it_scrolls(page, region, name), f"{name}: fits at 320 px, tests nothing"

    for width in (320, 375, 768, 1280):
        page.goto(site + change_path)
        fits(width, ["Reference cases: verdict under the saved criteria"])
        page.get_by_role("button", name=re.compile("^Preview the effect on reference cases")).click()
        page.wait_for_url(re.compile(r"/preview/$"))
        fits(width, [re.compile("^Preview for Article")])
        page.goto(f"{site}/admin/screening/criteriaset/{article.pk}/history/")
        fits(width, ["Changes to this criteria set", "Changes to its criteria"])
        if width == 320:
            check_accessible(page, "admin: a set's history (320 px)")
