"""How answers, facts and thresholds read to a person: words only, no decisions (those live in rules.py)."""

import math
from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import rules
from .facts import CHOICE, FACTS, NUMBER, SERIOUS_COMORBIDITIES
from .forms import ANSWER_FIELDS, DONT_KNOW, carer_consent, question_for
from .models import Decision, Status, filled_in_by_carer
from .services import ReviewConflict

VERDICT_TEXT = {
    rules.LIKELY: {
        "title": gettext_lazy("Your answers match the usual profile for HSCT under these criteria"),
        "summary": gettext_lazy("This is worth discussing with your neurologist. It does not mean HSCT is right "
                                "for you: a neurologist and a transplant team decide that together with you."),
    },
    rules.POSSIBLE: {
        "title": gettext_lazy("Some answers need a closer look or more information"),
        "summary": gettext_lazy("Some of your answers do not match the usual profile, or we could not tell from "
                                "your answers. Discuss the criteria marked below with your neurologist."),
    },
    rules.UNLIKELY: {
        "title": gettext_lazy("HSCT is not usually offered for this profile under these criteria"),
        "summary": gettext_lazy("Under these criteria, the answers marked below usually mean HSCT is not offered. "
                                "Other guidelines and trials can differ. Ask your neurologist about other "
                                "options, such as reviewing your MS medicine or clinical trials."),
    },
}
# A trial's entry rules say who the trial took, not who HSCT suits: "the usual profile for HSCT" would misread them.
TRIAL_VERDICT_TEXT = {
    rules.LIKELY: {
        "title": gettext_lazy("Your answers fit this trial's entry rules"),
        "summary": gettext_lazy("This only shows how your answers compare with the people the trial took. Whether "
                                "a trial is open, and could take you, is for the trial team and your neurologist."),
    },
    rules.POSSIBLE: {
        "title": gettext_lazy("Some answers need a closer look against this trial's entry rules"),
        "summary": gettext_lazy("Some of your answers do not fit the trial's entry rules, or we could not tell from "
                                "your answers. Discuss the criteria marked below with your neurologist."),
    },
    rules.UNLIKELY: {
        "title": gettext_lazy("Your answers fall outside this trial's entry rules"),
        "summary": gettext_lazy("The answers marked below are outside what the trial accepted. This says nothing "
                                "about HSCT outside the trial: other criteria can differ. Ask your neurologist."),
    },
}
# ... read by someone helping, who gave the answers: "your answers", "your neurologist" would be the carer's own
CARER_VERDICT_TEXT = {
    rules.LIKELY: {
        "title": gettext_lazy("The answers match the usual profile for HSCT under these criteria"),
        "summary": gettext_lazy("This is worth discussing with their neurologist. It does not mean HSCT is right "
                                "for them: a neurologist and a transplant team decide that together with them."),
    },
    rules.POSSIBLE: {
        "title": VERDICT_TEXT[rules.POSSIBLE]["title"],
        "summary": gettext_lazy("Some of the answers do not match the usual profile, or we could not tell from "
                                "the answers. Discuss the criteria marked below with their neurologist."),
    },
    rules.UNLIKELY: {
        "title": VERDICT_TEXT[rules.UNLIKELY]["title"],
        "summary": gettext_lazy("Under these criteria, the answers marked below usually mean HSCT is not offered. "
                                "Other guidelines and trials can differ. Ask their neurologist about other "
                                "options, such as reviewing their MS medicine or clinical trials."),
    },
}
CARER_TRIAL_VERDICT_TEXT = {
    rules.LIKELY: {
        "title": gettext_lazy("The answers fit this trial's entry rules"),
        "summary": gettext_lazy("This only shows how the answers compare with the people the trial took. Whether "
                                "a trial is open, and could take the person with MS, is for the trial team and "
                                "their neurologist."),
    },
    rules.POSSIBLE: {
        "title": TRIAL_VERDICT_TEXT[rules.POSSIBLE]["title"],
        "summary": gettext_lazy("Some of the answers do not fit the trial's entry rules, or we could not tell from "
                                "the answers. Discuss the criteria marked below with their neurologist."),
    },
    rules.UNLIKELY: {
        "title": gettext_lazy("The answers fall outside this trial's entry rules"),
        "summary": gettext_lazy("The answers marked below are outside what the trial accepted. This says nothing "
                                "about HSCT outside the trial: other criteria can differ. Ask their neurologist."),
    },
}
VERDICT_WORDS = {  # (a trial's entry rules, read by a carer): the words of each verdict
    (False, False): VERDICT_TEXT, (True, False): TRIAL_VERDICT_TEXT,
    (False, True): CARER_VERDICT_TEXT, (True, True): CARER_TRIAL_VERDICT_TEXT,
}
OUTCOME_TEXT = {
    rules.FAVOURABLE: ("✓", gettext_lazy("Matches")),
    rules.UNFAVOURABLE: ("✗", gettext_lazy("Does not match")),
    rules.UNKNOWN: ("?", gettext_lazy("Not known from the answers given")),
}
# Beside a criterion not known from the answers: where the person can find out, to answer again or to ask.


