"""The landing page in a real browser: styled, accessible."""


def test_the_landing_page_is_styled_and_accessible(page, site, check_accessible, shoot):
    page.goto(site + "/")
    assert page.get_by_role("heading", level=1).is_visible()
    # The vendored Bootstrap really loads: a styled button is not the browser's default grey.
    colour = page.get_by_role("button", name="Start the check").evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(11, 79, 138)"
    shoot(page, "landing")
    check_accessible(page, "landing")


def test_the_start_button_is_on_the_first_screen(page, site, check_accessible):
    """A tired reader finds the way in without scrolling, on a phone and on a laptop: the start button is wholly
    within the first screen (it was 2.4 phone screens down, below three sections). The page still says, below it,
    who the check is for, how long it takes and what happens to the answers (PRODUCT.md §6.1)."""
    for width, height in ((375, 667), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(site + "/")
        box = page.get_by_role("button", name="Start the check").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (width, box)
        for heading in ("Who it is for", "How long it takes", "What happens to your answers"):
            assert page.get_by_role("heading", level=2, name=heading).is_visible(), heading
        check_accessible(page, f"landing ({width} px)")
