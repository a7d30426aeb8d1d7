"""Table-driven tests for ``screening.facts``: answers → facts, as PRODUCT.md §3 specifies them.

The expected values are transcribed from the contract (PRODUCT.md §3), not read back from the code.
No database: nothing here touches the ``db`` fixture.
"""

from datetime import date

import pytest

from screening.facts import derive_facts, edss_from_walking, years_since_diagnosis

TODAY = date(2026, 11, 23)

# A complete, valid answers object (PRODUCT.md §2); each test overrides only the keys it is about.
BASE_ANSWERS = {
    "respondent": "self",
    "age": 40,
    "diagnosis_confirmed": "yes",
    "ms_type": "rrms",
    "diagnosis_year": 2020,
    "diagnosis_month": None,
    "edss": 3.0,
    "relapses_12m": 1,
    "relapses_36m": 2,
    "mri_activity_12m": "yes",
    "dmts": [],
    "comorbidities": [],
    "prior_hsct": False,
    "pregnancy": "no",
    "region": None,
}

# Every fact named in the PRODUCT.md §3 table.
CONTRACT_FACTS = {
    "age", "ms_type", "diagnosis_confirmed", "pregnancy", "region", "respondent", "prior_hsct",
    "years_since_diagnosis", "edss", "edss_source", "relapses_12m", "relapses_36m", "mri_activity_12m",
    "highly_active", "inflammatory_activity", "dmt_response", "high_efficacy_dmt_tried", "serious_comorbidity",
    "mental_health_concern",
} | {"dmt_tried"}  # beyond the table: a medicine taken, known from the list alone


def facts_for(today=TODAY, drop=(), **overrides):
    """``derive_facts`` of the base answers with ``overrides`` applied and the keys in ``drop`` removed."""
    answers = {**BASE_ANSWERS, **overrides}
    for key in drop:
        answers.pop(key, None)
    return derive_facts(answers, today)


def interval(value):
    """A numeric fact as a plain ``(lo, hi)`` tuple (the contract writes ``[lo, hi]``), unknown stays ``None``."""
    return None if value is None else tuple(value)


def case(*values, id):
    return pytest.param(*values, id=id)


def test_derive_facts_yields_exactly_the_contract_facts():
    assert set(facts_for()) == CONTRACT_FACTS


# ---------------------------------------------------------------------------------------------------------------
# EDSS: the walking table, reported EDSS, edss_source
# ---------------------------------------------------------------------------------------------------------------

DISTANCES = ("500_plus", "300_499", "200_299", "100_199", "50_99", "20_49", "5_19", "under_5", "unsure")

# PRODUCT.md §3 walking table, row by row, in the column order of DISTANCES.
WALKING_TABLE = {
    "none": [(0, 4.0), (4.5, 4.5), (5.0, 5.0), (5.5, 5.5), (6.0, 6.5), (6.0, 6.5), (6.0, 6.5), (7.0, 9.5), (0, 6.5)],
    "one_sided": [(6.0, 6.0), (6.0, 6.0), (6.0, 6.0), (6.0, 6.0), (6.0, 6.0), (6.5, 6.5), (6.5, 6.5), (7.0, 9.5),
                  (6.0, 6.5)],
    "two_sided": [(6.0, 6.0), (6.0, 6.0), (6.0, 6.0), (6.0, 6.5), (6.5, 6.5), (6.5, 6.5), (6.5, 6.5), (7.0, 9.5),
                  (6.0, 6.5)],
}
WHEELCHAIR = (7.0, 9.5)

WALKING_CASES = [
    case(aid, distance, expected, id=f"{aid}-{distance}")
    for aid, row in WALKING_TABLE.items()
    for distance, expected in zip(DISTANCES, row, strict=True)
] + [
    case("wheelchair", None, WHEELCHAIR, id="wheelchair-no_distance"),
    case("wheelchair", "500_plus", WHEELCHAIR, id="wheelchair-distance_500_plus_ignored"),
    case("wheelchair", "under_5", WHEELCHAIR, id="wheelchair-distance_under_5_ignored"),
]


def test_walking_table_covers_every_cell():
    assert len(WALKING_CASES) == 3 * 9 + 3


@pytest.mark.parametrize("aid, distance, expected", WALKING_CASES)
def test_edss_from_walking(aid, distance, expected):
    assert interval(edss_from_walking(aid, distance)) == expected


@pytest.mark.parametrize("aid, distance, expected", WALKING_CASES)
def test_walking_estimate_is_the_edss_fact_when_none_reported(aid, distance, expected):
    facts = facts_for(edss=None, walking_aid=aid, walking_distance=distance)
    assert (interval(facts["edss"]), facts["edss_source"]) == (expected, "walking_estimate")


