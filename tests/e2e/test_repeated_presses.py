"""For tremor: a button pressed twice (a second tap a moment after the first, before the next page has come) stores
one result and one submission, and never leaves the person without a code they were never shown (PRODUCT.md §6, §9).

The browser shows the answer to the second press, dropping the first's, with the cookie that held the first's code.
Over a network the first answer arrives after the second tap; here every post is answered late
(``slow_answers``) so that the second tap lands on the same page, as it does over a phone's connection.
"""

import time

import pytest
from django.core.handlers.base import BaseHandler
from playwright.sync_api import expect

from screening.models import Screening

from .answer_sets import ANSWER_SETS
from .flow import Patient

ANSWERS = ANSWER_SETS[0]["answers"]
LATENCY = 0.6  # seconds between a post's answer being ready and the browser receiving it
SECOND_TAP = 150  # milliseconds after the first: a tremor's repeated tap


@pytest.fixture
def slow_answers(monkeypatch):
    """Every post is answered ``LATENCY`` seconds after the server has done its work (committed, codes issued)."""
    answer = BaseHandler.get_response

    def late(self, request):
        response = answer(self, request)
        if request.method == "POST":
            time.sleep(LATENCY)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", late)


def tap_twice(page, name):
    """Two taps on the same spot of a button, ``SECOND_TAP`` ms apart, then wait for the page the browser keeps."""
    button = page.get_by_role("button", name=name, exact=True)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(SECOND_TAP)
    page.mouse.click(x, y)
    page.wait_for_timeout(LATENCY * 1000 * 2 + 1000)  # the second tap's answer (the first's navigation was dropped)
    page.wait_for_load_state()


def test_see_my_result_pressed_twice_stores_one_result(page, site, check_accessible, slow_answers):
    patient = Patient(page, site, check_accessible)
    patient.start()
    patient.fill_questionnaire(ANSWERS)
    tap_twice(page, "See my result")
    assert page.url == site + "/result/"
    expect(page.locator("section[data-verdict]")).to_be_visible()
    assert Screening.objects.count() == 1, "a second result was stored for the same answers"