def year_only(text):
    """The year alone puts the time since diagnosis either side of a limit: the month decides (given, and it is still
    open, the limit falls within that month: nothing to add)."""
    return lambda answers: None if answers.get("diagnosis_month") else text


RELAPSES_FIND_OUT = gettext_lazy("Your clinic letters, or a relapse diary, list your relapses; your MS team keeps a "
                                 "record.")
ACTIVITY_FIND_OUT = gettext_lazy("Your clinic letters list your relapses, and your last MRI report says whether it "
                                 "showed new, enlarging or enhancing lesions: your MS team can tell you both.")
FIND_OUT = {  # a text, or what it is given the answers
    "diagnosis_confirmed": gettext_lazy("Your neurologist's letters say whether the diagnosis of MS is confirmed."),
    "ms_type": gettext_lazy("Your type of MS is usually written in your neurologist's letters; your MS nurse can "
                            "tell you."),
    "edss": gettext_lazy("Ask your neurologist or MS nurse for your EDSS score: it is often in clinic letters."),
    "relapses_12m": RELAPSES_FIND_OUT,
    "relapses_36m": RELAPSES_FIND_OUT,
    "mri_activity_12m": gettext_lazy("Your last MRI report says whether it showed new, enlarging or enhancing "
                                     "lesions; your MS team can tell you."),
    "highly_active": ACTIVITY_FIND_OUT,
    "inflammatory_activity": ACTIVITY_FIND_OUT,
    "dmt_response": gettext_lazy("Your neurologist can say whether you had a relapse or new MRI activity after 6 "
                                 "months on an MS medicine."),
    "years_since_diagnosis": year_only(gettext_lazy(
        "Without the month, the time since your diagnosis could be either side of this limit. The month you were "
        "diagnosed (in your first neurologist's letter) decides it: change your answer to add it.")),
}
# ... to someone helping, where to find out about the person they help: "your clinic letters" would be the carer's
CARER_RELAPSES_FIND_OUT = gettext_lazy("Their clinic letters, or a relapse diary, list their relapses; their MS team "
                                       "keeps a record.")
CARER_ACTIVITY_FIND_OUT = gettext_lazy("Their clinic letters list their relapses, and their last MRI report says "
                                       "whether it showed new, enlarging or enhancing lesions: their MS team can tell "
                                       "them both.")