@pytest.mark.parametrize(
    "overrides, expected_edss, expected_source",
    [
        case({"edss": 3.5}, (3.5, 3.5), "reported", id="reported-no_walking_answers"),
        case({"edss": 3.5, "walking_aid": "none", "walking_distance": "under_5"}, (3.5, 3.5), "reported",
             id="reported-wins_over_walking"),
        case({"edss": 0, "walking_aid": "wheelchair"}, (0, 0), "reported", id="reported_zero-wins_over_wheelchair"),
        case({"edss": 6.0, "walking_aid": "one_sided", "walking_distance": "20_49"}, (6.0, 6.0), "reported",
             id="reported_6-wins_over_one_sided"),
        case({"edss": 9.5}, (9.5, 9.5), "reported", id="reported-maximum"),
        case({"edss": None}, None, None, id="unknown-no_edss_no_walking"),
        case({"edss": None, "walking_aid": None, "walking_distance": None}, None, None,
             id="unknown-walking_answers_null"),
        case({"edss": None, "walking_aid": "none"}, None, None, id="unknown-aid_without_distance"),
        case({"edss": None, "walking_distance": "100_199"}, None, None, id="unknown-distance_without_aid"),
    ],
)
def test_edss_and_source(overrides, expected_edss, expected_source):
    facts = facts_for(**overrides)
    assert (interval(facts["edss"]), facts["edss_source"]) == (expected_edss, expected_source)


# ---------------------------------------------------------------------------------------------------------------
# years_since_diagnosis: from the last possible day to the first possible day, days / 365.25, 3 decimals
# ---------------------------------------------------------------------------------------------------------------

LEAP_DAY_2028 = date(2028, 2, 29)

YEARS_CASES = [
    # relative to TODAY = 2026-11-23; comments give the day counts behind each end
    case(2016, None, TODAY, (9.895, 10.894), id="2016_no_month-straddles_10"),  # 3614 d from 31 Dec, 3979 from 1 Jan
    case(2017, None, TODAY, (8.895, 9.892), id="2017_no_month-below_10"),  # 3249 / 3613
    case(2015, None, TODAY, (10.897, 11.893), id="2015_no_month-above_10"),  # 3980 / 4344
    case(2016, 10, TODAY, (10.062, 10.144), id="2016_10-above_10"),  # 3675 from 31 Oct / 3705 from 1 Oct
    case(2016, 11, TODAY, (9.979, 10.059), id="2016_11-straddles_10"),  # 3645 from 30 Nov / 3674 from 1 Nov
    case(2016, 12, TODAY, (9.895, 9.977), id="2016_12-below_10"),  # 3614 from 31 Dec / 3644 from 1 Dec
    case(2026, 11, TODAY, (0.0, 0.06), id="this_month-lower_bound_0"),  # last day still ahead; 22 d from 1 Nov
    case(2026, None, TODAY, (0.0, 0.893), id="this_year_no_month-lower_bound_0"),  # 326 d from 1 Jan
    case(2024, 2, TODAY, (2.732, 2.809), id="feb_leap_2024-ends_29th"),  # 998 from 29 Feb / 1026 from 1 Feb
    case(2023, 2, TODAY, (3.734, 3.808), id="feb_common_2023-ends_28th"),  # 1364 from 28 Feb / 1391 from 1 Feb
    case(2000, 2, TODAY, (26.732, 26.809), id="feb_leap_century_2000"),  # 9764 / 9792
    case(1950, 1, TODAY, (76.81, 76.893), id="earliest_year_1950_01"),  # 28055 / 28085
    case(2028, 2, LEAP_DAY_2028, (0.0, 0.077), id="today_leap_day-same_month"),  # 0 from 29 Feb / 28 from 1 Feb
    case(2028, None, LEAP_DAY_2028, (0.0, 0.162), id="today_leap_day-same_year_no_month"),  # 59 from 1 Jan
]


@pytest.mark.parametrize("year, month, today, expected", YEARS_CASES)
def test_years_since_diagnosis(year, month, today, expected):
    assert interval(years_since_diagnosis(year, month, today)) == expected


@pytest.mark.parametrize("year, month, today, expected", YEARS_CASES)
def test_years_since_diagnosis_fact(year, month, today, expected):
    facts = facts_for(today=today, diagnosis_year=year, diagnosis_month=month)
    assert interval(facts["years_since_diagnosis"]) == expected


@pytest.mark.parametrize(
    "year, month, position",
    [
        case(2016, None, "straddles", id="2016_no_month"),
        case(2017, None, "below", id="2017_no_month"),
        case(2016, 10, "above", id="2016_10"),
        case(2016, 11, "straddles", id="2016_11"),
        case(2016, 12, "below", id="2016_12"),
    ],
)
def test_ten_year_edge(year, month, position):
    lo, hi = years_since_diagnosis(year, month, TODAY)
    actual = "below" if hi < 10 else "above" if lo > 10 else "straddles"
    assert actual == position


