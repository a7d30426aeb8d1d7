"""Answers → facts: the derivations of PRODUCT.md §3.

Pure Python, no Django imports, no clock: ``today`` is passed in. A fact is either known or unknown (``None``).
Numeric facts are closed intervals ``(lo, hi)``; an exact value is ``(x, x)``. Criteria are written over facts,
never over raw answers, so this module is the only place that reads answers clinically.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

NUMBER = "number"
CHOICE = "choice"
BOOL = "bool"

HIGH_EFFICACY_DMTS = frozenset({"natalizumab", "anti_cd20", "alemtuzumab", "cladribine"})
SERIOUS_COMORBIDITIES = frozenset({"heart", "lung", "kidney", "liver", "cancer", "chronic_infection"})


@dataclass(frozen=True)
class FactSpec:
    """What one fact is: its type and, for a choice fact, the values it can take."""

    name: str
    type: str
    choices: tuple = ()
    bounds: tuple = ()  # a number fact's lowest and highest value (what the answers allow)


FACTS = {
    spec.name: spec
    for spec in (
        FactSpec("age", NUMBER, bounds=(16, 99)),
        FactSpec("respondent", CHOICE, ("self", "carer")),
        FactSpec("diagnosis_confirmed", CHOICE, ("yes", "no")),
        FactSpec("ms_type", CHOICE, ("rrms", "spms", "ppms", "cis")),
        FactSpec("pregnancy", CHOICE, ("no", "pregnant_or_breastfeeding", "planning")),
        FactSpec("region", CHOICE, ("us_canada", "mexico", "russia", "india", "europe", "other")),
        FactSpec("prior_hsct", BOOL),
        FactSpec("years_since_diagnosis", NUMBER, bounds=(0, 100)),
        FactSpec("edss", NUMBER, bounds=(0, 9.5)),
        FactSpec("edss_source", CHOICE, ("reported", "walking_estimate")),
        FactSpec("relapses_12m", NUMBER, bounds=(0, 20)),
        FactSpec("relapses_36m", NUMBER, bounds=(0, 50)),
        FactSpec("mri_activity_12m", BOOL),
        FactSpec("highly_active", BOOL),
        FactSpec("inflammatory_activity", BOOL),
        FactSpec("dmt_response", CHOICE, ("none_tried", "breakthrough_high_efficacy", "breakthrough", "stable")),
        FactSpec("high_efficacy_dmt_tried", BOOL),
        # Beyond the §3 table: whether any MS medicine was taken, known from the list alone. "dmt_response not_in
        # [none_tried]" said "not known" for someone who ticked a medicine and was unsure how it worked.
        FactSpec("dmt_tried", BOOL),
        FactSpec("serious_comorbidity", BOOL),
        FactSpec("mental_health_concern", BOOL),
    )
}

# EDSS estimated from usual walking (PRODUCT.md §3; Kurtzke 1983 and the Neurostatus conventions, clinical.md §3).
# Rows: walking aid; columns: distance managed without resting, with the usual aid.
WHEELCHAIR_EDSS = (7.0, 9.5)
WALKING_EDSS = {
    "none": {
        "500_plus": (0.0, 4.0), "300_499": (4.5, 4.5), "200_299": (5.0, 5.0), "100_199": (5.5, 5.5),
        "50_99": (6.0, 6.5), "20_49": (6.0, 6.5), "5_19": (6.0, 6.5), "under_5": (7.0, 9.5), "unsure": (0.0, 6.5),
    },
    "one_sided": {
        "500_plus": (6.0, 6.0), "300_499": (6.0, 6.0), "200_299": (6.0, 6.0), "100_199": (6.0, 6.0),
        "50_99": (6.0, 6.0), "20_49": (6.5, 6.5), "5_19": (6.5, 6.5), "under_5": (7.0, 9.5), "unsure": (6.0, 6.5),
    },
    "two_sided": {
        "500_plus": (6.0, 6.0), "300_499": (6.0, 6.0), "200_299": (6.0, 6.0), "100_199": (6.0, 6.5),
        "50_99": (6.5, 6.5), "20_49": (6.5, 6.5), "5_19": (6.5, 6.5), "under_5": (7.0, 9.5), "unsure": (6.0, 6.5),
    },
}

DAYS_PER_YEAR = 365.25


def exact(x):
    """The interval of a known number, or unknown."""
    return None if x is None else (float(x), float(x))


def unsure_to_unknown(value):
    return None if value == "unsure" else value


def years_between(start: date, end: date) -> float:
    """Whole-day distance in years (days / 365.25), never negative, to three decimals."""
    return round(max((end - start).days, 0) / DAYS_PER_YEAR, 3)


def years_since_diagnosis(year, month, today: date):
    """The interval of years since diagnosis: from the last to the first possible day of the month (or year)."""
    if year is None:
        return None
    if month:
        first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    else:
        first, last = date(year, 1, 1), date(year, 12, 31)
    return (years_between(last, today), years_between(first, today))


def edss_from_walking(aid, distance):
    """The EDSS interval that usual walking implies, or unknown when the walking answers are missing."""
    if aid == "wheelchair":
        return WHEELCHAIR_EDSS
    return WALKING_EDSS.get(aid, {}).get(distance)


def edss_with_source(answers):
    if answers.get("edss") is not None:
        return exact(answers["edss"]), "reported"
    estimate = edss_from_walking(answers.get("walking_aid"), answers.get("walking_distance"))
    return estimate, ("walking_estimate" if estimate else None)


def mri_activity(answer):
    return {"yes": True, "no": False}.get(answer)  # "unsure" and "no_mri": unknown


def highly_active(relapses_12m, mri_activity):
    if relapses_12m is None:
        return None
    if relapses_12m >= 2:
        return True
    if relapses_12m == 0:
        return False
    return mri_activity  # one relapse: MRI activity decides, unknown stays unknown


def inflammatory_activity(relapses_12m, mri_activity):
    if (relapses_12m is not None and relapses_12m >= 1) or mri_activity is True:
        return True
    if relapses_12m == 0 and mri_activity is False:
        return False
    return None


def dmt_response(answers):
    if not answers.get("dmts"):
        return "none_tried"
    if HIGH_EFFICACY_DMTS & set(answers["dmts"]) and answers.get("activity_on_high_efficacy_dmt") == "yes":
        return "breakthrough_high_efficacy"
    if answers.get("activity_on_dmt") == "yes":
        return "breakthrough"
    if answers.get("activity_on_dmt") == "no":
        return "stable"
    return None


def derive_facts(answers: dict, today: date) -> dict:
    """Every fact of PRODUCT.md §3 from validated answers. Unknown facts are ``None``."""
    mri = mri_activity(answers.get("mri_activity_12m"))
    relapses_12m = answers.get("relapses_12m")
    edss, edss_source = edss_with_source(answers)
    comorbidities = set(answers.get("comorbidities") or ())
    return {
        "age": exact(answers.get("age")),
        "respondent": answers.get("respondent") or "self",
        "diagnosis_confirmed": unsure_to_unknown(answers.get("diagnosis_confirmed")),
        "ms_type": unsure_to_unknown(answers.get("ms_type")),
        "pregnancy": unsure_to_unknown(answers.get("pregnancy")),
        "region": unsure_to_unknown(answers.get("region")),
        "prior_hsct": answers.get("prior_hsct"),
        "years_since_diagnosis": years_since_diagnosis(
            answers.get("diagnosis_year"), answers.get("diagnosis_month"), today
        ),
        "edss": edss,
        "edss_source": edss_source,
        "relapses_12m": exact(relapses_12m),
        "relapses_36m": exact(answers.get("relapses_36m")),
        "mri_activity_12m": mri,
        "highly_active": highly_active(relapses_12m, mri),
        "inflammatory_activity": inflammatory_activity(relapses_12m, mri),
        "dmt_response": dmt_response(answers),
        "high_efficacy_dmt_tried": bool(HIGH_EFFICACY_DMTS & set(answers.get("dmts") or ())),
        "dmt_tried": bool(answers.get("dmts")),
        "serious_comorbidity": bool(SERIOUS_COMORBIDITIES & comorbidities),
        "mental_health_concern": "mental_health" in comorbidities,
    }
