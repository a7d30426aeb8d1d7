"""The neurologist workspace in a real browser (PRODUCT.md §1, §8, §9): a patient's submission found, read and
decided on by a neurologist who signs in through the form, and the released message read back by the patient;
every workspace state checked with axe; the idle-timeout warning, the signed-out state and sign-out; a decision
made with the keyboard alone."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from screening import services
from screening.models import Criterion, Review, Screening

from ..factories import answers as valid_answers
from .answer_sets import ANSWER_SETS
from .flow import Patient, follow, no_horizontal_scroll, open_all_details, press, tab_stop_only_while_it_scrolls

PASSWORD = "Correct-Horse-Battery-42"
WRONG_PASSWORD = "Wrong-Secret-Password-99"
SAVE = "Save decision and release the message"
MESSAGE = "Message to the patient"
NOTE = "Internal note (not shown to the patient)"
# On a carer's submission: the carer holds the codes, so the message is read by the carer or the patient
CARER_MESSAGE = "Message to the carer and the patient"
CARER_NOTE = "Internal note (not shown to the carer or the patient)"
SIGNED_OUT = "You have been signed out"
# A carer's answers: a walking estimate instead of a recorded EDSS and a planned pregnancy (two red flags); likely.
JOURNEY = next(s for s in ANSWER_SETS if s["name"] == "likely-carer-walks-500m-unaided-non-high-efficacy")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- helpers ---------------------------------------------------------------------------------------------------


def make_user(username, *, neurologist=True):
    """A user with a password; a member of the Neurologists group unless ``neurologist=False``.

    The live server's database is flushed after each test, which drops the group the data migration created too,
    so the group is made again here, with its one permission, as the migration makes it.
    """
    user = get_user_model().objects.create_user(username, f"{username}@example.org", PASSWORD)
    if neurologist:
        group, _ = Group.objects.get_or_create(name="Neurologists")
        group.permissions.add(Permission.objects.get(content_type__app_label="screening",
                                                     codename="review_screening"))
        user.groups.add(group)
    return user


def submit(**changes):
    """A screening scored today and submitted for review, as the patient's "Send this result" stores it."""
    screening = services.screening_create(answers=valid_answers(**changes), today=timezone.localdate())
    services.screening_submit(screening=screening, consent_version="test-1", consent_text="I agree to share.",
                              contact_name="Pat Example", contact_details="pat@example.org")
    screening.refresh_from_db()
    return screening