CARER_FIND_OUT = {
    "diagnosis_confirmed": gettext_lazy("Their neurologist's letters say whether the diagnosis of MS is confirmed."),
    "ms_type": gettext_lazy("Their type of MS is usually written in their neurologist's letters; their MS nurse can "
                            "tell them."),
    "edss": gettext_lazy("Ask their neurologist or MS nurse for their EDSS score: it is often in clinic letters."),
    "relapses_12m": CARER_RELAPSES_FIND_OUT,
    "relapses_36m": CARER_RELAPSES_FIND_OUT,
    "mri_activity_12m": gettext_lazy("Their last MRI report says whether it showed new, enlarging or enhancing "
                                     "lesions; their MS team can tell them."),
    "highly_active": CARER_ACTIVITY_FIND_OUT,
    "inflammatory_activity": CARER_ACTIVITY_FIND_OUT,
    "dmt_response": gettext_lazy("Their neurologist can say whether they had a relapse or new MRI activity after 6 "
                                 "months on an MS medicine."),
    "years_since_diagnosis": year_only(gettext_lazy(
        "Without the month, the time since their diagnosis could be either side of this limit. The month they were "
        "diagnosed (in their first neurologist's letter) decides it: change the answer to add it.")),
}
CHOICE_LABELS = {
    "ms_type": {"rrms": gettext_lazy("relapsing-remitting MS"), "spms": gettext_lazy("secondary progressive MS"),
                "ppms": gettext_lazy("primary progressive MS"), "cis": gettext_lazy("clinically isolated syndrome")},
    "dmt_response": {"none_tried": gettext_lazy("no MS medicine tried"),
                     "breakthrough": gettext_lazy("still active on an MS medicine"),
                     "breakthrough_high_efficacy": gettext_lazy("still active on a high-efficacy MS medicine"),
                     "stable": gettext_lazy("quiet after 6 months on an MS medicine")},
    "edss_source": {"reported": gettext_lazy("score given in the check"),
                    "walking_estimate": gettext_lazy("estimated from walking")},
    "respondent": {"self": gettext_lazy("the person with MS"), "carer": gettext_lazy("someone helping them")},
    "pregnancy": {"no": gettext_lazy("no"), "pregnant_or_breastfeeding": gettext_lazy("pregnant or breastfeeding"),
                  "planning": gettext_lazy("planning a pregnancy")},
    "diagnosis_confirmed": {"yes": gettext_lazy("confirmed"), "no": gettext_lazy("not confirmed")},
}
# A yes/no fact in words of its own (true, false): "yes" beside "Not had HSCT before" would read as the opposite.
BOOL_TEXT = {
    "prior_hsct": (gettext_lazy("had HSCT before"), gettext_lazy("no HSCT before")),
    "mri_activity_12m": (gettext_lazy("MRI activity in the last 12 months"),
                         gettext_lazy("no MRI activity in the last 12 months")),
    "highly_active": (gettext_lazy("highly active (from the relapses and MRI activity)"),
                      gettext_lazy("not highly active (from the relapses and MRI activity)")),
    "inflammatory_activity": (gettext_lazy("relapses or MRI activity in the last 12 months"),
                              gettext_lazy("no relapses and no MRI activity in the last 12 months")),
    "high_efficacy_dmt_tried": (gettext_lazy("a high-efficacy MS medicine tried"),
                                # "Another MS medicine" may have been one, its name forgotten
                                gettext_lazy("no high-efficacy MS medicine ticked")),
    "dmt_tried": (gettext_lazy("at least one MS medicine taken"), gettext_lazy("no MS medicine taken")),
    "serious_comorbidity": (
        gettext_lazy("a heart, lung, kidney or liver condition, cancer or a long-term infection"),
        gettext_lazy("no heart, lung, kidney or liver condition, cancer or long-term infection")),
    "mental_health_concern": (gettext_lazy("a mental health condition"), gettext_lazy("no mental health condition")),
}
# A fact that is an answer as given (the region, say) reads as the question's own choice did.
ANSWER_CHOICES = {name: dict(field.choices) for name, field in ANSWER_FIELDS.items() if hasattr(field, "choices")}
UNITS = {"age": gettext_lazy("years"), "years_since_diagnosis": gettext_lazy("years")}
NUMBER_CONDITIONS = {"lt": gettext_lazy("below %s"), "lte": gettext_lazy("%s or below"),
                     "gt": gettext_lazy("above %s"), "gte": gettext_lazy("%s or above"),
                     "eq": gettext_lazy("exactly %s"), "ne": gettext_lazy("not %s")}
NEGATED = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt", "eq": "ne", "ne": "eq", "in": "not_in",
           "not_in": "in", "between": "outside"}


ONE_DECIMAL = {"edss", "years_since_diagnosis"}  # the rest (ages, relapse counts) are whole numbers


def number_text(fact, x):
    """An EDSS reads as neurologists write it ("6.0"), a duration to a tenth of a year ("5.7", "12"), a count or an
    age as a whole number ("2", "45")."""
    return f"{x:.1f}" if fact in ONE_DECIMAL and (x < 10 or not float(x).is_integer()) else f"{x:g}"


def value_text(fact, value):
    spec = FACTS[fact]
    if isinstance(value, bool):
        true, false = BOOL_TEXT.get(fact, (_("yes"), _("no")))
        return str(true if value else false)
    if spec.type == CHOICE:
        label = CHOICE_LABELS.get(fact, {}).get(value) or ANSWER_CHOICES.get(fact, {}).get(value)
        return str(label or value.replace("_", " "))
    return number_text(fact, value)


