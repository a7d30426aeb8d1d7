"""A carer filling in the check for a person with MS is never addressed as that person.

One walk through the whole patient flow per respondent (every page a visitor sees, from a questionnaire step to the
page that says the result was withdrawn), read as the visitor reads it: page title, help, main part and footer.
Each page says the carer's words to a carer and the patient's own words, unchanged, to a patient, never the other's.
"""

import re
from html import unescape

import pytest
from django.urls import reverse

from .factories import answers
from .test_views import (RESULT, REVIEW, RecordingClient, answer_steps, look_up, read_codes, read_resume_code,
                         see_result, step_url)

# A walking estimate of 6.0, the only answer against the main set: the verdict names the answer behind it and says
# that it rests on an estimate.
ESTIMATED = {"edss": None, "walking_aid": "one_sided", "walking_distance": "500_plus"}
FOOTER = ("It shows how the answers compare with published criteria. Only the neurologist of the person with MS and a "
          "transplant team can say whether HSCT is right for them.",
          "It shows how your answers compare with published criteria. Only your neurologist and a transplant team can "
          "say whether HSCT is right for you.")
HELP = ("If the person you are helping feels unwell or something has changed suddenly, contact their MS team or a "
        "doctor.", "If you feel unwell or something has changed suddenly, contact your MS team or a doctor.")

# page: what a carer reads there, what a patient reads there instead (each whole, in order)
PAGES = {
    "step": [FOOTER, HELP],
    "first step again": [("About you and the person you are helping – ", "About you – "), FOOTER],
    "review": [("Check the answers – ", "Check your answers – "), FOOTER],
    "start again": [("No, keep the answers", "No, keep my answers"),
                    ("Save the answers with a resume code", "Save my answers with a resume code"), FOOTER],
    "saved": [("The answers are saved", "Your answers are saved"), FOOTER],
    "resumed": [("Welcome back: the answers are here as you saved them.",
                 "Welcome back: your answers are here as you saved them."), FOOTER],
    "result": [
        ("The result – ", "Your result – "),
        ("Ask their neurologist about other options, such as reviewing their MS medicine or clinical trials.",
         "Ask your neurologist about other options, such as reviewing your MS medicine or clinical trials."),
        ("It shows how the answers compare with published criteria. The person with MS should talk to their "
         "neurologist before deciding anything.",
         "It shows how your answers compare with published criteria. Talk to your neurologist before deciding "
         "anything."),
        ("Answer: 6.0 (estimated from walking)", "Your answer: 6.0 (estimated from walking)"),
        ("Their disability score (EDSS) was estimated from what you told us about their walking",
         "Your disability score (EDSS) was estimated from what you told us about walking"),
        ("Only a neurologist's examination gives their real score: ask for it.",
         "Only a neurologist's examination gives your real score: ask for it."),
        ("Not every guideline reads the answers this way:", "Not every guideline reads your answers this way:"),
        ("What next: send the result to a neurologist, print it, change or save the answers",
         "What next: send your result to a neurologist, print it, change your answers or save them for later"),
        ("About the answers Criterion by criterion", "About your answers Criterion by criterion"),
        ("How the answers compare with Article profile", "How your answers compare with Article profile"),
        ("Criterion Answer The criteria look for", "Criterion Your answer The criteria look for"),
        ("Here is how the answers compare with each.", "Here is how your answers compare with each."),
        ("whether a trial is open, and could take the person with MS, is for the trial team and their neurologist.",
         "whether a trial is open, and could take you, is for the trial team and your neurologist."),
        ("The result under each set of criteria", "Your result under each set of criteria"),
        FOOTER, HELP],
    "send": [
        ("What is shared: the answers about the person with MS, the result,",
         "What is shared: the answers you gave, the result,"),
        ("on the status page with the reference and access code you will be given. The answers and contact details "
         "are then erased.",
         "on the status page with your reference and access code. Your answers and contact details are then erased."),
        FOOTER],
    "send refused": [("Tick the box to confirm, or go back to the result without sending it.",
                      "Tick the box to agree, or go back to your result without sending it."), FOOTER],
    "sent": [FOOTER],
    "status": [("I want to withdraw this submission and erase the answers and contact details.",
                "I want to withdraw my submission and erase my answers and contact details."), FOOTER, HELP],
    "withdraw refused": [("I want to withdraw this submission and erase the answers and contact details.",
                          "I want to withdraw my submission and erase my answers and contact details."), FOOTER],
    "withdrawn": [FOOTER],
}