def sign_in(page, site, username, password=PASSWORD):
    """Sign in through the login form (no session is injected) and wait for the page it leads to."""
    page.goto(site + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    press(page, "Sign in")


def detail_url(site, screening):
    return f"{site}/review/{screening.pk}/"


def history(page):
    """The decisions listed in the history, newest first."""
    return page.locator("li[data-decision]").evaluate_all("els => els.map(e => e.dataset.decision)")


def decision(page, label):
    return page.get_by_role("radio", name=label, exact=True)


def message_box(page, label=MESSAGE):
    return page.get_by_label(label)


def focused(page):
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, name: e.name || '', value: e.value || '', id: e.id, text: e.innerText || '',
                outline: getComputedStyle(e).outlineStyle, shadow: getComputedStyle(e).boxShadow}; }""")


# --- 1. the whole journey --------------------------------------------------------------------------------------


def test_a_patient_submits_a_neurologist_decides_and_the_patient_reads_the_message(
        page, site, browser, check_accessible, shoot):
    page.set_default_timeout(10_000)
    make_user("dr-lee")
    submit(age=50)  # someone else's submission, also waiting: the search has to find the right one

    # The patient: the questionnaire (its own pages are axe-checked by the patient tests), the result, sending it.
    patient = Patient(page, site, lambda page, label: None)
    patient.start()
    patient.fill_questionnaire(JOURNEY["answers"])
    patient.see_result()
    follow(page, "Send this result to a neurologist")  # a carer's
    # filled in by a carer: they confirm the person with MS agrees, and give that person's name
    page.get_by_label("Name of the person with MS (optional)").fill("Sam Example")
    page.locator("label", has_text="I confirm that the person with MS agrees").click()
    press(page, "Send this result")
    assert page.url == site + "/result/submitted/"
    reference = page.locator("[data-code=reference]").inner_text().strip()
    access_code = page.locator("[data-code=access]").inner_text().strip()
    assert reference.startswith("R-") and access_code

    # The neurologist, on another computer: signs in through the form and lands on the queue.
    staff = browser.new_context()
    try:
        doc = staff.new_page()
        doc.set_default_timeout(10_000)
        sign_in(doc, site, "dr-lee")
        assert doc.url == site + "/review/"
        expect(doc.locator(".staff-nav")).to_contain_text("Signed in as dr-lee")
        expect(doc.locator("tr[data-reference]")).to_have_count(2)
        # how many there are, read before the rows rather than after 50 of them
        caption, first_row = (doc.locator(selector).first.bounding_box() for selector in (
            ".queue-table caption", "tr[data-reference]"))
        assert caption["y"] + caption["height"] <= first_row["y"], (caption, first_row)

        doc.get_by_label("Primary verdict").select_option("unlikely")  # chosen, then a reference searched
        doc.get_by_label("Reference", exact=True).fill(reference)
        press(doc, "Find")
        assert doc.url == f"{site}/review/?reference={reference}"  # the reference alone: no verdict beside it
        row = doc.locator("tr[data-reference]")
        expect(row).to_have_count(1)
        expect(row).to_have_attribute("data-reference", reference)
        expect(row).to_contain_text("Submitted")
        expect(row).to_contain_text("Likely")  # the verdict as staff read it
        expect(row.locator("[data-carer]")).to_have_text("Filled in by a carer")  # before opening it
        follow(doc, reference)
        assert re.fullmatch(re.escape(site) + r"/review/\d+/", doc.url), doc.url

        expect(doc.get_by_role("heading", level=1)).to_have_text(f"Screening {reference}")
        expect(doc.locator("[data-status]")).to_have_attribute("data-status", "in_review")
        expect(doc.locator("main")).to_contain_text("Sam Example")
        # who answered, and that the name asked for was the patient's, said above the evidence
        expect(doc.locator("[data-carer]")).to_contain_text("Filled in by a carer on the patient's behalf:")
        expect(doc.locator("[data-carer]")).to_contain_text("The name asked for was the patient's")
        flags = doc.locator(".red-flags li")
        expect(flags).to_have_text(["Pregnant, breastfeeding or planning a pregnancy — answer: They are planning a "
                                    "pregnancy in the next 2 years", "EDSS estimated from walking, not recorded"])
        expect(doc.locator("tr[data-set='article']")).to_have_attribute("data-verdict", JOURNEY["verdict"])
        expect(doc.locator("tr[data-fact='edss']")).to_contain_text("estimated from walking")
        assert doc.locator("tr[data-fact]").count() >= 8
        assert history(doc) == []
        shoot(doc, "review-detail")

        decision(doc, "More information needed").check()
        message_box(doc, CARER_MESSAGE).fill("Thank you. Please ask your MS nurse to send us your latest EDSS score.")
        doc.get_by_label(CARER_NOTE, exact=True).fill("Walking estimate only; planning a pregnancy: discuss timing.")
        press(doc, SAVE)
        assert re.fullmatch(re.escape(site) + r"/review/\d+/", doc.url), doc.url
        assert history(doc) == ["more_info"]
        entry = doc.locator("li[data-decision]")
        expect(entry).to_contain_text("More information needed")
        expect(entry).to_contain_text("dr-lee")
        expect(entry).to_contain_text(f"{CARER_MESSAGE}: Thank you. Please ask your MS nurse to send us your latest "
                                      "EDSS score.")
        expect(entry).to_contain_text("discuss timing")
        expect(doc.locator("[data-status]")).to_have_attribute("data-status", "reviewed")
        shoot(doc, "review-detail-decided")
    finally:
        staff.close()

    # The patient, later, on another device: the two codes open the status with the released message only.
    later = browser.new_context()
    try:
        own = later.new_page()
        own.set_default_timeout(10_000)
        own.goto(site + "/status/")
        own.get_by_label("Reference code").fill(reference)
        own.get_by_label("Private access code").fill(access_code)
        press(own, "Show the status")
        assert own.url == site + "/status/yours/"
        expect(own.locator("[data-status]")).to_have_attribute("data-status", "reviewed")
        released = own.locator(".released-message")
        expect(released).to_have_attribute("data-decision", "more_info")
        expect(released).to_contain_text("The neurologist needs more information from you")
        expect(released).to_contain_text("Please ask your MS nurse to send us your latest EDSS score.")
        expect(own.locator("body")).not_to_contain_text("discuss timing")
        expect(own.locator("body")).not_to_contain_text("Walking estimate only")
        expect(own.locator("body")).not_to_contain_text("dr-lee")
        check_accessible(own, "status with a released message")
        shoot(own, "status-released-message")
        # Withdrawing would erase the message too: the box says so and offers Print; on paper, the message is there
        # and the withdraw box is not.
        withdraw_box = own.locator(".withdraw")
        expect(withdraw_box).to_contain_text("after withdrawing, you can no longer read it")
        expect(withdraw_box.get_by_role("button", name="Print this page")).to_be_visible()
        own.emulate_media(media="print")
        try:
            expect(released).to_be_visible()
            expect(released).to_contain_text("Please ask your MS nurse to send us your latest EDSS score.")
            expect(withdraw_box).to_be_hidden()
        finally:
            own.emulate_media(media="screen")

        # ... and answers it there.
        reply = "My MS nurse says my last EDSS was 3.5, in March."
        own.get_by_label("Your reply to the neurologist").fill(reply)
        expect(own.locator("#id_message_helptext")).to_have_text(f"{3000 - len(reply):,} characters left")
        press(own, "Send my reply")
        assert own.url == site + "/status/yours/"
        expect(own.locator(".alert-success")).to_contain_text("Your reply has been sent.")
        expect(own.locator(".patient-reply")).to_contain_text("my last EDSS was 3.5")
        expect(own.get_by_label("Your reply to the neurologist")).to_be_empty()  # to add what they remember later
        expect(own.get_by_role("button", name="Add this to my reply")).to_be_visible()
        check_accessible(own, "status after the patient replied")
        shoot(own, "status-replied")
    finally:
        later.close()

    # The neurologist again: the submission waits in the queue, marked as replied, the reply above the evidence.
    staff = browser.new_context()
    try:
        doc = staff.new_page()
        doc.set_default_timeout(10_000)
        sign_in(doc, site, "dr-lee")
        # sent by a carer, who was given the codes: the reply is not said to be the patient's
        expect(doc.locator(f"tr[data-reference='{reference}']")).to_contain_text("Replied from the status page")
        follow(doc, reference)
        expect(doc.locator(".patient-replies")).to_contain_text("my last EDSS was 3.5")
        check_accessible(doc, "detail with the patient's reply")
        shoot(doc, "review-detail-replied")
    finally:
        staff.close()


# --- 2. every state, with axe ----------------------------------------------------------------------------------


def test_the_sign_in_pages_are_accessible_including_the_error_and_the_lockout(
        page, site, settings, check_accessible, shoot):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("dr-ng")

    page.goto(site + "/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the review workspace")
    check_accessible(page, "login")
    shoot(page, "review-login")

    page.get_by_label("Username").fill("dr-ng")
    page.get_by_label("Password").fill(WRONG_PASSWORD)
    press(page, "Sign in")
    assert page.url == site + "/accounts/login/"
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    expect(page.locator(".error-summary")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("dr-ng")
    check_accessible(page, "login (wrong password)")
    shoot(page, "review-login-error")

    for _ in range(2):
        page.get_by_label("Password").fill(WRONG_PASSWORD)
        press(page, "Sign in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed sign-in attempts")
    check_accessible(page, "locked out")
    shoot(page, "review-locked-out")

    sign_in(page, site, "dr-ng")  # the right password no longer gets in
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed sign-in attempts")
    assert "/review/" not in page.url


def test_a_link_to_a_far_part_of_the_page_jumps_there_at_once(page, site):
    """Bootstrap's smooth scrolling took some 1.5 s to reach the decision form 8,500 px down a screening (and as long
    to bring a focused error summary into view): the link jumps, the form is on screen as soon as it is followed,
    with no waiting. The "stop reviewing" button, which changes the screening's status, stands apart from the links
    (1.5rem at least: it sat 18 px above "Go to the decision form")."""
    page.set_default_timeout(10_000)
    make_user("dr-okafor")
    screening = submit(edss=3.5)
    sign_in(page, site, "dr-okafor")
    page.set_viewport_size({"width": 640, "height": 720})
    page.goto(detail_url(site, screening))
    assert page.evaluate("matchMedia('(prefers-reduced-motion: no-preference)').matches")  # Bootstrap would glide
    link = page.get_by_role("link", name="Go to the decision form")
    button = page.get_by_role("button", name="Stop reviewing and return it to the queue")
    rem = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    gap = button.bounding_box()["y"] - (link.bounding_box()["y"] + link.bounding_box()["height"])
    assert gap >= 1.5 * rem - 1, gap
    target = page.locator("#decision")
    assert target.evaluate("t => t.getBoundingClientRect().top") > 3 * page.viewport_size["height"]  # far down
    # followed and measured in one go, in the same frame: nothing may be waited for
    top = link.evaluate("a => { a.click(); return document.getElementById('decision').getBoundingClientRect().top; }")
    assert -2 <= top < page.viewport_size["height"] / 2, top  # at the top of the window, give or take a sub-pixel


def test_every_workspace_state_is_accessible(page, site, browser, check_accessible, shoot):
    page.set_default_timeout(10_000)
    make_user("dr-okafor")
    colleague = make_user("dr-silva")
    screening = submit(edss=3.5)
    submit(age=47, pregnancy="planning")
    # The EDSS threshold is lowered after the submission: the detail page must say the criteria changed.
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0
    criterion.save()

    sign_in(page, site, "dr-okafor")
    assert page.url == site + "/review/"
    expect(page.locator("tr[data-reference]")).to_have_count(2)
    # both sent before the change: each says so in words, under its verdict
    expect(page.locator("tr[data-reference] [data-older-criteria]")).to_have_text(["Scored under older criteria"] * 2)
    check_accessible(page, "queue")
    shoot(page, "review-queue")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone, or at 200% zoom: each row a card
    no_horizontal_scroll(page, 390)
    flags = page.locator("tr[data-reference] td", has_text="Pregnant, breastfeeding or planning a pregnancy")
    flags.scroll_into_view_if_needed()
    expect(flags).to_be_in_viewport(ratio=1)  # the red flags whole, not cut off at the right
    assert flags.evaluate("td => getComputedStyle(td, '::before').content") == '"Red flags: "'
    check_accessible(page, "queue (390 px)")
    shoot(page, "review-queue-narrow")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_label("Reference", exact=True).fill("R-NOTHING-LIKE-THIS")
    press(page, "Find")
    expect(page.locator("tr[data-reference]")).to_have_count(0)
    expect(page.locator(".queue-table")).to_contain_text(
        "No submission has a reference containing “R-NOTHING-LIKE-THIS”.")
    check_accessible(page, "queue (searched to nothing)")
    shoot(page, "review-queue-empty")
    page.get_by_label("Primary verdict").select_option("possible")
    press(page, "Filter")
    assert page.url.startswith(site + "/review/?status=&verdict=possible&"), page.url  # the filters: no reference
    check_accessible(page, "queue (filtered)")

    page.goto(detail_url(site, screening))
    for link in ("Back to the queue", "Go to the decision form"):  # targets as large as the patient's
        assert page.get_by_role("link", name=link).bounding_box()["height"] >= 44, link
    notice = page.locator("main .alert-warning")
    expect(notice).to_contain_text("The criteria have changed since this screening was scored")
    expect(page.locator("tr[data-set='article']")).to_have_attribute("data-verdict", "likely")  # as scored
    check_accessible(page, "detail (criteria changed)")
    shoot(page, "review-detail-criteria-changed")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone: the tables scroll, not the page
    no_horizontal_scroll(page, 390)
    # each set a card: every value said with what it is ("Version: 1" alone read as part of the next set's card)
    cells = page.locator(".other-sets tr[data-set='article'] td").evaluate_all(
        "tds => tds.map(td => [getComputedStyle(td, '::before').content, getComputedStyle(td).display])")
    assert cells == [['"Verdict: "', "block"], ['"Behind the verdict: "', "none"],  # nothing behind a "likely"
                     ['"Version: "', "block"]], cells
    check_accessible(page, "detail (390 px)")
    page.set_viewport_size({"width": 1280, "height": 720})

    follow(page, "Preview against the current criteria")
    assert page.url == f"{site}/review/{screening.pk}/rescore/"
    expect(page.locator("tr[data-set='article']")).to_have_attribute("data-verdict", "unlikely")
    check_accessible(page, "re-score preview")
    shoot(page, "review-rescore-preview")
    follow(page, "Back to the screening")

    # Saving without choosing a decision: an error, and nothing typed is lost.
    message_box(page).fill("We will be in touch.")
    press(page, SAVE)
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".error-summary")).to_contain_text("Your decision: Choose a decision.")
    expect(page.locator(".error-summary a")).to_have_attribute("href", "#id_decision_0")
    expect(message_box(page)).to_have_value("We will be in touch.")
    assert history(page) == [] and not Review.objects.exists()
    check_accessible(page, "decision form (no decision chosen)")
    shoot(page, "review-decision-error")
    # shown on the screening's page after a redirect, once: a reload (or Back to it) posts nothing again
    assert page.url == detail_url(site, screening)
    page.reload()
    expect(page).not_to_have_title(re.compile(r"^Error: "))
    expect(message_box(page)).to_have_value("")

    # A colleague saves a decision while this page is open: a conflict, nothing overwritten, the text kept.
    page.goto(detail_url(site, screening))
    decision(page, "Refer for transplant assessment").check()
    message_box(page).fill("Good news: we will refer you for a transplant assessment.")
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    request.user = colleague
    services.review_decide(screening=Screening.objects.get(pk=screening.pk), revision=screening.revision,
                           decision="not_suitable", message="Not now.", internal_note="", request=request)
    press(page, SAVE)
    expect(page.locator(".error-summary")).to_contain_text("Another neurologist saved a decision")
    assert history(page) == ["not_suitable"]
    expect(message_box(page)).to_have_value("Good news: we will refer you for a transplant assessment.")
    expect(decision(page, "Refer for transplant assessment")).to_be_checked()
    assert list(Review.objects.values_list("decision", flat=True)) == ["not_suitable"]
    check_accessible(page, "decision form (conflict)")
    shoot(page, "review-decision-conflict")

    press(page, SAVE)  # having read the colleague's decision, saving again records this one too
    assert history(page) == ["refer", "not_suitable"]

    # Signed in, but not a neurologist: the 403 page.
    make_user("receptionist", neurologist=False)
    other = browser.new_context()
    try:
        stranger = other.new_page()
        sign_in(stranger, site, "receptionist")
        response = stranger.goto(site + "/review/")
        assert response.status == 403
        expect(stranger.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
        expect(stranger.locator("main")).not_to_contain_text(screening.reference)
        check_accessible(stranger, "403")
        shoot(stranger, "review-403")
        # Not a dead end: the login page sends a signed-in user back here, so this page offers to sign out.
        assert stranger.goto(site + "/accounts/login/").status == 403
        expect(stranger.locator("main")).to_contain_text("You are signed in as receptionist")
        press(stranger, "Sign out")
        assert stranger.url == site + "/accounts/login/"
    finally:
        other.close()


# --- 3. idle timeout and signing out ---------------------------------------------------------------------------


def on_a_submission_with_a_short_idle_time(page, site, settings, username):
    """Signed in with an idle time of 8 seconds (the warning opens 4 seconds before the end), on a submission."""
    settings.STAFF_IDLE_SECONDS = 8
    make_user(username)
    screening = submit()
    sign_in(page, site, username)
    page.goto(detail_url(site, screening))
    return screening


def test_the_idle_warning_keeps_the_text_and_extends_the_session_and_sign_out_ends_it(
        page, site, settings, check_accessible, shoot):
    screening = on_a_submission_with_a_short_idle_time(page, site, settings, "dr-idle")
    loaded = time.monotonic()
    dialog = page.locator("#idle-dialog")
    expect(dialog).to_have_attribute("data-idle-seconds", "8")
    expect(dialog).to_be_hidden()
    typed = "Please send us your last two MRI reports."
    message_box(page).press_sequentially(typed)

    page.wait_for_selector("#idle-dialog[open]", timeout=8_000)
    assert 3 < time.monotonic() - loaded < 8
    expect(dialog).to_contain_text("You will be signed out soon")
    check_accessible(page, "idle warning")
    shoot(page, "review-idle-warning")
    with page.expect_response(lambda r: r.url.endswith("/accounts/keepalive/")) as kept:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 204
    extended = time.monotonic()  # the session's 8 seconds start again now, however long the checks above took
    expect(page.locator("#idle-dialog[open]")).to_have_count(0)
    expect(message_box(page)).to_have_value(typed)

    # Half-way through the extended session the warning has opened again: Esc dismisses it, and that is activity.
    page.wait_for_selector("#idle-dialog[open]", timeout=max(0.5, extended + 6 - time.monotonic()) * 1000)  # 0: no limit
    # Past the session's original end: it was extended, so the decision is saved (not a login page).
    page.wait_for_timeout(max(0, 8.7 - (time.monotonic() - loaded)) * 1000)
    with page.expect_response(lambda r: r.url.endswith("/accounts/keepalive/")) as kept:
        page.keyboard.press("Escape")
    assert kept.value.status == 204
    expect(page.locator("#idle-dialog[open]")).to_have_count(0)
    decision(page, "More information needed").check()
    press(page, SAVE)
    assert page.url == detail_url(site, screening), page.url
    assert history(page) == ["more_info"]
    assert Review.objects.get().message == typed

    # Left alone: when the session ends the dialog says so; it can be closed to copy the text, which is still there.
    loaded = time.monotonic()
    message_box(page).fill("Text typed too late.")
    expect(dialog.get_by_role("heading")).to_have_text(SIGNED_OUT, timeout=10_000)
    assert time.monotonic() - loaded > 7
    expect(dialog).not_to_contain_text("signed out soon")
    expect(dialog).to_have_attribute("open", "")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_have_count(0)
    sign_in_again = dialog.get_by_role("link", name="Sign in again")
    expect(sign_in_again).to_be_visible()
    expect(sign_in_again).to_have_attribute("href", f"/accounts/login/?next=/review/{screening.pk}/")
    # A reflexive Enter closes the message, to copy the text: it does not leave the page (and the text) behind.
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    expect(page.locator(".signed-in")).to_be_hidden()  # no longer "Signed in as dr-idle"
    check_accessible(page, "idle dialog (signed out)")
    shoot(page, "review-idle-signed-out")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#idle-dialog[open]")).to_have_count(0)
    expect(message_box(page)).to_have_value("Text typed too late.")
    # Nothing about the patient stays on an unattended screen; the typed text does, to copy.
    for private in ("tr[data-fact]", "table.other-sets", "dl.answers"):
        expect(page.locator(private).first).to_be_attached()
        expect(page.locator(private).first).to_be_hidden()
    # Sent now, the text would go to the sign-in page and be lost: the button waits for a new sign-in.
    expect(page.get_by_role("button", name=SAVE)).to_be_disabled()
    assert Review.objects.count() == 1

    # The session ended elsewhere (here on the server; a sign-out in another tab says so at once, see below):
    # "Stay signed in" must not pretend it goes on.
    sign_in(page, site, "dr-idle")
    page.goto(detail_url(site, screening))
    Session.objects.all().delete()
    page.wait_for_selector("#idle-dialog[open]", timeout=8_000)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog.get_by_role("heading")).to_have_text(SIGNED_OUT, timeout=3_000)
    expect(page.locator("#idle-dialog[open]")).to_have_count(1)


def test_at_400_percent_zoom_the_idle_warning_opens_at_its_heading(page, site, settings, check_accessible, shoot):
    """A laptop at 400% zoom (320 x 256 CSS pixels): the warning is taller than the window. Opened with the focus on
    its button, it showed the button and not the heading that says what is happening. It opens at its heading, the
    dialog named by it; Tab reaches "Stay signed in", and Enter keeps the session. Signed out, the same."""
    page.set_viewport_size({"width": 320, "height": 256})
    on_a_submission_with_a_short_idle_time(page, site, settings, "dr-zoom")
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    page.wait_for_selector("#idle-dialog[open]", timeout=8_000)
    assert dialog.evaluate("d => d.scrollHeight > d.clientHeight"), "the warning fits: not the case under test"
    expect(dialog.get_by_role("heading", name="You will be signed out soon")).to_be_in_viewport(ratio=1)
    expect(dialog).to_be_focused()
    check_accessible(page, "idle warning (320 x 256)")
    shoot(page, "review-idle-warning-400-percent")
    page.keyboard.press("Tab")
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(stay).to_be_in_viewport(ratio=1)
    with page.expect_response(lambda r: r.url.endswith("/accounts/keepalive/")) as kept:
        page.keyboard.press("Enter")
    assert kept.value.status == 204
    expect(page.locator("#idle-dialog[open]")).to_have_count(0)

    signed_out = page.get_by_role("dialog", name=SIGNED_OUT)
    expect(signed_out).to_be_visible(timeout=12_000)
    expect(signed_out.get_by_role("heading", name=SIGNED_OUT)).to_be_in_viewport(ratio=1)
    expect(signed_out).to_be_focused()
    check_accessible(page, "idle dialog (signed out, 320 x 256)")
    shoot(page, "review-idle-signed-out-400-percent")


def test_typing_a_long_message_keeps_the_session(page, site, settings):
    """Writing a careful message takes longer than the idle time: typing is activity, so no warning interrupts it
    and the session does not end under it."""
    screening = on_a_submission_with_a_short_idle_time(page, site, settings, "dr-typist")
    started = time.monotonic()
    while time.monotonic() - started < 11:  # past the session's end, typing a little every half second
        message_box(page).press_sequentially("word ")
        page.wait_for_timeout(500)
        expect(page.locator("#idle-dialog[open]")).to_have_count(0)
    decision(page, "More information needed").check()
    press(page, SAVE)
    assert page.url == detail_url(site, screening), page.url
    assert Review.objects.get().message.startswith("word word")


def test_a_stay_signed_in_that_fails_to_reach_the_server_does_not_pretend_the_session_goes_on(page, site, settings):
    """Offline for a moment: the session was not extended, so the page must still say when it ends, rather than let
    the server end it unannounced under the text being typed."""
    on_a_submission_with_a_short_idle_time(page, site, settings, "dr-offline")
    loaded = time.monotonic()
    page.route("**/accounts/keepalive/", lambda route: route.abort())
    page.wait_for_selector("#idle-dialog[open]", timeout=8_000)
    page.locator("#idle-dialog").get_by_role("button", name="Stay signed in").click()
    message_box(page).press_sequentially("typed while offline")
    expect(page.locator("#idle-title")).to_have_text(SIGNED_OUT, timeout=8_000)
    assert time.monotonic() - loaded < 10



@pytest.mark.parametrize("where, button", [("/review/", "Sign out"), ("/admin/", "Log out")])
def test_signing_out_in_another_tab_stops_a_typed_decision_from_being_sent_to_the_sign_in_page(
        page, site, where, button):
    """A decision typed in one tab and sent after signing out in another went to the sign-in page, and the text
    was lost: the tab now knows at once, keeps the text to copy, and holds the button until a new sign-in."""
    get_user_model().objects.filter(pk=make_user("dr-two-tabs").pk).update(is_staff=True)  # reviews and admins
    screening = submit()
    sign_in(page, site, "dr-two-tabs")
    page.goto(detail_url(site, screening))
    message_box(page).fill("Your MRI shows new lesions; we would like to see you.")
    other_tab = page.context.new_page()
    other_tab.goto(site + where)
    press(other_tab, button)
    assert page.context.request.get(site + "/review/").url.startswith(site + "/accounts/login/")  # signed out

    dialog = page.locator("#idle-dialog")
    expect(dialog.get_by_role("heading")).to_have_text(SIGNED_OUT, timeout=3_000)
    expect(page.get_by_role("button", name=SAVE)).to_be_disabled()
    dialog.get_by_role("button", name="Close").click()
    expect(message_box(page)).to_have_value("Your MRI shows new lesions; we would like to see you.")
    assert not Review.objects.exists()

# --- 4. the keyboard alone -------------------------------------------------------------------------------------


def test_a_decision_can_be_made_with_the_keyboard_alone(page, site):
    make_user("dr-keys")
    screening = submit()
    sign_in(page, site, "dr-keys")
    page.goto(detail_url(site, screening))

    for _ in range(120):  # Tab from the top of the page to the first decision radio
        page.keyboard.press("Tab")
        if focused(page)["name"] == "decision":
            break
    else:
        pytest.fail("Tab never reaches the decision")
    now = focused(page)
    assert now["value"] == "refer" and now["outline"] != "none", now  # the first choice, with a visible focus
    page.keyboard.press("Space")
    expect(decision(page, "Refer for transplant assessment")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(decision(page, "More information needed")).to_be_checked()
    expect(decision(page, "More information needed")).to_be_focused()

    page.keyboard.press("Tab")
    expect(message_box(page)).to_be_focused()
    page.keyboard.type("Please send us your latest MRI report.")
    page.keyboard.press("Tab")
    expect(page.get_by_label(NOTE)).to_be_focused()
    page.keyboard.type("Keyboard only.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=SAVE)).to_be_focused()
    assert focused(page)["outline"] != "none"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == detail_url(site, screening)
    assert history(page) == ["more_info"]
    review = Review.objects.get()
    assert (review.decision, review.message, review.internal_note) == (
        "more_info", "Please send us your latest MRI report.", "Keyboard only.")


@pytest.mark.parametrize("used", ["/review/", "/admin/"])
def test_a_tab_left_alone_is_not_signed_out_while_another_tab_is_in_use(page, site, settings, used):
    """Every request extends the session, from whichever tab (the admin's too): the idle tab must not claim it has
    ended."""
    settings.STAFF_IDLE_SECONDS = 20
    get_user_model().objects.filter(pk=make_user("dr-tabs").pk).update(is_staff=True)  # an admin who also reviews
    screening = submit()
    sign_in(page, site, "dr-tabs")
    page.goto(detail_url(site, screening))
    loaded = time.monotonic()
    other = page.context.new_page()
    try:
        other.wait_for_timeout(8_000)
        other.goto(site + used)  # the session now ends 20 seconds after this, not after the first tab's load
        page.wait_for_timeout(max(0, 22 - (time.monotonic() - loaded)) * 1000)  # past the first tab's own end
        expect(page.locator("#idle-title")).not_to_have_text(SIGNED_OUT)
        expect(page.locator("tr[data-fact]").first).to_be_visible()
        assert time.monotonic() - loaded < 26  # well inside the extended session: the server agrees
        assert page.goto(detail_url(site, screening)).url == detail_url(site, screening)
    finally:
        other.close()



def test_back_to_the_queue_returns_to_the_queue_as_this_tab_left_it(page, site):
    """With the queue filtered one way in one tab and another way in a second, each screening's "Back to the queue"
    went to whichever filter was used last, in any tab."""
    screening = submit()
    make_user("dr-two-tabs")
    sign_in(page, site, "dr-two-tabs")
    page.goto(site + "/review/?verdict=likely")
    other = page.context.new_page()
    try:
        other.goto(site + "/review/?status=any&decision=none")
        for tab in (page, other):
            tab.goto(detail_url(site, screening))
        back = page.get_by_role("link", name="Back to the queue")
        assert back.get_attribute("href") == "/review/?verdict=likely"
        back.click()
        assert page.url == site + "/review/?verdict=likely"
        expect(page.get_by_label("Primary verdict")).to_have_value("likely")
        other_back = other.get_by_role("link", name="Back to the queue")
        assert other_back.get_attribute("href") == "/review/?status=any&decision=none"
    finally:
        other.close()


def wider_than_the_measure(page):
    """The visible paragraphs, list items and text boxes of the workspace wider than 37em of their own text (some 80
    characters a line), outside the tables and the answers, which have columns of their own."""
    return page.locator("main :is(p, li, textarea)").evaluate_all("""els => els
        .filter(e => e.offsetParent && !e.closest('table, .answers'))
        .map(e => [e.textContent.trim().slice(0, 50) || e.name,
                   e.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize)])
        .filter(([, ems]) => ems > 37)""")


@pytest.mark.parametrize("width", [1280, 1920])
def test_on_a_wide_screen_the_prose_keeps_a_readable_line_length_and_the_tables_the_width(page, site, width):
    """On the detail and re-score pages the text ran 120 to 139 characters a line at 1280 px (the message box too):
    prose, red flags, replies, history and the message box keep the patient pages' measure, while every criteria
    table keeps the column's width, the Answer column beside each criterion without scrolling sideways."""
    page.set_viewport_size({"width": width, "height": 900})
    make_user("dr-wide")
    screening = submit(pregnancy="planning", comorbidities=["heart"])  # red flags
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    request.user = get_user_model().objects.get(username="dr-wide")
    services.review_decide(screening=screening, revision=screening.revision, decision="more_info",
                           message="Please send your latest MRI report. " * 4, internal_note="", request=request)
    services.screening_reply(screening=Screening.objects.get(pk=screening.pk),
                             message="My MRI in May showed two new lesions; the report is on its way to you. " * 2)
    sign_in(page, site, "dr-wide")
    for url in (detail_url(site, screening), f"{detail_url(site, screening)}rescore/"):
        page.goto(url)
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        assert not wider_than_the_measure(page), (url, wider_than_the_measure(page))
        tables = page.locator(".table-responsive:has(.criteria-table)").evaluate_all(
            "els => els.map(e => [e.scrollWidth, e.clientWidth])")
        assert tables and all(inside <= outside for inside, outside in tables), tables
        assert tables[0][1] > 1000, "the criteria tables have the column's width, wider than the text"
        no_horizontal_scroll(page, width)