def fact_text(fact, value, facts=None):
    """A fact as a person reads it, e.g. "6.0 to 6.5 (estimated from walking)", "about 5.6 to 5.7 years"."""
    if value is None:
        return _("not known")
    if FACTS[fact].type != NUMBER:
        return value_text(fact, value)
    lo, hi = (number_text(fact, end) for end in value)
    if fact == "years_since_diagnosis" and value[1] < 1:
        return _("less than a year")
    if fact == "years_since_diagnosis" and value[1] - value[0] >= 0.5:  # the year given without its month
        return whole_years_text(*value)
    # the month given, its ends a tenth apart: "about 11.5 years", not "11.4 to 11.5" (read as if unsure of the year)
    if fact == "years_since_diagnosis" and lo != hi and value[1] - value[0] < 0.1:
        lo = hi = number_text(fact, (value[0] + value[1]) / 2)
    lowest, highest = FACTS[fact].bounds
    if fact == "edss" and value[0] != value[1] and (value[0] <= lowest or value[1] >= highest):
        text = _("%s or less") % hi if value[0] <= lowest else _("%s or more") % lo  # "7.0 or more", not "to 9.5"
    elif lo != hi:
        text = _("%(lo)s to %(hi)s") % {"lo": lo, "hi": hi}
    else:  # "about 5.7", never "5.7 to 5.7"; exact when the ends are the same
        text = lo if value[0] == value[1] else _("about %s") % lo
    if fact in UNITS:
        text = f"{text} {UNITS[fact]}"
    if fact == "edss" and facts and facts.get("edss_source"):
        text = f"{text} ({value_text('edss_source', facts['edss_source'])})"
    return text


def whole_years_text(low, high):
    """Full years gone by, as a person counts them, never tenths the answer has not got: diagnosed in 2005, on
    7 December 2026 it is 20.9 to 21.9 years, "20 or 21 years"; beside "below 10 years", 9.9 to 10.9 reads "9 or 10
    years" (why it is not known), where rounding ("10 or 11") would read as not below 10."""
    low, high = math.floor(low), math.floor(high)
    if low == high:
        return ngettext("about %(n)d year", "about %(n)d years", high) % {"n": high}  # a day either side: 365.25
    if low == 0:
        return ngettext("less than %(n)d year", "less than %(n)d years", high + 1) % {"n": high + 1}
    if high == low + 1:
        return ngettext("%(lo)d or %(n)d year", "%(lo)d or %(n)d years", high) % {"lo": low, "n": high}
    return ngettext("%(lo)d to %(n)d year", "%(lo)d to %(n)d years", high) % {"lo": low, "n": high}


def condition_text(fact, operator, value):
    """``fact operator value`` in words, e.g. "below 6.0", "one of: relapsing-remitting MS"."""
    unit = f" {UNITS[fact]}" if fact in UNITS else ""
    if operator == "between" or operator == "outside":
        words = _("%(a)s to %(b)s") if operator == "between" else _("below %(a)s or above %(b)s")
        return words % {"a": number_text(fact, value[0]), "b": number_text(fact, value[1])} + unit
    if FACTS[fact].type == NUMBER:
        return str(NUMBER_CONDITIONS[operator]) % number_text(fact, value) + unit
    values = value if isinstance(value, list) else [value]
    if FACTS[fact].type != CHOICE and len(values) == 1:  # a yes/no fact: "ne true" reads "no"
        positive = values[0] if operator in ("eq", "in") else not values[0]
        return value_text(fact, positive)
    listed = _(" or ").join(value_text(fact, v) for v in values)
    return listed if operator in ("eq", "in") else _("not %s") % listed


def favourable_text(rule):
    """What a criterion looks for, phrased as the favourable answer (an exclusion reads as its negation)."""
    value = tuple(rule["value"]) if isinstance(rule["value"], list) else rule["value"]
    return _favourable_text(get_language(), rule["fact"], rule["operator"], rule["kind"], value)


@lru_cache(maxsize=4096, typed=True)  # a criterion reads the same in a language every time: put into words once
def _favourable_text(language, fact, operator, kind, value):
    operator = operator if kind == rules.INCLUSION else NEGATED[operator]
    return condition_text(fact, operator, list(value) if isinstance(value, tuple) else value)


def answer_rows(questionnaire):
    """Per step that applies: ``(step, its title as asked, [(name, question, answer as read, message or ""), ...])``
    for the review page, where the message says why a typed answer needs correcting (say, after an earlier answer
    changed)."""
    sections = []
    for step in questionnaire.applicable:
        form = questionnaire.forms[step.slug]
        errors = questionnaire.typed_errors(step.slug)
        sections.append((step, step.title_for(questionnaire.answers), [
            (name, field.label, display_answer(field, form.data.get(name)), " ".join(errors.get(name, [])))
            for name, field in form.fields.items()]))
    return sections


