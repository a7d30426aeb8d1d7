"""The result page itself: not medical advice, outcomes by icon and words (never colour alone), a print layout,
and never stored by the browser (PRODUCT.md §1, §6 point 4, §9)."""

import re
import subprocess
import zlib

import pytest
from playwright.sync_api import expect

from .answer_sets import ANSWER_SETS, YEAR
from .flow import OUTCOME_WORDS, Patient, open_all_details, press, tab_stop_only_while_it_scrolls

# Unknown, unfavourable and favourable outcomes all on one page; a carer's, so the verdicts say "The answers".
ANSWERS = next(e["answers"] for e in ANSWER_SETS if e["answers"].get("walking_distance") == "unsure")
VERDICT_TITLES = {
    "likely": "The answers match the usual profile for HSCT under these criteria",
    "possible": "Some answers need a closer look or more information",
    "unlikely": "HSCT is not usually offered for this profile under these criteria",
}
TRIALS = {"mist", "beat-ms", "ram-ms", "starms"}  # entry rules: whether the answers fit them, not "usual profile"
TRIAL_VERDICT_TITLES = {
    "likely": "The answers fit this trial's entry rules",
    "possible": "Some answers need a closer look against this trial's entry rules",
    "unlikely": "The answers fall outside this trial's entry rules",
}


def test_the_result_page_explains_itself_in_words_and_prints(page, site, check_accessible, shoot):
    patient = Patient(page, site, check_accessible, shoot)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    patient.check_review(ANSWERS, shot="review")
    patient.see_result(shot="result")

    response = page.goto(site + "/result/")
    assert response.status == 200
    assert "no-store" in response.headers["cache-control"], "health data must not be kept by the browser"
    open_all_details(page)
    patient.arrive("result (reloaded, details open)")

    # Not medical advice, near the top of the page and not only in the footer.
    expect(page.locator("main .not-advice")).to_contain_text("This is not medical advice.")
    expect(page.locator("footer")).to_contain_text("This check is not medical advice.")

    # The verdict in words.
    verdict = page.locator("section[data-verdict]").get_attribute("data-verdict")
    expect(page.locator("section[data-verdict] h2")).to_have_text(VERDICT_TITLES[verdict])
    for row in page.locator("tr[data-set]").all():
        titles = TRIAL_VERDICT_TITLES if row.get_attribute("data-set") in TRIALS else VERDICT_TITLES
        title = re.escape(titles[row.get_attribute("data-verdict")])  # then how many criteria are not met or known
        expect(row.locator("td")).to_have_text(re.compile(rf"^{title}\s*(all \d+ criteria met|\d+ of \d+ criteria not .+)$"))

    # Each outcome by an icon and words, different for each outcome; the icon is hidden from screen readers
    # because the words say the same thing.
    cells = page.locator("tr[data-criterion]").evaluate_all("""rows => rows.map(r => {
        const cell = r.querySelector('td.outcome'), icon = cell.querySelector('.outcome-icon');
        return [r.dataset.outcome, icon.textContent.trim(), icon.getAttribute('aria-hidden'),
                cell.textContent.replace(icon.textContent, '').trim()];
    })""")
    assert {outcome for outcome, *_ in cells} == set(OUTCOME_WORDS), "this answer set shows every outcome"
    for outcome, icon, hidden, words in cells:
        assert (icon, words) == OUTCOME_WORDS[outcome]
        assert hidden == "true"

    # A print stylesheet that really loads.
    link = page.locator("link[rel=stylesheet][media=print]")
    expect(link).to_have_count(1)
    stylesheet = page.request.get(link.evaluate("l => l.href"))
    assert stylesheet.ok and "display: none" in stylesheet.text()
    expect(page.get_by_role("button", name="Print this result")).to_be_visible()

    # On paper: no buttons or navigation; the headline's table, and another set's only when it was opened.
    page.locator("details").evaluate_all("els => els.forEach(d => d.open = false)")
    page.locator("details.set-details").nth(1).evaluate("d => d.open = true")
    page.emulate_media(media="print")
    try:
        expect(page.get_by_role("button", name="Print this result")).to_be_hidden()
        expect(page.locator(".site-header")).to_be_hidden()
        expect(page.locator(".verdict")).to_be_visible()
        expect(page.locator(".criteria-table").first).to_be_visible()
        expect(page.locator("details.set-details").first).to_be_hidden()
        expect(page.locator("details.set-details").nth(1).locator(".criteria-table")).to_be_visible()
        expect(page.locator("td.why summary").first).to_have_css("color", "rgb(0, 0, 0)")  # a heading, not a link
    finally:
        page.emulate_media(media="screen")