# --- 5. the message's length -----------------------------------------------------------------------------------


def test_the_message_counts_the_characters_left_as_the_server_counts_them(page, site, check_accessible):
    """The message has a limit the browser does not enforce (pasted text would be cut short without a word): the
    count of what is left changes as it is typed, and screen readers hear it only near the limit, once typing
    pauses; a line break counts two, as the server receives it, so the count and the server agree. Sent too long
    anyway, the server's message is next to the box."""
    make_user("dr-counter")
    screening = submit()
    sign_in(page, site, "dr-counter")
    page.goto(detail_url(site, screening))
    box = message_box(page)
    field = page.locator("div.mb-3", has=box)
    live = field.locator("[aria-live=polite]")
    expect(field.get_by_text("5,000 characters left")).to_be_visible()
    expect(box).to_have_accessible_description("5,000 characters left")  # heard with the box
    live.evaluate("""el => { window.announced = [];
        new MutationObserver(() => announced.push(el.textContent)).observe(
            el, {childList: true, characterData: true, subtree: true}); }""")

    box.fill("Dear Pat,\nplease send your MRI report.")
    expect(field.get_by_text("4,961 characters left")).to_be_visible()  # 37 characters, the line break two
    page.wait_for_timeout(1_500)
    assert page.evaluate("announced") == []  # far from the limit: nothing said while typing

    box.fill("x" * 4990)
    box.press_sequentially("abcde", delay=50)
    expect(live).to_have_text("5 characters left")
    assert page.evaluate("announced") == ["5 characters left"]  # once, when typing paused: not at every key
    expect(box).to_have_accessible_description("5 characters left")

    box.fill("x" * 2500 + "\n" + "x" * 2499)
    expect(field.get_by_text("1 character too many")).to_be_visible()
    expect(live).to_have_text("1 character too many")
    check_accessible(page, "message over the limit")
    decision(page, "More information needed").check()
    press(page, SAVE)
    assert not Review.objects.exists()
    expect(field.locator(".invalid-feedback")).to_have_text(
        "This is 1 character too long. Shorten it to 5,000 characters or fewer.")
    expect(field.get_by_text("1 character too many")).to_be_visible()  # counted again on the page shown again

    box.fill("x" * 2499 + "\n" + "x" * 2499)
    expect(field.get_by_text("0 characters left")).to_be_visible()
    press(page, SAVE)
    assert page.url == detail_url(site, screening)
    assert len(Review.objects.get().message) == 5000