def display_answer(field, raw):
    if raw is None:
        return _("Not answered yet")
    choices = dict((str(k), v) for k, v in getattr(field, "choices", ()))
    if isinstance(raw, list):
        return ", ".join(str(choices.get(v, v)) for v in raw) or _("Nothing ticked")
    if raw == DONT_KNOW and getattr(field, "taken_as", None):  # an optional question skipped: what it counts as
        return _("Not answered, so taken as: %(answer)s") % {"answer": choices[field.taken_as]}
    if raw == DONT_KNOW:  # the question's own "don't know", a box left empty for "not sure", or a choice not made
        return str(choices.get(DONT_KNOW) or (_("No answer given") if choices else _("Not sure")))
    return str(choices.get(raw, raw))


STATUS_FOR_PATIENT = {  # where their submission is, in their words (the staff's labels are the Status choices)
    Status.SUBMITTED: gettext_lazy("Sent: waiting for a neurologist to read it"),
    # opened once is enough, and it stays so until a decision or until it is put back: not "is reading it" (now)
    Status.IN_REVIEW: gettext_lazy("A neurologist has started looking at it"),
    Status.REVIEWED: gettext_lazy("Read: the neurologist's message is below"),
}


def status_for_patient(screening):
    """Where the submission is, as its status page says it; back in the queue after a reply, it is not "sent" again."""
    if screening.replied:
        return _("Your reply was sent: waiting for the neurologist to read it")
    return STATUS_FOR_PATIENT[screening.status]


# A decision as the patient reads it: what the neurologist suggests, not the staff's own shorthand for it.
DECISION_FOR_PATIENT = {
    Decision.REFER: gettext_lazy("The neurologist suggests a referral for an HSCT assessment"),
    Decision.MORE_INFO: gettext_lazy("The neurologist needs more information from you"),
    Decision.NOT_SUITABLE: gettext_lazy("The neurologist does not suggest HSCT for you at the moment"),
}
# ... read by someone helping, who sent it: "for you" would be the carer (asking them for information is right)
DECISION_FOR_CARER = {
    **DECISION_FOR_PATIENT,
    Decision.NOT_SUITABLE: gettext_lazy("The neurologist does not suggest HSCT for the person with MS at the moment"),
}


def decision_for_patient(decision, *, carer=False):
    """The neurologist's decision as the status page says it, to the person with MS or to the carer who sent it."""
    return (DECISION_FOR_CARER if carer else DECISION_FOR_PATIENT)[decision]

# Beside "Filled in by a carer" on a screening's page: what that means for the reviewer, as the form that sent it
# asked (SubmitForm): with the carer's consent wording, the name asked for is the patient's and the contact details
# may be either's; before it, the carer agreed for themselves and gave their own name.
CARER_SENT = {
    True: gettext_lazy("the answers describe the patient. The carer sent them, confirming that the patient agrees, "
                       "and was given the codes, so your message may be read, and any reply written, by the carer "
                       "rather than the patient. The name asked for was the patient's; the contact details may be "
                       "the carer's."),
    False: gettext_lazy("the answers describe the patient. The carer sent them and was given the codes, so your "
                        "message may be read, and any reply written, by the carer rather than the patient. The name "
                        "and contact details may be the carer's."),
}


def carer_sent(screening):
    """For a screening filled in by a carer, what that means for whom the neurologist reads and writes to; else ""."""
    return str(CARER_SENT[carer_consent(screening.consent_version)]) if screening.by_carer else ""


# Above the decision form shown again, with what was typed in it, when a decision saved meanwhile kept it from being
# saved (a withdrawal shows no form, and a double click reads as saved).
DECISION_CONFLICT_TEXT = {
    ReviewConflict.REPLIED: gettext_lazy("The patient replied to the request for more information while this page was "
                                         "open. Nothing from this page was saved: read their reply above. What you "
                                         "typed here is kept, to save if you still want to."),
    ReviewConflict.OWN_TAB: gettext_lazy("You saved a decision on this screening in another tab or window while this "
                                         "page was open. Nothing from this page was saved: read that decision in the "
                                         "history above. What you typed here is kept, to save instead if you want "
                                         "to."),
    ReviewConflict.COLLEAGUE: gettext_lazy("Another neurologist saved a decision on this screening while you were "
                                           "working on it. Nothing of yours was saved: read their decision in the "
                                           "history above; your text is still here to save again if you still want "
                                           "to."),
}
# The same refusal for a submission a carer filled in: its reply came from the status page, from the carer or the
# patient (as the page above the form says), not necessarily from the patient.
CARER_REPLIED_CONFLICT_TEXT = gettext_lazy("A reply came from the status page while this page was open. Nothing from "
                                           "this page was saved: read the reply above. What you typed here is kept, "
                                           "to save if you still want to.")


