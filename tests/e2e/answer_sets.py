"""Answer sets the browser tests type into the questionnaire, as plain dicts of answer keys (PRODUCT.md §2).

Each entry: ``name`` (the test id), ``verdict`` (the Article-profile verdict the set is meant to exercise; the test
checks it against ``manage.py screen``), ``answers`` (exactly what a person answers: keys of steps that are skipped
are left out, ``None`` is "don't know" / "not sure" / "rather not say", a missing ``respondent`` is a question left
unanswered). Together the sets cover every conditional branch of the questionnaire;
``test_the_answer_sets_cover_every_branch`` keeps it that way.

Dates are relative to the current year, so the sets stay valid (a diagnosis year is never in the future).
"""

from datetime import date

YEAR = date.today().year

ANSWER_SETS = [
    {
        "name": "likely-edss-known-high-efficacy-breakthrough",
        "verdict": "likely",
        "answers": {
            "respondent": "self", "age": 34,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 5, "diagnosis_month": 3,
            "edss": 3.5,
            "relapses_12m": 2, "relapses_36m": 3, "mri_activity_12m": "yes",
            "dmts": ["fumarate", "natalizumab"],
            "activity_on_dmt": "yes", "activity_on_high_efficacy_dmt": "yes",
            "comorbidities": [], "prior_hsct": False, "pregnancy": "no",
            "region": "europe",
        },
    },
    {
        "name": "likely-carer-walks-500m-unaided-non-high-efficacy",
        "verdict": "likely",
        "answers": {
            "respondent": "carer", "age": 29,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 3,
            "edss": None, "walking_aid": "none", "walking_distance": "500_plus",
            "relapses_12m": 1, "relapses_36m": 2, "mri_activity_12m": "yes",
            "dmts": ["interferon_beta", "glatiramer"],
            "activity_on_dmt": "yes",
            "comorbidities": [], "prior_hsct": False, "pregnancy": "planning",
            "region": "us_canada",
        },
    },
    {
        "name": "unlikely-one-stick-100m-stable",
        "verdict": "unlikely",
        "answers": {
            "respondent": "self", "age": 45,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 11, "diagnosis_month": 6,
            "edss": None, "walking_aid": "one_sided", "walking_distance": "100_199",
            "relapses_12m": 0, "relapses_36m": 1, "mri_activity_12m": "no",
            "dmts": ["teriflunomide"],
            "activity_on_dmt": "no",
            "comorbidities": ["heart"], "prior_hsct": False, "pregnancy": "no",
            "region": "india",
        },
    },
    {
        "name": "unlikely-carer-two-sticks-50m-spms",
        "verdict": "unlikely",
        "answers": {
            "respondent": "carer", "age": 52,
            "diagnosis_confirmed": "unsure", "ms_type": "spms", "diagnosis_year": YEAR - 16,
            "edss": None, "walking_aid": "two_sided", "walking_distance": "50_99",
            "relapses_12m": 0, "relapses_36m": 0, "mri_activity_12m": "unsure",
            "dmts": ["anti_cd20"],
            "activity_on_dmt": "unsure", "activity_on_high_efficacy_dmt": "unsure",
            "comorbidities": ["mental_health"], "prior_hsct": True, "pregnancy": "no",
            "region": "mexico",
        },
    },
    {
        "name": "unlikely-wheelchair-no-dmt-relapses-unknown",
        "verdict": "unlikely",
        "answers": {
            "respondent": "self", "age": 60,
            "diagnosis_confirmed": "yes", "ms_type": "ppms", "diagnosis_year": YEAR - 21,
            "edss": None, "walking_aid": "wheelchair",
            "relapses_12m": None, "relapses_36m": None, "mri_activity_12m": "no_mri",
            "dmts": [],
            "comorbidities": ["lung", "kidney"], "prior_hsct": False, "pregnancy": "no",
            "region": "russia",
        },
    },
    {
        "name": "possible-never-treated-relapses-unknown-region-not-said",
        "verdict": "possible",
        # respondent left unanswered: the default is "self"
        "answers": {
            "age": 30,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 2, "diagnosis_month": 1,
            "edss": 2.0,
            "relapses_12m": None, "relapses_36m": None, "mri_activity_12m": "unsure",
            "dmts": [],
            "comorbidities": [], "prior_hsct": False, "pregnancy": "pregnant_or_breastfeeding",
            "region": None,
        },
    },
    {
        "name": "possible-carer-walking-distance-unsure-not-highly-active",
        "verdict": "possible",
        "answers": {
            "respondent": "carer", "age": 40,
            "diagnosis_confirmed": "no", "ms_type": "rrms", "diagnosis_year": YEAR - 6,
            "edss": None, "walking_aid": "none", "walking_distance": "unsure",
            "relapses_12m": 1, "relapses_36m": 1, "mri_activity_12m": "no",
            "dmts": ["s1p_modulator", "cladribine"],
            "activity_on_dmt": "yes", "activity_on_high_efficacy_dmt": "no",
            "comorbidities": [], "prior_hsct": False, "pregnancy": "no",
            "region": "other",
        },
    },
    {
        "name": "possible-long-diagnosis-cancer-walks-300m",
        "verdict": "possible",
        "answers": {
            "respondent": "self", "age": 38,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 14, "diagnosis_month": 11,
            "edss": None, "walking_aid": "none", "walking_distance": "300_499",
            "relapses_12m": 3, "relapses_36m": 5, "mri_activity_12m": "yes",
            "dmts": ["alemtuzumab", "other"],
            "activity_on_dmt": "yes", "activity_on_high_efficacy_dmt": "yes",
            "comorbidities": ["cancer", "chronic_infection"], "prior_hsct": False, "pregnancy": "no",
            "region": "europe",
        },
    },
    {
        "name": "unlikely-edss-known-6.5-stable-on-high-efficacy",
        "verdict": "unlikely",
        "answers": {
            "respondent": "self", "age": 41,
            "diagnosis_confirmed": "yes", "ms_type": "rrms", "diagnosis_year": YEAR - 7, "diagnosis_month": None,
            "edss": 6.5,
            "relapses_12m": 0, "relapses_36m": 2, "mri_activity_12m": "no",
            "dmts": ["fumarate", "anti_cd20"],
            "activity_on_dmt": "no", "activity_on_high_efficacy_dmt": "no",
            "comorbidities": ["liver"], "prior_hsct": False, "pregnancy": "no",
            "region": "other",
        },
    },
]