def test_find_is_next_to_the_reference_box(page, site):
    """The search's field was as wide as its help text, which left "Find" about 100 px to the right of the box on a
    laptop; on a phone it goes under the box, at its left edge, and nothing scrolls sideways."""
    make_user("dr-find")
    sign_in(page, site, "dr-find")
    page.goto(site + "/review/")
    box, find = page.get_by_role("textbox", name="Reference"), page.get_by_role("button", name="Find")
    reference, button = box.bounding_box(), find.bounding_box()
    assert 0 <= button["x"] - (reference["x"] + reference["width"]) <= 30, (reference, button)  # beside it
    assert abs((button["y"] + button["height"]) - (reference["y"] + reference["height"])) <= 2  # on its line
    page.set_viewport_size({"width": 320, "height": 800})
    reference, button = box.bounding_box(), find.bounding_box()
    assert button["y"] >= reference["y"] + reference["height"] and abs(button["x"] - reference["x"]) <= 1
    no_horizontal_scroll(page)


def test_a_reversed_date_range_keeps_the_filter_rows_tidy_and_the_list_says_the_dates_were_not_used(
        page, site, check_accessible):
    """With the range's error under "Submitted to", the filters' labels sat at three heights and "Submitted to" wrapped
    away from "Submitted from", while "Submitted from" still filtered the list. Now in each row the labels line up,
    and the boxes; the two dates stay side by side on a laptop; on a phone every box is as wide as the others."""
    make_user("dr-range")
    submit()
    sign_in(page, site, "dr-range")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/review/")
    page.get_by_label("Submitted from").fill("2099-01-05")  # after every submission: alone, it would hide them all
    page.get_by_label("Submitted to").fill("2099-01-01")
    press(page, "Filter")
    expect(page.locator("#id_submitted_to_error")).to_have_text("The end date is before the start date.")
    expect(page.locator("[data-dates-not-used]")).to_have_text(
        "The dates were not used: this list is not filtered by date. Correct them above, then press Filter.")
    expect(page.locator("tr[data-reference]")).to_have_count(1)
    names = ["Status", "Primary verdict", "Submitted from", "Submitted to", "Last decision"]
    filters = page.locator("form.queue-filters:not(.queue-search)")
    labels = {name: filters.locator("label", has_text=name).bounding_box() for name in names}
    boxes = {name: page.get_by_label(name, exact=True).bounding_box() for name in names}
    rows = {}
    for name in names:
        rows.setdefault(round(labels[name]["y"]), []).append(name)
    assert labels["Submitted from"]["y"] == labels["Submitted to"]["y"], labels  # the range on one row
    for row in rows.values():  # each row's boxes on one line under its labels, whatever hint or error is beside them
        assert len({round(boxes[name]["y"] + boxes[name]["height"]) for name in row}) == 1, (row, boxes)
    filter_button = page.get_by_role("button", name="Filter").bounding_box()
    last = rows[max(rows)]
    assert abs(filter_button["y"] + filter_button["height"] - boxes[last[-1]]["y"] - boxes[last[-1]]["height"]) <= 2
    check_accessible(page, "queue, reversed date range")
    page.set_viewport_size({"width": 320, "height": 800})
    widths = {round(page.get_by_label(name, exact=True).bounding_box()["width"]) for name in names}
    assert len(widths) == 1, widths
    no_horizontal_scroll(page)