def decision_conflict_text(reason, screening):
    """Above the decision form shown again: why it was not saved, as :data:`DECISION_CONFLICT_TEXT` says it."""
    if reason == ReviewConflict.REPLIED and screening.by_carer:
        return CARER_REPLIED_CONFLICT_TEXT
    return DECISION_CONFLICT_TEXT[reason]

NOTE_KINDS = (
    ("general", gettext_lazy("What HSCT involves")),
    ("expectation", gettext_lazy("What to expect")),
    ("risk", gettext_lazy("Risks")),
    ("question", gettext_lazy("Questions to ask")),
    ("availability", gettext_lazy("Where HSCT is offered")),
    ("cost", gettext_lazy("Costs")),
)


def conditions_behind(answers):
    """The conditions ticked that make ``serious_comorbidity`` true, as the question listed them."""
    return [choice_label("comorbidities", c, answers) for c in answers.get("comorbidities") or ()
            if c in SERIOUS_COMORBIDITIES]


def fact_answer(fact, facts, answers):
    """A fact as read beside a criterion. One that sums up several answers reads as the answers behind it ("a heart
    condition"), not as the whole list its criterion names."""
    if fact == "serious_comorbidity" and facts.get(fact) and (conditions := conditions_behind(answers)):
        return ", ".join(label[:1].lower() + label[1:] for label in conditions)
    return fact_text(fact, facts.get(fact), facts)


def set_views(snapshot, facts, editions, answers):
    """Each set's stored evaluation with each criterion's row as the result tables show it, with the teaching text
    it was scored with (``editions``: {edition key: texts}). Words are looked up once per page, not once per row.
    Each verdict is said to whoever gave the answers: the person with MS, or someone helping them."""
    carer = filled_in_by_carer(facts)
    find_outs = CARER_FIND_OUT if carer else FIND_OUT
    outcome_texts = {outcome: (icon, str(text)) for outcome, (icon, text) in OUTCOME_TEXT.items()}
    answer_texts = {}
    views = []
    for entry in snapshot:
        texts = editions.get(entry["edition"], {})
        rows, find_out_said = [], set()
        for criterion in entry["criteria"]:
            fact = criterion["fact"]
            if fact not in answer_texts:
                answer_texts[fact] = fact_answer(fact, facts, answers)
            icon, outcome_text = outcome_texts[criterion["outcome"]]
            find_out = find_outs.get(fact) if criterion["outcome"] == rules.UNKNOWN else None
            find_out = find_out(answers) if callable(find_out) else find_out
            rows.append({**criterion, **texts.get(criterion["code"], {}), "icon": icon, "outcome_text": outcome_text,
                         "answer": answer_texts[fact], "looks_for": favourable_text(criterion),
                         "find_out": find_out if find_out not in find_out_said else None})  # said once is enough
            find_out_said.add(find_out)
        words = VERDICT_WORDS[entry.get("kind") == "trial", carer]  # older snapshots: no kind
        deciding = deciding_rows(entry, rows)
        views.append({**entry, "rows": rows, "text": words[entry["verdict"]], "deciding": deciding,
                      "also": also_rows(entry, rows, deciding), "tally": tally_text(rows)})
    return views


def tally_text(rows):
    """How many of a set's criteria were not met, and not known, said beside its verdict: a "closer look" with six
    criteria not met is not the same hope as one with a single answer missing."""
    total = len(rows)
    unmet = sum(row["outcome"] == rules.UNFAVOURABLE for row in rows)
    unknown = sum(row["outcome"] == rules.UNKNOWN for row in rows)
    if unmet and unknown:
        return _("%(unmet)d of %(total)d criteria not met, %(unknown)d not known") % {
            "unmet": unmet, "total": total, "unknown": unknown}
    if unmet or unknown:
        words = _("%(n)d of %(total)d criteria not met") if unmet else _("%(n)d of %(total)d criteria not known")
        return words % {"n": unmet or unknown, "total": total}
    return _("all %(total)d criteria met") % {"total": total}


def deciding_rows(entry, rows):
    """The criteria behind a verdict: for "unlikely" those that rule HSCT out; for "possible" those to look at."""
    if entry["verdict"] == rules.UNLIKELY:
        return [r for r in rows if r["outcome"] == rules.UNFAVOURABLE and r["severity"] == rules.UNLIKELY]
    return [r for r in rows if r["outcome"] != rules.FAVOURABLE]