# ---------------------------------------------------------------------------------------------------------------
# Disease activity: mri_activity_12m, highly_active, inflammatory_activity
# ---------------------------------------------------------------------------------------------------------------

MRI_ANSWERS = ("yes", "no", "unsure", "no_mri")
T, F, U = True, False, None

# relapses_12m → (mri_activity_12m, highly_active, inflammatory_activity) for each MRI answer, in MRI_ANSWERS order.
MRI_FACT = (T, F, U, U)
ACTIVITY_TABLE = {
    0: {"highly_active": (F, F, F, F), "inflammatory_activity": (T, F, U, U)},
    1: {"highly_active": (T, F, U, U), "inflammatory_activity": (T, T, T, T)},
    2: {"highly_active": (T, T, T, T), "inflammatory_activity": (T, T, T, T)},
    5: {"highly_active": (T, T, T, T), "inflammatory_activity": (T, T, T, T)},
    None: {"highly_active": (U, U, U, U), "inflammatory_activity": (T, U, U, U)},
}

ACTIVITY_CASES = [
    case(relapses, mri, MRI_FACT[i], row["highly_active"][i], row["inflammatory_activity"][i],
         id=f"relapses_{'unknown' if relapses is None else relapses}-mri_{mri}")
    for relapses, row in ACTIVITY_TABLE.items()
    for i, mri in enumerate(MRI_ANSWERS)
]


@pytest.mark.parametrize("relapses, mri, expected_mri, expected_highly, expected_inflammatory", ACTIVITY_CASES)
def test_disease_activity(relapses, mri, expected_mri, expected_highly, expected_inflammatory):
    facts = facts_for(relapses_12m=relapses, relapses_36m=relapses, mri_activity_12m=mri)
    actual = (facts["mri_activity_12m"], facts["highly_active"], facts["inflammatory_activity"])
    assert actual == (expected_mri, expected_highly, expected_inflammatory)


@pytest.mark.parametrize(
    "relapses_12m, relapses_36m, expected",
    [
        case(0, 0, ((0, 0), (0, 0)), id="zero"),
        case(2, 5, ((2, 2), (5, 5)), id="known"),
        case(None, 3, (None, (3, 3)), id="12m_unknown"),
        case(None, None, (None, None), id="both_unknown"),
    ],
)
def test_relapse_counts(relapses_12m, relapses_36m, expected):
    facts = facts_for(relapses_12m=relapses_12m, relapses_36m=relapses_36m)
    assert (interval(facts["relapses_12m"]), interval(facts["relapses_36m"])) == expected


# ---------------------------------------------------------------------------------------------------------------
# Treatments: dmt_response, high_efficacy_dmt_tried
# ---------------------------------------------------------------------------------------------------------------

HIGH_EFFICACY = ("natalizumab", "anti_cd20", "alemtuzumab", "cladribine")
OTHER_DMTS = ("interferon_beta", "glatiramer", "teriflunomide", "fumarate", "s1p_modulator", "other")


@pytest.mark.parametrize(
    "dmts, on_dmt, on_high_efficacy, expected",
    [
        case([], None, None, "none_tried", id="no_dmt"),
        case([], "yes", None, "none_tried", id="no_dmt-stray_activity_answer_ignored"),
        case(["natalizumab"], "yes", "yes", "breakthrough_high_efficacy", id="he_yes"),
        case(["natalizumab"], "no", "yes", "breakthrough_high_efficacy", id="he_yes-any_dmt_no"),
        case(["glatiramer", "anti_cd20"], "unsure", "yes", "breakthrough_high_efficacy", id="he_yes-any_dmt_unsure"),
        case(["interferon_beta"], "yes", None, "breakthrough", id="activity_yes"),
        case(["interferon_beta", "cladribine"], "yes", "no", "breakthrough", id="activity_yes-he_no"),
        case(["alemtuzumab"], "yes", "unsure", "breakthrough", id="activity_yes-he_unsure"),
        case(["fumarate"], "no", None, "stable", id="activity_no"),
        case(["natalizumab"], "no", "no", "stable", id="activity_no-he_no"),
        case(["teriflunomide"], "unsure", None, None, id="activity_unsure-unknown"),
        case(["anti_cd20"], "unsure", "no", None, id="activity_unsure-he_no-unknown"),
        case(["anti_cd20"], "unsure", "unsure", None, id="activity_unsure-he_unsure-unknown"),
        # §2: an answer made irrelevant (no high-efficacy DMT in `dmts`) is kept but ignored by the facts
        case(["interferon_beta"], "no", "yes", "stable", id="he_answer_ignored_without_he_dmt"),
    ],
)
def test_dmt_response(dmts, on_dmt, on_high_efficacy, expected):
    overrides = {"dmts": dmts, "activity_on_dmt": on_dmt, "activity_on_high_efficacy_dmt": on_high_efficacy}
    facts = facts_for(**{key: value for key, value in overrides.items() if value is not None})
    assert facts["dmt_response"] == expected


