"""For tremor and blurred vision: every control is big enough to hit and its edge is visible
(PRODUCT.md §9: targets at least 24 px, aim 44; WCAG 2.5.8 and 1.4.11)."""

import re

from .answer_sets import ANSWER_SETS
from .flow import Patient, follow, press

ANSWERS = next(e["answers"] for e in ANSWER_SETS if e["answers"].get("walking_aid") == "two_sided")  # every step

CONTROLS = """() => [...document.querySelectorAll(
        'main input:not([type=hidden]), main select, main button, main .btn, main .form-check')].map(el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return {what: el.className.includes('form-check') && el.tagName === 'DIV' ? 'row' : el.tagName.toLowerCase(),
            id: el.id || el.name || el.innerText.trim().slice(0, 30), width: box.width, height: box.height,
            border: style.borderTopColor, borderWidth: parseFloat(style.borderTopWidth)};
})"""


def luminance(rgb):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(css_colour):
    *rgb, alpha = [float(x) for x in re.findall(r"[\d.]+", css_colour)] + [1.0]
    rgb = [alpha * c + (1 - alpha) * 255 for c in rgb[:3]]  # over the white page
    return (1.05) / (luminance(rgb) + 0.05)


def check_controls(page, where):
    problems = []
    for control in page.evaluate(CONTROLS):
        label = f"{where}: {control['what']} {control['id']!r}"
        if control["what"] == "row":  # a radio or checkbox with its label: the whole row is the target
            if control["height"] < 44:
                problems.append(f"{label} is {control['height']:.0f}px tall (aim 44)")
        elif control["what"] in ("button", "a"):
            if control["height"] < 44 or control["width"] < 44:
                problems.append(f"{label} is {control['width']:.0f}×{control['height']:.0f}px (aim 44)")
        else:
            if control["width"] < 24 or control["height"] < 24:
                problems.append(f"{label} is {control['width']:.0f}×{control['height']:.0f}px (at least 24)")
            if control["borderWidth"] < 1 or contrast_on_white(control["border"]) < 3:
                problems.append(f"{label} has a faint edge: {control['border']} "
                                f"({contrast_on_white(control['border']):.1f}:1, needs 3:1)")
    return problems


def test_every_control_is_big_enough_and_has_a_visible_edge(page, site, check_accessible):
    patient = Patient(page, site, check_accessible)
    problems = []
    patient.goto("/", "landing")
    problems += check_controls(page, "landing")
    press(page, "Start the check")
    patient.fill_questionnaire(ANSWERS, on_step=lambda slug: problems.extend(check_controls(page, slug)))
    problems += check_controls(page, "review")
    patient.see_result()
    problems += check_controls(page, "result")
    follow(page, "Send this result to a neurologist")  # a carer's
    press(page, "Send this result")  # the error state: the consent box with its message
    patient.arrive("submit (consent not ticked)")
    problems += check_controls(page, "submit (error)")
    assert not problems, "\n".join(problems)