def also_rows(entry, rows, deciding):
    """Beside an "unlikely" verdict, the other criteria not met or not known (a heart condition, say): they do not
    decide it, and they still matter. One answer is said once in the verdict, where it decides: "stable on my
    medicine" fails both "not kept quiet by a medicine" (deciding) and "a poor response" (not deciding), and read
    twice it looks like two things wrong. The criteria table still shows both."""
    if entry["verdict"] != rules.UNLIKELY:
        return []
    deciding_facts = {row["fact"] for row in deciding}
    return [row for row in rows if row["outcome"] != rules.FAVOURABLE and row["fact"] not in deciding_facts]


def result_context(screening, shown, editions):
    """The result page from a stored screening: its snapshot (never the current criteria) and the notes that match
    it (``services.notes_for``, in order)."""
    sets = set_views(screening.snapshot, screening.facts, editions, screening.answers)
    # A general note or a question shown because of an answer (a diagnosis not confirmed, an age) or only for this
    # verdict (what else to ask when HSCT does not fit) is about this person: near the verdict, not thousands of
    # pixels below it among the notes for everyone. Risks, expectations and costs stay in their own sections.
    about_answers = [n for n in shown if n.kind in ("general", "question") and (n.condition_fact or n.verdicts)]
    groups = [(label, [n for n in shown if n.kind == kind and n not in about_answers]) for kind, label in NOTE_KINDS]
    headline = sets[0]
    estimated = screening.facts.get("edss_source") == "walking_estimate"
    return {"headline": headline, "others": sets[1:], "about_answers": about_answers,
            "note_groups": [(label, ns) for label, ns in groups if ns],
            "has_trials": any(view.get("kind") == "trial" for view in sets[1:]),
            # a score estimated from walking behind the verdict: said there, not only in a note far below
            "estimate_behind_verdict": estimated and any(
                row["fact"] == "edss" for row in headline["deciding"] + headline["also"]),
            # ... and the only thing behind "not usually offered", estimated near the limits (self-report tends to
            # over-state it, clinical.md §3d): a lower real score may well change the verdict
            "estimate_decides": estimated and headline["verdict"] == rules.UNLIKELY and edss_borderline(screening.facts)
            and {row["fact"] for row in headline["deciding"]} == {"edss"},
            "guidelines_differ": guidelines_differ(headline, sets[1:], screening.facts)}


EDSS_BORDERLINE = 6.5  # the highest any source accepts (UK NHS centres, clinical.md §1); above it, no exception


def edss_borderline(facts):
    """Whether the disability score may be at or under the highest limit any source accepts."""
    return (facts.get("edss") or [math.inf])[0] <= EDSS_BORDERLINE


STRICTNESS = {rules.LIKELY: 0, rules.POSSIBLE: 1, rules.UNLIKELY: 2}


def guidelines_differ(headline, others, facts):
    """The guidelines whose verdict differs enough to say so beside the headline.

    Beside "match" or "closer look": those that are stricter (a diagnosis not confirmed, say, which the headline's
    profile does not ask about): a good headline is not to stand alone when guidelines say otherwise.
    Beside "not usually offered": those that look at the same answers (a criterion on each fact behind the verdict)
    and judge them less strictly. One that does not look at them at all (no disability limit, say) does not count
    as differing, nor does any beside a disability score above every source's limit: a guideline's "closer look"
    there is no real hope."""
    guidelines = [view for view in others if view.get("kind") == "guideline"]
    if headline["verdict"] != rules.UNLIKELY:
        return [view for view in guidelines if STRICTNESS[view["verdict"]] > STRICTNESS[headline["verdict"]]]
    behind = {row["fact"] for row in headline["deciding"]}
    if "edss" in behind and not edss_borderline(facts):
        return []
    return [view for view in guidelines if view["verdict"] != rules.UNLIKELY
            and behind <= {row["fact"] for row in view["rows"]}]


# Red flags for the reviewer: conditions over facts, evaluated like criteria; they prompt a closer look, never decide.
def answer_to(key):
    return lambda answers: display_answer(question_for(key, answers.get("respondent")), answers.get(key))