def read(response):
    """The page as it reads: title, help, main part and footer, tags and scripts left out, spaces squeezed."""
    assert response.status_code == 200, response.status_code
    page = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def walk(respondent):
    """Every page of the flow as this respondent sees it, by name: the check, saving, resuming, the result, sending
    (refused first), the status page, withdrawing (refused first)."""
    client = RecordingClient()
    answer_steps(client, answers(respondent=respondent, **ESTIMATED))
    pages = {"step": client.get(step_url("diagnosis")), "first step again": client.get(step_url("about-you")),
             "review": client.get(REVIEW), "start again": client.post(reverse("start"))}
    pages["saved"] = client.post(reverse("answers_save"), follow=True)
    pages["resumed"] = client.post(reverse("resume"), {"resume_code": read_resume_code(pages["saved"])}, follow=True)
    client.post(reverse("result_create"))
    pages["result"] = client.get(RESULT)
    pages["send"] = client.get(reverse("submit"))
    pages["send refused"] = client.post(reverse("submit"), {"contact_name": ""}, follow=True)
    client.post(reverse("submit"), {"consent": "on"})
    pages["sent"] = client.get(reverse("submitted"))
    look_up(client, *read_codes(pages["sent"]))
    pages["status"] = client.get(reverse("status_detail"))
    pages["withdraw refused"] = client.post(reverse("withdraw"), {}, follow=True)
    pages["withdrawn"] = client.post(reverse("withdraw"), {"confirm": "on"}, follow=True)
    return {name: read(response) for name, response in pages.items()}


@pytest.mark.parametrize("respondent", ["carer", "self"])
def test_each_page_speaks_to_a_carer_about_the_person_they_help_and_to_a_patient_as_before(shipped_criteria,
                                                                                           respondent):
    """"Your answers", "my answers", "your neurologist" to someone helping read as theirs: the footer on every page,
    the send page's consent, the withdraw box, the result's captions. The patient's own words stay as they were."""
    pages = walk(respondent)
    assert pages.keys() == PAGES.keys()
    for name, wording in PAGES.items():
        for carer_says, patient_says in wording:
            said, not_said = (carer_says, patient_says) if respondent == "carer" else (patient_says, carer_says)
            assert said in pages[name], (name, said)
            assert not_said not in pages[name], (name, not_said)
    if respondent == "carer":  # nowhere, but in the result's verdict and notes (which it says mean the person)
        for name, text in pages.items():
            for own in ("your answers", "my answers", "your result", "my submission", "your neurologist"):
                assert name == "result" or own not in text.lower(), (name, own)


@pytest.mark.parametrize("changes, carer_says, patient_says", [
    ({"comorbidities": ["heart"]}, "To look at with their neurologist:", "To look at with your neurologist:"),
    ({"ms_type": "spms", "comorbidities": ["heart"]}, "Also to look at with their neurologist:",
     "Also to look at with your neurologist:"),
    ({"relapses_12m": None, "relapses_36m": None},
     "Their clinic letters list their relapses, and their last MRI report says whether it showed new, enlarging or "
     "enhancing lesions",
     "Your clinic letters list your relapses, and your last MRI report says whether it showed new, enlarging or "
     "enhancing lesions"),
    ({"edss": None, "walking_aid": "none", "walking_distance": "unsure"},
     "Their disability score (EDSS) was estimated from what you told us about their walking. Only a neurologist's "
     "examination gives their real score, and it may be different: ask for it.",
     "Your disability score (EDSS) was estimated from what you told us about walking. Only a neurologist's "
     "examination gives your real score, and it may be different: ask for it."),
])
@pytest.mark.parametrize("respondent", ["carer", "self"])
def test_what_is_said_beside_the_verdict_to_a_carer_is_about_the_person_with_ms(
        shipped_criteria, respondent, changes, carer_says, patient_says):
    """Beside a possible or unlikely verdict, where to find out what is not known, and under a verdict resting on a
    walking estimate, a carer read "your neurologist", "your clinic letters" and "your real score", their own."""
    client = RecordingClient()
    see_result(client, answers(respondent=respondent, **changes))
    said, not_said = (carer_says, patient_says) if respondent == "carer" else (patient_says, carer_says)
    page = read(client.get(RESULT))
    assert said in page and not_said not in page


def test_the_footer_and_help_kept_for_one_reader_are_not_shown_to_the_other(shipped_criteria):
    """The footer and the help are rendered once per process and kept: one kept for a carer is not a patient's."""
    carer, patient = RecordingClient(), RecordingClient()
    for client, respondent in ((carer, "carer"), (patient, "self")):
        answer_steps(client, answers(respondent=respondent), until="edss")
    for client, said in ((carer, 0), (patient, 1), (carer, 0)):
        page = read(client.get(step_url("diagnosis")))
        assert FOOTER[said] in page and HELP[said] in page
        assert FOOTER[1 - said] not in page and HELP[1 - said] not in page
