"""The landing page in a real browser: styled, accessible."""


def test_the_landing_page_is_styled_and_accessible(page, site, check_accessible, shoot):
    page.goto(site + "/")
    assert page.get_by_role("heading", level=1).is_visible()
    # The vendored Bootstrap really loads: a styled button is not the browser's default grey.
    colour = page.get_by_role("button", name="Start the check").evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(11, 79, 138)"
    shoot(page, "landing")
    check_accessible(page, "landing")
