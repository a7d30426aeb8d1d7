"""Helpers that drive the patient flow in a real browser the way a person does: by the visible labels.

The question and answer wording comes from the questionnaire's own forms (so a reworded label does not break the
tests), but which steps are asked and how they are counted is written out here independently of the code under
test, from PRODUCT.md §2 and §6.
"""

import hashlib
import io
import json
import re

from django.core.management import call_command
from django.forms import CheckboxSelectMultiple, RadioSelect, Select
from django.utils import timezone
from playwright.sync_api import expect

from screening.forms import NONE_OF_THESE, STEPS

from ..factories import browser_value

STEP_SLUGS = [step.slug for step in STEPS]
STEP_FIELDS = {step.slug: list(step.form_class.base_fields) for step in STEPS}
FIELDS = {name: field for step in STEPS for name, field in step.form_class.base_fields.items()}
HIGH_EFFICACY = {"natalizumab", "anti_cd20", "alemtuzumab", "cladribine"}  # PRODUCT.md §2
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
AXE_CHECKED = set()  # digests of the pages axe found nothing wrong with, this session
OUTCOME_WORDS = {"favourable": ("✓", "Matches"), "unfavourable": ("✗", "Does not match"),
                 "unknown": ("?", "Not known from the answers given")}


# --- What the spec says is asked -----------------------------------------------------------------------------


def skipped(slug, known):
    """Whether ``known`` (the answers of the earlier steps) rules step ``slug`` out (PRODUCT.md §2)."""
    edss_given = "edss" in known and known["edss"] is not None
    if slug == "walking-aid":
        return edss_given
    if slug == "walking-distance":
        return edss_given or known.get("walking_aid") == "wheelchair"
    if slug == "treatment-response":
        return "dmts" in known and not known["dmts"]
    return False


def path_for(answers):
    """The steps a person with these answers is asked, in order."""
    return [slug for slug in STEP_SLUGS if not skipped(slug, answers)]


def step_position(answers, slug):
    """``(n, N)`` of "Step n of N" on step ``slug`` when only the earlier steps are answered."""
    earlier = STEP_SLUGS[:STEP_SLUGS.index(slug)]
    known = {key: value for key, value in answers.items() if any(key in STEP_FIELDS[s] for s in earlier)}
    counted = [s for s in STEP_SLUGS if not skipped(s, known)]
    return counted.index(slug) + 1, len(counted)


# --- Labels ------------------------------------------------------------------------------------------------------


def field_for(key, answers=None):
    """A question as this person is asked it: worded for a carer, naming the medicines they ticked."""
    if answers is None:
        return FIELDS[key]
    step = next(step for step in STEPS if key in step.form_class.base_fields)
    return step.form_class(answers=answers, today=timezone.localdate()).fields.get(key, FIELDS[key])


def question(key, answers=None):
    return str(field_for(key, answers).label)


def choice_label(key, value, answers=None):
    choices = {str(k): str(label) for k, label in field_for(key, answers).choices}
    return choices[browser_value(value)]


def answer_text(key, value, answers=None):
    """An answer as the review page reads it."""
    field = field_for(key, answers)
    if isinstance(field.widget, CheckboxSelectMultiple):
        order = [k for k, _ in field.choices]
        return ", ".join(choice_label(key, v, answers) for v in sorted(value or [NONE_OF_THESE], key=order.index))
    if isinstance(field.widget, (RadioSelect, Select)):
        return choice_label(key, value, answers)
    return "Not sure" if value is None else str(value)


def group(page, key, answers=None):
    """The fieldset of a radio or checkbox question, found by its legend."""
    return page.get_by_role("group", name=question(key, answers), exact=True)


# --- Driving the browser -----------------------------------------------------------------------------------------