def test_on_a_phone_the_result_opens_what_is_not_met_and_prints_everything(page, site, check_accessible):
    """Someone tired, on a phone: the reasons beside criteria not met or not known are open, and the risks; a met
    criterion's reason and the general notes are one tap away (30 phone screens with everything open, about 20 so).
    On paper everything is open."""
    page.set_viewport_size({"width": 375, "height": 667})
    patient = Patient(page, site, check_accessible)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    press(page, "See the result")  # a carer's answers
    patient.arrive("result (as it first opens, 375 px)")

    reasons = page.locator("main > .table-responsive tr[data-criterion]").evaluate_all(
        "rows => rows.map(r => [r.dataset.outcome, r.querySelector('td.why details').open])")
    assert {outcome for outcome, _ in reasons} == set(OUTCOME_WORDS)
    assert all(is_open == (outcome != "favourable") for outcome, is_open in reasons), reasons
    first = page.locator("main > .table-responsive tr[data-criterion]").first  # each toggle names its criterion
    expect(first.locator("td.why summary")).to_have_accessible_name(
        re.compile(rf"^Why it matters\s*:\s*{re.escape(first.locator('th').inner_text())}\s*$"))
    unmet = page.locator("tr[data-outcome=unfavourable] td.why").first
    expect(unmet).to_contain_text("Source:")  # the reason and its source, without a tap
    general = page.locator("details.note")
    assert general.count() >= 5 and not any(general.evaluate_all("notes => notes.map(n => n.open)"))
    general.first.locator("summary").click()  # a tap opens the note's text and its source
    expect(general.first.locator(".source")).to_be_visible()
    general.first.locator("summary").click()
    risks = page.locator("h2", has_text="Risks").locator("xpath=following-sibling::*[@data-note][1]")
    expect(risks.locator("h3")).to_be_visible()  # the risks are read without a tap, whatever the verdict
    screens = page.evaluate("document.documentElement.scrollHeight") / 667
    assert screens <= 22, f"the result is {screens:.0f} phone screens long before anything is opened"

    # Printing (the button, or the browser's own command) opens every closed part, then closes them again.
    page.evaluate("""() => window.addEventListener('beforeprint', () => { window.closedOnPaper =
        [...document.querySelectorAll('details:not(.set-details)')].filter(d => !d.open).length; })""")
    page.pdf()
    assert page.evaluate("window.closedOnPaper") == 0
    assert not any(general.evaluate_all("notes => notes.map(n => n.open)")), "closed again after printing"