def test_the_queue_table_is_a_tab_stop_only_while_it_scrolls_sideways(page, site, check_accessible):
    """Measured: with a row of red flags, the queue's six columns are wider than their box from 650 to about 720 CSS
    pixels (a 1366-1440 px laptop at 200% zoom, 1280 px at 175-190%); below 40em they are cards, wider they fit.
    Where it scrolls, its wrapper is a named Tab stop, so that the arrow keys reach the red flags at the right;
    elsewhere, no Tab stop."""
    page.set_default_timeout(10_000)
    make_user("dr-scroll")
    submit(edss=3.5)
    submit(pregnancy="planning", comorbidities=["heart"], diagnosis_confirmed="no")  # red flags: the widest row
    sign_in(page, site, "dr-scroll")
    region = page.get_by_role("region", name="2 screenings, oldest first")
    for width, scrolls in ((320, False), (375, False), (680, True), (768, False), (1280, False), (680, True)):
        page.set_viewport_size({"width": width, "height": 800})
        assert tab_stop_only_while_it_scrolls(page, region, f"queue ({width} px)") == scrolls, width
        check_accessible(page, f"queue ({width} px)")
    no_horizontal_scroll(page, 680)  # the table scrolls in its box, not the page


def test_every_table_on_the_screening_and_re_score_pages_is_a_tab_stop_only_while_it_scrolls(page, site,
                                                                                              check_accessible):
    """Measured: the facts table is wider than its box up to about 400 CSS pixels (a phone, 400% zoom), each set's
    criteria table from 650 to about 820 (a laptop at 150-200% zoom), the verdicts never (cards below 40em). Each is
    a named region (its caption), a Tab stop where it scrolls and only there."""
    page.set_default_timeout(10_000)
    make_user("dr-regions")
    screening = submit(edss=3.5)
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0  # a re-score to preview
    criterion.save()
    sign_in(page, site, "dr-regions")
    # where some table scrolls (else this would test nothing): the facts at 320, the criteria at 700; none at 1280
    detail = detail_url(site, screening)
    for url, scrolling in ((detail, {320, 700}), (f"{detail}rescore/", {700})):
        page.goto(url)
        open_all_details(page)  # each set's criteria table: no width while its details are closed
        regions = page.locator(".table-responsive")
        names = regions.evaluate_all("""rs => rs.map(r => r.getAttribute('role') === 'region'
            && (document.getElementById(r.getAttribute('aria-labelledby'))?.textContent || '').trim())""")
        assert names and all(names), (url, names)  # every wrapper a region, named by its table's caption
        scrolled = set()
        for width in (320, 700, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            for i, region in enumerate(regions.all()):
                if tab_stop_only_while_it_scrolls(page, region, f"{url} ({width} px): {names[i]}"):
                    scrolled.add(width)
            check_accessible(page, f"{url} ({width} px)")
        assert scrolled == scrolling, (url, scrolled)


BOX = "el => { const b = el.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height}; }"


@pytest.mark.parametrize("width, height", [(1280, 800), (640, 400)])
def test_the_queues_links_the_exports_and_the_re_score_are_targets_a_shaking_hand_can_hit(
        page, site, check_accessible, width, height):
    """Measured at 1280 and 640 px: the two exports were 21 px tall links 17 px apart on one line (a slip downloaded
    the patients' names and contact details at once), each row's reference a 21 px link that wrapped in its column
    at 1280, and "Preview against the current criteria" a 21 px link. Now each is at least 44 px tall; the export
    with contact details is on a line of its own, below the other, and leads to a page that says what the file
    holds, whose own button downloads it."""
    page.set_viewport_size({"width": width, "height": height})
    make_user("dr-targets")
    screening = submit(edss=3.5)
    submit(pregnancy="planning", comorbidities=["heart"])  # red flags: a wide row
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0  # the criteria changed since: the re-score preview is offered
    criterion.save()
    sign_in(page, site, "dr-targets")
    page.set_default_timeout(10_000)
    page.goto(site + "/review/?status=submitted")
    plain = page.get_by_role("link", name="Download all 2 as CSV (no contact details)")
    contact = page.get_by_role("link", name="Download with names and contact details…")
    plain_box, contact_box = plain.evaluate(BOX), contact.evaluate(BOX)
    assert plain_box["height"] >= 44 and contact_box["height"] >= 44, (plain_box, contact_box)
    assert contact_box["y"] >= plain_box["y"] + plain_box["height"] + 16, (plain_box, contact_box)  # a line below
    for link in page.locator("tr[data-reference] th a").all():
        box = link.evaluate(BOX)
        assert box["height"] >= 44, box
        lines = link.evaluate("""el => { const r = document.createRange(); r.selectNodeContents(el);
            return new Set([...r.getClientRects()].map(l => Math.round(l.top))).size; }""")
        assert lines == 1 or width < 960, (link.inner_text(), lines)  # in the table, the reference on one line
    check_accessible(page, f"queue ({width} px)")
    no_horizontal_scroll(page, width)

    follow(page, "Download with names and contact details…")
    expect(page.locator("main p").first).to_have_text(
        "This file holds the names and contact details of 2 patients (the filtered queue). Keep it safe: store it "
        "only where your practice allows, share it with no one else, and delete it when you no longer need it.")
    download, back = (page.get_by_role("button", name="Download with contact details"),
                      page.get_by_role("link", name="Back to the queue"))
    assert download.evaluate(BOX)["height"] >= 44 and back.evaluate(BOX)["height"] >= 44
    check_accessible(page, f"export with contact details ({width} px)")
    with page.expect_download() as downloading:
        download.click()
    assert downloading.value.suggested_filename.endswith("-with-contact-details.csv")
    follow(page, "Back to the queue")
    assert page.url == site + "/review/?status=submitted"  # the filters kept

    page.goto(detail_url(site, screening))
    preview = page.get_by_role("link", name="Preview against the current criteria")
    assert preview.evaluate(BOX)["height"] >= 44
    check_accessible(page, f"screening with the criteria changed ({width} px)")