@pytest.mark.parametrize(
    "dmts, expected",
    [case([dmt], True, id=f"{dmt}-high_efficacy") for dmt in HIGH_EFFICACY]
    + [case([dmt], False, id=f"{dmt}-not_high_efficacy") for dmt in OTHER_DMTS]
    + [
        case([], False, id="none"),
        case(list(OTHER_DMTS), False, id="all_other_dmts"),
        case(["interferon_beta", "cladribine"], True, id="mixed"),
    ],
)
def test_high_efficacy_dmt_tried(dmts, expected):
    assert facts_for(dmts=dmts, activity_on_dmt="no")["high_efficacy_dmt_tried"] is expected


@pytest.mark.parametrize(
    "dmts, on_dmt, expected",
    [
        case([], None, False, id="none"),
        case(["interferon_beta"], "unsure", True, id="taken-unsure_how_it_worked"),  # dmt_response is unknown here
        case(["other"], "no", True, id="another_medicine"),
        case(["anti_cd20"], "yes", True, id="high_efficacy"),
    ],
)
def test_dmt_tried_is_known_from_the_medicines_list_alone(dmts, on_dmt, expected):
    facts = facts_for(**{"dmts": dmts, **({"activity_on_dmt": on_dmt} if on_dmt else {})})
    assert facts["dmt_tried"] is expected


# ---------------------------------------------------------------------------------------------------------------
# Health: serious_comorbidity, mental_health_concern
# ---------------------------------------------------------------------------------------------------------------

SERIOUS = ("heart", "lung", "kidney", "liver", "cancer", "chronic_infection")


@pytest.mark.parametrize(
    "comorbidities, expected_serious, expected_mental_health",
    [case([c], True, False, id=c) for c in SERIOUS]
    + [
        case(["mental_health"], False, True, id="mental_health_alone"),
        case(["heart", "mental_health"], True, True, id="heart_and_mental_health"),
        case([], False, False, id="none"),
    ],
)
def test_comorbidity_facts(comorbidities, expected_serious, expected_mental_health):
    facts = facts_for(comorbidities=comorbidities)
    assert (facts["serious_comorbidity"], facts["mental_health_concern"]) == (expected_serious,
                                                                              expected_mental_health)


# ---------------------------------------------------------------------------------------------------------------
# Pass-through facts: age, choices (unsure → unknown), respondent default, region, prior_hsct, pregnancy
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, drop, fact, expected",
    [
        case({"age": 16}, (), "age", (16, 16), id="age-exact_interval"),
        case({"ms_type": "unsure"}, (), "ms_type", None, id="ms_type-unsure_unknown"),
        *[case({"ms_type": t}, (), "ms_type", t, id=f"ms_type-{t}") for t in ("rrms", "spms", "ppms", "cis")],
        case({"diagnosis_confirmed": "unsure"}, (), "diagnosis_confirmed", None, id="diagnosis_confirmed-unsure"),
        case({"diagnosis_confirmed": "yes"}, (), "diagnosis_confirmed", "yes", id="diagnosis_confirmed-yes"),
        case({"diagnosis_confirmed": "no"}, (), "diagnosis_confirmed", "no", id="diagnosis_confirmed-no"),
        case({}, ("respondent",), "respondent", "self", id="respondent-missing_defaults_self"),
        case({"respondent": None}, (), "respondent", "self", id="respondent-null_defaults_self"),
        case({"respondent": "carer"}, (), "respondent", "carer", id="respondent-carer"),
        case({"region": None}, (), "region", None, id="region-null"),
        case({}, ("region",), "region", None, id="region-missing"),
        case({"region": "europe"}, (), "region", "europe", id="region-europe"),
        case({"prior_hsct": True}, (), "prior_hsct", True, id="prior_hsct-true"),
        case({"prior_hsct": False}, (), "prior_hsct", False, id="prior_hsct-false"),
        case({"pregnancy": "planning"}, (), "pregnancy", "planning", id="pregnancy-planning"),
        case({"pregnancy": "no"}, (), "pregnancy", "no", id="pregnancy-no"),
    ],
)
def test_simple_facts(overrides, drop, fact, expected):
    value = facts_for(drop=drop, **overrides)[fact]
    assert (interval(value) if fact == "age" else value) == expected