RED_FLAGS = (  # each with the answer behind it, if any: what was said ("A heart condition"), not only the flag
    (rules.Condition("serious_comorbidity", "eq", True), gettext_lazy("Health condition reported"),
     lambda answers: ", ".join(conditions_behind(answers))),
    (rules.Condition("mental_health_concern", "eq", True), gettext_lazy("Mental health condition reported"), None),
    (rules.Condition("pregnancy", "ne", "no"), gettext_lazy("Pregnant, breastfeeding or planning a pregnancy"),
     answer_to("pregnancy")),
    (rules.Condition("prior_hsct", "eq", True), gettext_lazy("Has had a stem cell transplant before"), None),
    (rules.Condition("diagnosis_confirmed", "ne", "yes"), gettext_lazy("Diagnosis not confirmed by a neurologist"),
     answer_to("diagnosis_confirmed")),
    (rules.Condition("edss_source", "ne", "reported"), gettext_lazy("EDSS estimated from walking, not recorded"), None),
)


def red_flags(facts, answers=None):
    """The red flags that hold, or may hold (an unknown fact is flagged too: it needs asking), each with the answer
    behind it when ``answers`` are given (the detail page; the queue lists the flags alone)."""
    if not facts:  # withdrawn: nothing left to flag
        return []
    return [f"{label} — {_('answer:')} {answer(answers)}" if answer and answers is not None else str(label)
            for condition, label, answer in RED_FLAGS if condition.holds(facts) is not False]


def choice_label(name, value, answers):
    """An answer to a choice question as the question put it to whoever gave ``answers`` (a carer: "They walk…")."""
    return str(dict(question_for(name, answers.get("respondent")).choices).get(value, value))


FACT_NAMES = {
    "age": gettext_lazy("Age"), "respondent": gettext_lazy("Filled in by"),
    "diagnosis_confirmed": gettext_lazy("Diagnosis confirmed by a neurologist"), "ms_type": gettext_lazy("Type of MS"),
    "pregnancy": gettext_lazy("Pregnancy"), "region": gettext_lazy("Where they live"),
    "prior_hsct": gettext_lazy("HSCT before"), "years_since_diagnosis": gettext_lazy("Time since diagnosis"),
    "edss": gettext_lazy("EDSS"), "edss_source": gettext_lazy("EDSS from"),
    "relapses_12m": gettext_lazy("Relapses in the last 12 months"),
    "relapses_36m": gettext_lazy("Relapses in the last 36 months"),
    "mri_activity_12m": gettext_lazy("MRI activity in the last 12 months"),
    "highly_active": gettext_lazy("Highly active MS"), "inflammatory_activity": gettext_lazy("Inflammatory activity"),
    "dmt_response": gettext_lazy("Response to MS medicines"),
    "high_efficacy_dmt_tried": gettext_lazy("High-efficacy medicine tried"),
    "dmt_tried": gettext_lazy("MS medicine taken"),
    "serious_comorbidity": gettext_lazy("Heart, lung, kidney or liver condition, cancer or long-term infection"),
    "mental_health_concern": gettext_lazy("Mental health condition"),
}


def fact_derivations(answers, facts):
    """``(fact, its name, value as read, how it was derived)`` for every fact, for the reviewer."""
    def walking():
        aid = choice_label("walking_aid", answers.get("walking_aid"), answers)
        if answers.get("walking_aid") == "wheelchair":
            return _("estimated from walking: %(aid)s") % {"aid": aid}
        distance = choice_label("walking_distance", answers.get("walking_distance"), answers)
        return _("estimated from walking: %(aid)s; %(distance)s") % {"aid": aid, "distance": distance}

    month = answers.get("diagnosis_month")
    how = {
        "edss": walking() if facts.get("edss_source") == "walking_estimate"
        else _("recorded score given by the patient") if facts.get("edss") else _("not given"),
        "edss_source": _("whether an EDSS was given or walking was described"),
        "years_since_diagnosis": (_("diagnosed %(month)s/%(year)s, scored on the day of the check")
                                  % {"month": month, "year": answers.get("diagnosis_year")} if month else
                                  _("diagnosed in %(year)s (month not given): a range")
                                  % {"year": answers.get("diagnosis_year")}),
        "highly_active": _("from relapses in 12 months and MRI activity"),
        "inflammatory_activity": _("from relapses in 12 months and MRI activity"),
        "dmt_response": _("from the medicines taken and activity while on them"),
        "high_efficacy_dmt_tried": _("from the medicines taken"),
        "dmt_tried": _("from the medicines taken"),
        "serious_comorbidity": _("from the health conditions ticked"),
        "mental_health_concern": _("from the health conditions ticked"),
    }
    return [(name, FACT_NAMES.get(name, name), fact_text(name, value, facts), how.get(name, _("as answered")))
            for name, value in facts.items()]