def answer(page, key, value, answers=None):
    """Give one answer by clicking the visible label (radios, checkboxes) or typing/choosing (text, month), to the
    question as it is put to someone with these ``answers``. The first step asks who is answering with the age: its
    questions are put as to anyone, until that answer is saved (then the age is asked of a carer about the person)."""
    if answers is not None and key in STEP_FIELDS[STEP_SLUGS[0]]:
        answers = {k: v for k, v in answers.items() if k != "respondent"}
    widget = FIELDS[key].widget
    asked = group(page, key, answers)
    if isinstance(widget, CheckboxSelectMultiple):  # before RadioSelect: Django derives one from the other
        for item in value or [NONE_OF_THESE]:  # none of them: the question's own "none" box
            asked.get_by_text(choice_label(key, item, answers), exact=True).click()
        ticked = asked.locator("input:checked").evaluate_all("els => els.map(e => e.value)")
        assert sorted(ticked) == sorted(value or [NONE_OF_THESE])
    elif isinstance(widget, RadioSelect):
        label = choice_label(key, value, answers)
        asked.get_by_text(label, exact=True).click()
        expect(asked.get_by_label(label, exact=True)).to_be_checked()
    elif isinstance(widget, Select):
        page.get_by_label(question(key, answers)).select_option(label=choice_label(key, value, answers))
    else:
        page.get_by_label(question(key, answers)).fill(browser_value(value))


def answer_step(page, slug, answers):
    for key in STEP_FIELDS[slug]:
        if key in answers:
            answer(page, key, answers[key], answers)


