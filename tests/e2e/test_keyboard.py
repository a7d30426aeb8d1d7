"""The whole check, landing page to result, with the keyboard only (WCAG 2.1.1, 2.4.7; PRODUCT.md §9).

No mouse: no click(), check() or fill(); only Tab, Shift+Tab, arrows, Space, Enter and typing. Every element the
person acts on must show where the focus is.
"""

from playwright.sync_api import expect

from screening.forms import NONE_OF_THESE

from .answer_sets import ANSWER_SETS
from ..factories import browser_value
from .flow import STEP_FIELDS, FIELDS, Patient, current_slug, path_for, step_count_text, step_position

# Every kind of control: radios (first, middle and last options), checkboxes, text, the month list, and both
# treatment-response questions.
ANSWERS = ANSWER_SETS[0]["answers"]
MAX_TABS = 80

FOCUSED = """() => {
    const el = document.activeElement, style = getComputedStyle(el);
    return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', value: el.value ?? '',
            text: (el.innerText || '').trim(), checked: !!el.checked, outline: style.outlineStyle,
            outlineWidth: style.outlineWidth, shadow: style.boxShadow};
}"""


def focused(page):
    return page.evaluate(FOCUSED)


def assert_focus_visible(state):
    visible_outline = state["outline"] != "none" and state["outlineWidth"] not in ("0px", "")
    assert visible_outline or state["shadow"] != "none", f"no visible focus on {state}"


def tab_to(page, wanted, description):
    """Press Tab until ``wanted(focused state)``; then the focus must be visible."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = focused(page)
        if wanted(state):
            assert_focus_visible(state)
            return state
    raise AssertionError(f"Tab never reached {description} on {page.url}")


def press_button(page, text):
    tab_to(page, lambda s: s["tag"] in ("button", "a") and s["text"] == text, f"“{text}”")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def choose_radio(page, name, value):
    """Tab into the group (focus lands on the first option when none is chosen), arrow to the option, Space."""
    tab_to(page, lambda s: s["type"] == "radio" and s["name"] == name, f"the {name} options")
    for _ in range(25):
        if focused(page)["value"] == value:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    state = focused(page)
    assert (state["name"], state["value"], state["checked"]) == (name, value, True)
    assert_focus_visible(state)


def tick_boxes(page, name, values):
    for value in sorted(values or [NONE_OF_THESE], key=[k for k, _ in FIELDS[name].choices].index):
        tab_to(page, lambda s: s["type"] == "checkbox" and s["name"] == name and s["value"] == value, value)
        page.keyboard.press("Space")
        assert focused(page)["checked"]


def type_into(page, name, text):
    tab_to(page, lambda s: s["name"] == name and s["tag"] == "input", name)
    page.keyboard.type(text)


def choose_month(page, name, value):
    tab_to(page, lambda s: s["name"] == name and s["tag"] == "select", name)
    for _ in range(13):
        if focused(page)["value"] == value:
            break
        page.keyboard.press("ArrowDown")
    assert focused(page)["value"] == value


def answer_with_keys(page, slug):
    for key in STEP_FIELDS[slug]:
        if key not in ANSWERS:
            continue
        value, widget = ANSWERS[key], type(FIELDS[key].widget).__name__
        if widget == "CheckboxSelectMultiple":
            tick_boxes(page, key, value)
        elif "Radio" in widget:
            choose_radio(page, key, browser_value(value))
        elif widget == "Select":
            choose_month(page, key, browser_value(value))
        else:
            type_into(page, key, browser_value(value))


def test_the_whole_check_with_the_keyboard_only(page, site, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.goto("/", "landing")

    # The first Tab reaches the skip link, which appears when focused.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    assert_focus_visible(focused(page))
    press_button(page, "Start the check")

    for slug in path_for(ANSWERS):
        assert current_slug(page) == slug
        n, total = step_position(ANSWERS, slug)
        assert step_count_text(page) == f"Step {n} of {total}"
        patient.arrive(f"step {slug} (keyboard)")
        answer_with_keys(page, slug)
        press_button(page, "Continue")
    assert current_slug(page) == "review"
    patient.arrive("review (keyboard)")
    press_button(page, "See my result")

    assert page.url == site + "/result/"
    patient.arrive("result (keyboard)")
    # The details of the other sets open from the keyboard too.
    summary = tab_to(page, lambda s: s["tag"] == "summary" and s["text"].startswith("Show the details"), "a summary")
    page.keyboard.press("Enter")
    assert page.locator("details.set-details[open]").count() == 1, summary
    verdict = page.locator("section[data-verdict]").get_attribute("data-verdict")
    assert verdict == "likely"
