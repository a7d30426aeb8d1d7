"""Plain factory functions for tests (no factory framework)."""

from screening.models import CriteriaSet, Criterion

LIKELY_ANSWERS = {
    "respondent": "self", "age": 34, "diagnosis_confirmed": "yes", "ms_type": "rrms",
    "diagnosis_year": 2021, "diagnosis_month": 3, "edss": 3.5,
    "relapses_12m": 2, "relapses_36m": 3, "mri_activity_12m": "yes",
    "dmts": ["fumarate", "natalizumab"], "activity_on_dmt": "yes", "activity_on_high_efficacy_dmt": "yes",
    "comorbidities": [], "prior_hsct": False, "pregnancy": "no", "region": "europe",
}


def browser_value(value):
    """One answer as a browser posts it: "don't know" options post an empty string, booleans "true"/"false"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def answers(**changes):
    """A complete, valid answers object (a 'likely' profile under the Article set), with ``changes`` applied."""
    return {**LIKELY_ANSWERS, **changes}


def make_set(code="test-set", *, is_primary=False, **fields):
    return CriteriaSet.objects.create(code=code, name=fields.pop("name", code), citation="Test source",
                                      is_primary=is_primary, **fields)


def make_criterion(criteria_set, code="edss_below_6", **fields):
    defaults = dict(label="EDSS below 6", fact="edss", operator="lt", value=6.0, kind="inclusion",
                    severity="unlikely", explanation="Why it matters.", source="Test source")
    return Criterion.objects.create(criteria_set=criteria_set, code=code, **{**defaults, **fields})