def test_the_criteria_table_is_a_tab_stop_only_while_it_scrolls_sideways(page, site, check_accessible, shoot):
    """At 400% zoom (320 CSS pixels) the table is cards and does not scroll: its wrapper as a Tab stop is one more
    press, on a box a screen tall, that does nothing. At about 200% zoom on a wide laptop (700 CSS pixels) the table
    is a table, wider than its box: the wrapper must then be reached, so that the arrow keys can scroll it. The same
    page goes from one to the other as it is zoomed, and back."""
    page.set_viewport_size({"width": 320, "height": 800})
    patient = Patient(page, site, check_accessible, shoot, narrow=True)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    press(page, "See the result")  # a carer's answers
    wrapper = page.locator("main > .table-responsive[role=region]:has(> .criteria-table)")
    first_row = wrapper.locator("tr[data-criterion]").first
    contents_link = page.get_by_role("link", name="Criterion by criterion")

    def first_tab_into_the_table():
        """Where Tab goes from the "Criterion by criterion" heading, reached by its link in "On this page"."""
        contents_link.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        return page.evaluate("""() => { const el = document.activeElement;
            return el.matches('.table-responsive') ? 'wrapper' : el.tagName.toLowerCase(); }""")

    for width, scrolls in ((320, False), (700, True), (320, False)):
        page.set_viewport_size({"width": width, "height": 800})
        sizes = wrapper.evaluate("r => [r.scrollWidth, r.clientWidth]")
        assert (sizes[0] > sizes[1]) == scrolls, (width, sizes)  # cards at 320, a table wider than its box at 700
        if scrolls:
            expect(wrapper).to_have_attribute("tabindex", "0")
        else:
            expect(wrapper).not_to_have_attribute("tabindex", re.compile(".*"))
        patient.narrow = width == 320
        patient.arrive(f"result ({width} px)", f"result-criteria-table-{width}")
        if scrolls:
            assert first_tab_into_the_table() == "wrapper", width
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            # the arrow keys scroll the table sideways (smoothly: waited for, not read at once)
            page.wait_for_function("r => r.scrollLeft > 0", arg=wrapper.element_handle(), timeout=5000)
            page.keyboard.press("Tab")  # then the first "Why it matters" in the table
        else:  # at once
            assert first_tab_into_the_table() == "summary", width
        focused_row = page.evaluate("document.activeElement.closest('tr')?.dataset.criterion")
        assert focused_row == first_row.get_attribute("data-criterion"), width

    # Another set's table, shown when its details are opened: a Tab stop only where it scrolls too.
    other = page.locator("details.set-details").first
    other.locator("> summary").click()
    expect(other.locator(".table-responsive")).not_to_have_attribute("tabindex", re.compile(".*"))
    page.set_viewport_size({"width": 700, "height": 800})
    expect(other.locator(".table-responsive")).to_have_attribute("tabindex", "0")

    # Zoomed in while the table has the focus: it keeps it (focus taken away would fall back to the top of the
    # page), and stops being a Tab stop once the focus moves on.
    wrapper.focus()
    page.set_viewport_size({"width": 320, "height": 800})
    page.wait_for_function("r => r.scrollWidth <= r.clientWidth", arg=wrapper.element_handle(), timeout=5000)
    page.wait_for_timeout(200)  # the ResizeObserver's turn
    assert page.evaluate("document.activeElement.matches('main > .table-responsive')")
    expect(wrapper).to_have_attribute("tabindex", "0")
    page.keyboard.press("Tab")
    expect(wrapper).not_to_have_attribute("tabindex", re.compile(".*"))