def press(page, name):
    """Press one of the step buttons ("Continue", "Back", "Save and finish later", ...) and wait for the page."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def follow(page, name):
    """Follow a link by its visible name and wait for the page."""
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()


def current_slug(page):
    match = re.search(r"/check/([\w-]+)/", page.url)
    return match.group(1) if match else None


def step_count_text(page):
    return page.locator(".step-count").inner_text().strip()


def review_rows(page):
    """``{question: answer}`` as the review page lists them."""
    return dict(page.locator(".answer-row").evaluate_all(
        "rows => rows.map(r => [r.querySelector('dt').innerText.trim(), r.querySelector('dd').innerText.trim()])"))


def preselected(page):
    """The radios and checkboxes that are already ticked: ``["name=value", ...]``."""
    return page.locator("input[type=radio]:checked, input[type=checkbox]:checked").evaluate_all(
        "els => els.map(e => `${e.name}=${e.value}`)")


def no_horizontal_scroll(page, width=320):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, f"{page.url}: the page scrolls sideways ({scroll_width}px in {width}px)"


def tab_stop_only_while_it_scrolls(page, region, label):
    """A table's wrapper (the {% scroll_region %} tag) as it is now: a Tab stop while the table is wider than its box,
    so that a keyboard user can reach it and scroll it with the arrow keys; out of the Tab order while it fits (or is
    cards), one press fewer. Returns whether it scrolls."""
    expect(region).to_have_attribute("role", "region")
    sizes = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    scrolls = sizes[0] > sizes[1]
    if scrolls:
        expect(region).to_have_attribute("tabindex", "0")
        region.focus()
        region.evaluate("r => r.scrollLeft = 0")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        # the arrow keys scroll the table sideways (smoothly: waited for, not read at once)
        page.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle(), timeout=5000)
        region.evaluate("r => { r.scrollLeft = 0; r.blur(); }")
    else:
        expect(region, f"{label}: fits {sizes}, yet a Tab stop").not_to_have_attribute("tabindex", re.compile(".*"))
    return scrolls


def codes_on_paper(page):
    """A page with a code, printed to keep (it says so): each code large, in a typeface that tells 0 from O; no
    button or link to press on paper."""
    page.emulate_media(media="print")
    try:
        for code in page.locator(".code-box").all():
            expect(code).to_be_visible()
            expect(code).to_have_css("font-family", re.compile("monospace"))
            assert code.evaluate("e => parseFloat(getComputedStyle(e).fontSize) * 0.75") >= 18
        for control in page.locator("main button, main .secondary-actions, .site-header, .help-spot").all():
            expect(control).to_be_hidden()
    finally:
        page.emulate_media(media="screen")


def open_all_details(page):
    page.locator("details").evaluate_all("els => els.forEach(d => d.open = true)")


class Patient:
    """One person in one browser page; every page they reach is checked with axe (and optionally photographed)."""

    def __init__(self, page, site, check_accessible, shoot=None, narrow=False):
        self.page, self.site, self.check_accessible, self.shoot = page, site, check_accessible, shoot
        self.narrow = narrow
        self.preselected = {}  # step slug -> answers ticked before the person touched the step (must stay empty)

    def arrive(self, label, shot=None):
        """Check the page as it is now: axe (and at 320 px, no sideways scrolling); photograph it if asked.

        axe runs once per distinct page: a page whose markup is identical (but for the CSRF token) to one already
        checked at the same width in this session, such as a fresh first step, is not checked again.
        """
        markup = CSRF.sub("", self.page.content()) + repr(self.page.viewport_size)
        digest = hashlib.sha256(markup.encode()).hexdigest()
        if digest not in AXE_CHECKED:
            self.check_accessible(self.page, label)
            AXE_CHECKED.add(digest)
        if self.narrow:
            no_horizontal_scroll(self.page)
        if shot and self.shoot:
            self.shoot(self.page, shot)

    def goto(self, path, label, shot=None):
        response = self.page.goto(self.site + path)
        self.arrive(label, shot)
        return response

    def start(self, shot=None):
        self.goto("/", "landing", shot)
        press(self.page, "Start the check")
        assert current_slug(self.page) == STEP_SLUGS[0]

    def fill_questionnaire(self, answers, shots=False, on_step=None):
        """From the first step to the review page; asserts the path, the step counts and that nothing is preselected.

        Returns the slugs of the steps visited.
        """
        visited = []
        while (slug := current_slug(self.page)) not in (None, "review"):
            visited.append(slug)
            assert slug in path_for(answers), f"{slug} asked, but these answers skip it"
            n, total = step_position(answers, slug)
            assert step_count_text(self.page) == f"Step {n} of {total}", slug
            if ticked := preselected(self.page):
                self.preselected[slug] = ticked  # asserted by the caller, after the result has been compared
            if slug == "treatment-response":
                asked = bool(HIGH_EFFICACY & set(answers["dmts"]))
                assert group(self.page, "activity_on_high_efficacy_dmt", answers).count() == (1 if asked else 0)
            self.arrive(f"step {slug}", f"step-{slug}" if shots else None)
            if on_step:
                on_step(slug)
            answer_step(self.page, slug, answers)
            press(self.page, "Continue")
            assert current_slug(self.page) != slug, f"{slug} did not accept the answers: " + \
                self.page.locator("main").inner_text()[:500]
        assert visited == path_for(answers)
        assert current_slug(self.page) == "review"
        return visited

    def check_review(self, answers, shot=None):
        self.arrive("review", shot)
        rows = review_rows(self.page)
        for key, value in answers.items():
            assert rows.get(question(key, answers)) == answer_text(key, value, answers), key
        return rows

    def see_result(self, shot=None):
        press(self.page, re.compile("^See (my|the) result$"))  # "the" for a carer
        assert self.page.url == self.site + "/result/"
        open_all_details(self.page)
        self.arrive("result (details open)", shot)


def screen(tmp_path, answers):
    """``manage.py screen ANSWERS --all-sets --today <today>`` in-process, on the live server's database."""
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    out = io.StringIO()
    call_command("screen", str(path), "--all-sets", "--today", timezone.localdate().isoformat(), stdout=out)
    return json.loads(out.getvalue())


def result_page(page):
    """What the result page shows, in the shape of the ``screen`` command's output."""
    def rows(scope):
        return page.locator(f"{scope} tr[data-criterion]").evaluate_all(
            "rows => rows.map(r => [r.dataset.criterion, r.dataset.outcome])")

    others = page.locator("tr[data-set]").evaluate_all("rows => rows.map(r => [r.dataset.set, r.dataset.verdict])")
    return {
        "verdict": page.locator("section[data-verdict]").get_attribute("data-verdict"),
        "criteria": rows("main > .table-responsive .criteria-table"),
        "others": others,
        "other_criteria": {code: rows(f"details[data-set='{code}']") for code, _ in others},
        "notes": page.locator("[data-note]").evaluate_all("els => els.map(e => e.dataset.note)"),
    }