def test_the_other_criteria_table_is_a_named_region_a_tab_stop_only_if_it_scrolls(page, site, check_accessible):
    """"Other published criteria": two columns, cards below 40em; measured, it fits its box from 320 to 1440 px (a
    phone, 1280 px at 400% zoom, a tablet, a laptop). Its wrapper is still a named region like every table's, so that
    if it ever is wider than its box (longer names, another language) the arrow keys can scroll it; while it fits,
    it is no Tab stop."""
    patient = Patient(page, site, check_accessible)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    press(page, "See the result")
    region = page.get_by_role("region", name="The result under each set of criteria")  # a carer's: not "Your result"
    expect(region.locator("table.other-sets")).to_be_visible()
    for width in (320, 375, 768, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        assert not tab_stop_only_while_it_scrolls(page, region, f"other criteria ({width} px)"), width
        patient.arrive(f"result ({width} px)")

    # Wider than its box (a set's name that does not wrap): now a Tab stop, scrolled with the arrow keys; axe agrees.
    page.set_viewport_size({"width": 768, "height": 800})
    region.locator("table").evaluate("t => t.style.minWidth = '60rem'")
    expect(region).to_have_attribute("tabindex", "0")
    assert tab_stop_only_while_it_scrolls(page, region, "other criteria (wider than its box)")
    check_accessible(page, "result (other criteria wider than their box)")
    region.locator("table").evaluate("t => t.style.minWidth = ''")
    expect(region).not_to_have_attribute("tabindex", re.compile(".*"))


@pytest.mark.parametrize("name", [
    "likely-edss-known-high-efficacy-breakthrough",
    "unlikely-carer-two-sticks-50m-spms",  # "Not known from the answers given" twice, and every reason open
])
def test_on_a_laptop_why_it_matters_is_readable_and_the_rows_short(page, site, name):
    """At 1280 px the result kept "? Not known from the answers given" on one line: the Result column took 392 px,
    "Why it matters" was squeezed to 221 px (12em) and a criterion's row was 400 to 630 px tall, most of a screen.
    The explanation is at least 20em wide, open or closed, and no row is taller than half the window."""
    answers = next(e["answers"] for e in ANSWER_SETS if e["name"] == name)
    page.set_viewport_size({"width": 1280, "height": 800})
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    patient.fill_questionnaire(answers)
    press(page, "See the result" if answers.get("respondent") == "carer" else "See my result")
    rows = page.locator("main > .table-responsive tr[data-criterion]").evaluate_all("""rows => rows.map(r => {
        const why = r.querySelector('td.why');
        return [r.dataset.criterion, why.getBoundingClientRect().width / parseFloat(getComputedStyle(why).fontSize),
                r.getBoundingClientRect().height]; })""")
    assert rows and min(ems for _, ems, _ in rows) >= 20, rows
    assert max(height for *_, height in rows) <= 400, rows


def wider_than_the_measure(page):
    """The visible paragraphs, hints and lists of the page wider than 37em of their own text (some 80 characters)."""
    return page.locator("main :is(p, li, dd, .form-text), footer p").evaluate_all("""els => els
        .filter(e => e.offsetParent && !e.closest('table'))  /* a table's columns have widths of their own */
        .map(e => [e.textContent.trim().slice(0, 50), e.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize)])
        .filter(([, ems]) => ems > 37)""")


def left_edges(page):
    """Where the header's, the help's, main's and the footer's text starts, in CSS pixels."""
    return page.locator(".site-header .container, .help-spot, main h1, .site-footer p").evaluate_all(
        """els => els.map(e => Math.round(e.getBoundingClientRect().left + parseFloat(getComputedStyle(e).paddingLeft)))""")


def test_on_a_wide_screen_the_text_keeps_a_readable_line_length(page, site):
    """On a wide screen (1440 px) text runs to about 75 characters a line, not 130 (WCAG 1.4.8: eyes that blur lose
    their place on a long line), on a step and on the result; the criteria tables keep the column's width and do not
    scroll sideways; the header, the help, the heading and the footer start at one left edge."""
    page.set_viewport_size({"width": 1440, "height": 900})
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests, at their own widths
    patient.start()
    too_wide = {}
    patient.fill_questionnaire(ANSWERS, on_step=lambda slug: too_wide.update({slug: wider_than_the_measure(page)}))
    assert not any(too_wide.values()), too_wide
    patient.see_result()  # every detail open: the notes, each set's table, each "Why it matters"
    assert not wider_than_the_measure(page)
    assert len(set(left_edges(page))) == 1, left_edges(page)
    tables = page.locator(".table-responsive:has(.criteria-table)").evaluate_all(
        "els => els.map(e => [e.scrollWidth, e.clientWidth])")
    assert tables and all(inside <= outside for inside, outside in tables), tables
    assert tables[0][1] > 1000, "the criteria table has the column's width, wider than the text"


def pdf_pages(pdf):
    """The number of pages in a PDF that Chromium wrote."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def page_one_filled(pdf):
    """How far down page 1's printable area its last line of text is (0 to 1), in a PDF that Chromium (Skia) wrote.

    Skia draws each page in CSS pixels from the top of its printable area: ``s 0 0 s x y cm`` after the area's clip
    rectangle (``x y w h re W``, in units s times smaller than CSS pixels), then each run of text at
    ``1 0 0 -1 x baseline Tm``."""
    first = int(re.search(rb"/Type\s*/Pages\b.*?/Kids\s*\[\s*(\d+) 0 R", pdf, re.S).group(1))
    page = re.search(rb"(?<!\d)%d 0 obj(.*?)endobj" % first, pdf, re.S).group(1)
    contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", page).group(1)
    ops = b"".join(
        zlib.decompress(re.search(rb"(?<!\d)%s 0 obj.*?stream\r?\n(.*?)\r?\nendstream" % ref, pdf, re.S).group(1))
        for ref in re.findall(rb"(\d+) 0 R", contents))
    clip_height = float(re.search(rb"[\d.]+ [\d.]+ [\d.]+ ([\d.]+) re\s+W", ops).group(1))
    scale = float(re.search(rb"\bq\s+([\d.]+) 0 0 \1 [\d.]+ [\d.]+ cm", ops).group(1))
    height = clip_height / scale
    assert 800 < height < 1100, f"not an A4 or Letter page's printable height in CSS pixels: {height}"
    return max(float(y) for y in re.findall(rb"1 0 0 -1 [-\d.]+ ([-\d.]+) Tm", ops)) / height


@pytest.mark.parametrize("name", [
    "likely-edss-known-high-efficacy-breakthrough",
    "possible-never-treated-relapses-unknown-region-not-said",
    "unlikely-one-stick-100m-stable",
    "possible-carer-walking-distance-unsure-not-highly-active",  # a carer's
])
def test_on_paper_page_one_is_not_left_part_empty(page, site, name):
    """Page 1 is what is read first at the consultation: the verdict, then the criteria below it on the same sheet.
    A criterion is never cut in two, so one that does not fit under the verdict goes to page 2, and with it the whole
    table; under a likely verdict that left page 1 a third empty on A4 (a quarter on Letter) for want of 2 px, and a
    possible one's first note, kept with its heading, a fifth of a Letter page."""
    answers = next(e["answers"] for e in ANSWER_SETS if e["name"] == name)
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    patient.fill_questionnaire(answers)
    press(page, "See the result" if answers.get("respondent") == "carer" else "See my result")
    filled = {size: page_one_filled(page.pdf(format=size)) for size in ("A4", "Letter")}  # print.js opens all
    assert min(filled.values()) >= 0.85, "page 1 ends " + ", ".join(
        f"{share:.0%} of the way down on {size}" for size, share in filled.items())


def pdf_text_pages(pdf):
    """The text of each page of a PDF, as poppler's pdftotext reads it (Chromium's own text is glyph numbers). `make
    test` and .ci/run install it (poppler-utils) with Chromium."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
                          ).stdout.decode().split("\f")


def test_on_paper_the_verdicts_source_is_not_left_alone_at_the_top_of_page_two(page, site):
    """Under this unlikely verdict the box's last paragraph, "Source: ..." (three lines), went over to page 2 alone,
    on A4 and on Letter, away from the verdict it is the source of: it goes with what comes before it."""
    answers = next(e["answers"] for e in ANSWER_SETS if e["name"] == "unlikely-one-stick-100m-stable")
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    patient.fill_questionnaire(answers)
    press(page, "See my result")
    for size in ("A4", "Letter"):
        pages = pdf_text_pages(page.pdf(format=size))
        assert "Source:" in pages[0] + pages[1], size  # the verdict's, on page 1 or 2
        assert not pages[1].lstrip().startswith("Source:"), f"on {size} page 2 begins: {pages[1].strip()[:80]}"


# The usability walk-through's first person (52, secondary progressive, EDSS estimated from walking with a stick, not
# active): on A4 "Criterion by criterion" and its introduction ended page 3 and the table began page 4.
WALK_THROUGH = {
    "respondent": "self", "age": 52,
    "diagnosis_confirmed": "yes", "ms_type": "spms", "diagnosis_year": YEAR - 21,
    "edss": None, "walking_aid": "one_sided", "walking_distance": "100_199",
    "relapses_12m": 0, "relapses_36m": 1, "mri_activity_12m": "unsure",
    "dmts": ["interferon_beta", "fumarate"],
    "activity_on_dmt": "unsure",
    "comorbidities": [], "prior_hsct": False, "pregnancy": "no",
    "region": "europe",
}


def lines_after(heading, pages):
    """How many lines of text follow a heading (on one line or wrapped) on the printed page where it is."""
    for text in pages:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for first in range(len(lines)):
            last, joined = first, lines[first]
            while heading.startswith(joined) and joined != heading and last + 1 < len(lines):
                last += 1
                joined += " " + lines[last]
            if joined == heading:
                return len(lines) - last - 1
    raise AssertionError(f"not on paper: {heading}")


@pytest.mark.parametrize("name", ["walk-through"] + [e["name"] for e in ANSWER_SETS])
def test_on_paper_no_heading_is_left_at_the_foot_of_a_page(page, site, name):
    """A heading at the foot of a page, with what it is about on the next, reads as the end of a part. Each heading
    printed is followed on its page by at least four lines: its introduction and the first criterion, or a note's
    title and three lines of the note (a paragraph is cut with three lines at least either side), on A4 and Letter."""
    answers = WALK_THROUGH if name == "walk-through" else next(e["answers"] for e in ANSWER_SETS if e["name"] == name)
    patient = Patient(page, site, lambda page, label: None)  # axe: the other tests
    patient.start()
    patient.fill_questionnaire(answers)
    press(page, "See the result" if answers.get("respondent") == "carer" else "See my result")
    page.emulate_media(media="print")
    open_all_details(page)  # as print.js opens them; the other sets' tables that stay closed print nothing
    page.locator("details.set-details").evaluate_all("els => els.forEach(d => d.open = false)")
    headings = [h.inner_text().strip() for h in page.locator("main h2").filter(visible=True).all()]
    assert "Criterion by criterion" in headings
    for size in ("A4", "Letter"):
        pages = pdf_text_pages(page.pdf(format=size))
        short = {heading: n for heading in headings if (n := lines_after(heading, pages)) < 4}
        assert not short, f"on {size}, lines after a heading at the foot of its page: {short}"


def test_on_paper_the_result_is_readable_complete_and_short(page, site, check_accessible):
    """Printed for the neurologist, by someone whose eyes blur: text at 12 pt, a source never larger than what it is
    the source of, every closed part printed open even when no script opens it (the browser's own print command),
    no buttons or links to press, each criterion's explanation across the page's width (in a narrow last column each
    criterion took most of an A4 page), the date scored (on page 1, above the verdict, for whoever reads it weeks
    later) and "not medical advice" on paper; the print button prints, without inline script."""
    patient = Patient(page, site, check_accessible)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    press(page, "See the result")  # as it first opens: the met criteria's reasons and the general notes closed
    assert page.locator("details.note:not([open])").count() >= 5
    assert page.locator("td.why details:not([open])").count() >= 1

    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    page.evaluate("window.print = () => { window.printed = true; }")  # headless: no dialog to wait for
    page.get_by_role("button", name="Print this result").click()
    assert page.evaluate("window.printed") is True and not blocked, blocked

    page.emulate_media(media="print")  # no beforeprint: as if print.js had not run
    try:
        def points(selector):
            return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize) * 0.75")

        assert points("main .not-advice") >= 12
        assert points(".verdict > p:not(.verdict-label, .source)") >= 12
        assert points("td.why .source") <= points("td.why details"), "a source printed larger than its explanation"
        assert points(".note .source") <= points(".note .note-body p")
        assert points(".verdict .source") <= points(".verdict > p:not(.verdict-label, .source)")
        assert points(".site-footer p") <= points("main .not-advice")

        closed = "details.note:not([open]) .source, main > .table-responsive td.why details:not([open]) .source"
        for end in page.locator(closed).all():  # the last thing inside each closed part
            expect(end).to_be_visible()
        expect(page.locator("details.set-details[data-set]:not([open])").first).to_be_hidden()  # left out on purpose
        for control in page.locator("main button, main .btn, .site-header, .help-spot, .skip-link, .contents").all():
            expect(control).to_be_hidden()

        # Read at a clinic weeks later, page 1 says when the result was worked out: above the verdict, once.
        dated = page.locator(".scored-on").filter(visible=True)
        expect(dated).to_have_count(1)
        expect(dated).to_have_text(re.compile(r"^Scored on \d{1,2} [A-Z][a-z]+ \d{4}\.$"))
        assert dated.evaluate("(e) => !!(e.compareDocumentPosition(document.querySelector('.verdict')) "
                              "& Node.DOCUMENT_POSITION_FOLLOWING)"), "the date is printed after the verdict"
        expect(page.locator("main .not-advice")).to_be_visible()

        widths = page.locator("main > .table-responsive tr[data-criterion]").evaluate_all(
            "rows => rows.map(r => r.querySelector('td.why').offsetWidth / r.offsetWidth)")
        assert widths and min(widths) > 0.9, f"'Why it matters' is a narrow column on paper: {widths}"
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

        a4 = pdf_pages(page.pdf(format="A4"))
        letter = pdf_pages(page.pdf(format="Letter"))
        assert a4 <= 11 and letter <= 12, f"{a4} A4 pages, {letter} Letter pages"
    finally:
        page.emulate_media(media="screen")
