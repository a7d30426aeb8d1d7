"""Table-driven tests for ``screening.rules``: operators, three-valued logic and verdict precedence (PRODUCT.md §4),
note conditions (§5) and the validation of a criterion's ``fact operator value``.

The expected values are transcribed from the contract, not read back from the code. No database, and the pure
modules must not even import Django (checked in a fresh interpreter).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from screening import rules
from screening.rules import Condition, NoteRule, Rule, RuleError, check_condition, compare, score, verdict

REPO_ROOT = Path(__file__).resolve().parent.parent
T, F, U = True, False, None
LIKELY, POSSIBLE, UNLIKELY = "likely", "possible", "unlikely"
FAVOURABLE, UNFAVOURABLE, UNKNOWN = "favourable", "unfavourable", "unknown"
ALL_OPERATORS = ("lt", "lte", "gt", "gte", "between", "eq", "ne", "in", "not_in")


def case(*values, id):
    return pytest.param(*values, id=id)


def label(value):
    """A short, readable test id for a fact or criterion value."""
    if isinstance(value, tuple | list):
        return "[" + ",".join(label(v) for v in value) + "]"
    if value is None or isinstance(value, bool):
        return {None: "unknown", True: "true", False: "false"}[value]
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def comparisons(rows):
    """``(fact_value, operator, value, expected)`` rows → params with ids such as ``[5,6]-lt-6``."""
    return [case(f, op, v, e, id=f"{label(f)}-{op}-{label(v)}") for f, op, v, e in rows]


def test_pure_modules_do_not_import_django():
    code = (
        "import sys, screening.facts, screening.rules; "
        "print(','.join(sorted(m for m in sys.modules if m.startswith('django'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# ---------------------------------------------------------------------------------------------------------------
# compare: numbers (intervals), three-valued
# ---------------------------------------------------------------------------------------------------------------

EXACT_ROWS = [
    ((5, 5), "lt", 6, T), ((6, 6), "lt", 6, F), ((7, 7), "lt", 6, F),
    ((5, 5), "lte", 6, T), ((6, 6), "lte", 6, T), ((7, 7), "lte", 6, F),
    ((7, 7), "gt", 6, T), ((6, 6), "gt", 6, F), ((5, 5), "gt", 6, F),
    ((7, 7), "gte", 6, T), ((6, 6), "gte", 6, T), ((5, 5), "gte", 6, F),
    ((2, 2), "between", [2, 6], T), ((4, 4), "between", [2, 6], T), ((6, 6), "between", [2, 6], T),
    ((1.5, 1.5), "between", [2, 6], F), ((6.5, 6.5), "between", [2, 6], F),
    ((6, 6), "eq", 6, T), ((5.5, 5.5), "eq", 6, F), ((6.5, 6.5), "eq", 6, F),
    ((6, 6), "ne", 6, F), ((5.5, 5.5), "ne", 6, T), ((6.5, 6.5), "ne", 6, T),
    ((10, 10), "lt", 10.0, F), ((9.999, 9.999), "lt", 10, T),
]

INTERVAL_ROWS = [
    # lt 6: true if hi < 6, false if lo >= 6
    ((4.5, 5.5), "lt", 6, T), ((6, 6.5), "lt", 6, F), ((5.5, 6), "lt", 6, U), ((5, 7), "lt", 6, U),
    ((7, 9.5), "lt", 6, F),
    # lte 6: true if hi <= 6, false if lo > 6
    ((5, 6), "lte", 6, T), ((6, 7), "lte", 6, U), ((5, 7), "lte", 6, U), ((6.5, 7), "lte", 6, F),
    # gt 6: true if lo > 6, false if hi <= 6
    ((6.5, 7), "gt", 6, T), ((6, 7), "gt", 6, U), ((5, 7), "gt", 6, U), ((5, 6), "gt", 6, F), ((4, 5), "gt", 6, F),
    # gte 6: true if lo >= 6, false if hi < 6
    ((6, 7), "gte", 6, T), ((5, 6), "gte", 6, U), ((5, 7), "gte", 6, U), ((4, 5.5), "gte", 6, F),
    # between [2, 6], inclusive: true if inside, false if entirely outside, straddling either end → unknown
    ((2, 6), "between", [2, 6], T), ((3, 5), "between", [2, 6], T),
    ((1, 3), "between", [2, 6], U), ((1, 2), "between", [2, 6], U), ((5, 7), "between", [2, 6], U),
    ((6, 7), "between", [2, 6], U), ((1, 7), "between", [2, 6], U),
    ((0, 1.5), "between", [2, 6], F), ((6.5, 7), "between", [2, 6], F),
    # eq on a number is true only for [v, v]; ne is its three-valued negation
    ((6, 6.5), "eq", 6, U), ((5.5, 6), "eq", 6, U), ((5, 7), "eq", 6, U), ((6.5, 7), "eq", 6, F), ((4, 5), "eq", 6, F),
    ((6, 6.5), "ne", 6, U), ((5, 7), "ne", 6, U), ((6.5, 7), "ne", 6, T), ((4, 5), "ne", 6, T),
    # the article's 10-year criterion on a year-without-month interval
    ((9.895, 10.894), "lt", 10, U), ((8.895, 9.892), "lt", 10, T), ((10.062, 10.144), "lt", 10, F),
]

CHOICE_AND_BOOL_ROWS = [
    ("rrms", "eq", "rrms", T), ("rrms", "eq", "spms", F),
    ("rrms", "ne", "rrms", F), ("rrms", "ne", "spms", T),
    ("rrms", "in", ["rrms", "spms"], T), ("ppms", "in", ["rrms", "spms"], F),
    ("ppms", "not_in", ["rrms", "spms"], T), ("rrms", "not_in", ["rrms", "spms"], F),
    (True, "eq", True, T), (True, "eq", False, F), (False, "eq", False, T), (False, "eq", True, F),
    (True, "ne", True, F), (True, "ne", False, T), (False, "ne", True, T), (False, "ne", False, F),
    (True, "in", [True], T), (False, "in", [True], F), (False, "in", [True, False], T),
    (False, "not_in", [True], T), (True, "not_in", [True], F),
]

# One suitable criterion value per operator, for facts of each type.
NUMBER_VALUES = {"lt": 6, "lte": 6, "gt": 6, "gte": 6, "between": [2, 6], "eq": 6, "ne": 6}
CHOICE_VALUES = {"eq": "rrms", "ne": "rrms", "in": ["rrms"], "not_in": ["rrms"]}
BOOL_VALUES = {"eq": True, "ne": False, "in": [True], "not_in": [False]}
UNKNOWN_ROWS = [(None, op, v, U) for values in (NUMBER_VALUES, CHOICE_VALUES, BOOL_VALUES) for op, v in values.items()]


def test_unknown_rows_cover_every_operator():
    assert {op for _, op, _, _ in UNKNOWN_ROWS} == set(ALL_OPERATORS)


@pytest.mark.parametrize(
    "fact_value, operator, value, expected",
    comparisons(EXACT_ROWS + INTERVAL_ROWS + CHOICE_AND_BOOL_ROWS + UNKNOWN_ROWS),
)
def test_compare(fact_value, operator, value, expected):
    assert compare(fact_value, operator, value) is expected


NE_INTERVALS = [(6, 6), (5, 5), (6, 6.5), (5.5, 6), (5, 7), (6.5, 7), (4, 5), None]


@pytest.mark.parametrize("fact_value", NE_INTERVALS, ids=label)
def test_ne_is_three_valued_negation_of_eq(fact_value):
    eq = compare(fact_value, "eq", 6)
    assert compare(fact_value, "ne", 6) is (None if eq is None else not eq)


# ---------------------------------------------------------------------------------------------------------------
# Rule.outcome and Condition.holds
# ---------------------------------------------------------------------------------------------------------------

EDSS_FACTS = {"below": {"edss": (4.0, 4.0)}, "above": {"edss": (7.0, 9.5)}, "straddles": {"edss": (0.0, 6.5)},
              "unknown": {"edss": None}, "missing": {}}


@pytest.mark.parametrize(
    "kind, edss, expected",
    [
        case("inclusion", "below", FAVOURABLE, id="inclusion-true-favourable"),
        case("inclusion", "above", UNFAVOURABLE, id="inclusion-false-unfavourable"),
        case("inclusion", "straddles", UNKNOWN, id="inclusion-unknown-unknown"),
        case("exclusion", "below", UNFAVOURABLE, id="exclusion-true-unfavourable"),
        case("exclusion", "above", FAVOURABLE, id="exclusion-false-favourable"),
        case("exclusion", "straddles", UNKNOWN, id="exclusion-unknown-unknown"),
        case("inclusion", "unknown", UNKNOWN, id="inclusion-fact_unknown"),
        case("exclusion", "unknown", UNKNOWN, id="exclusion-fact_unknown"),
        case("inclusion", "missing", UNKNOWN, id="inclusion-fact_absent"),
    ],
)
def test_rule_outcome(kind, edss, expected):
    rule = Rule("edss_below_6", "EDSS below 6", "edss", "lt", 6.0, kind=kind, severity=UNLIKELY)
    assert rule.outcome(EDSS_FACTS[edss]) == expected


@pytest.mark.parametrize(
    "edss, expected", [case(name, e, id=name) for name, e in (("below", T), ("above", F), ("straddles", U),
                                                             ("unknown", U), ("missing", U))]
)
def test_condition_holds(edss, expected):
    assert Condition("edss", "lt", 6).holds(EDSS_FACTS[edss]) is expected


# ---------------------------------------------------------------------------------------------------------------
# Verdict precedence and score
# ---------------------------------------------------------------------------------------------------------------

# One fact per outcome an inclusion criterion can have, so a single facts dict drives any mix of outcomes.
SCORING_FACTS = {"age": (40.0, 40.0), "edss": (7.0, 7.0), "years_since_diagnosis": (9.5, 10.5)}
CONDITION_FOR = {
    FAVOURABLE: ("age", "gte", 16),
    UNFAVOURABLE: ("edss", "lt", 6.0),
    UNKNOWN: ("years_since_diagnosis", "lt", 10),
}


def make_rules(spec):
    """``[(severity, outcome), ...]`` → inclusion rules that produce those outcomes on ``SCORING_FACTS``."""
    return [
        Rule(f"c{i}_{outcome}_{severity}", f"criterion {i}", *CONDITION_FOR[outcome], kind="inclusion",
             severity=severity)
        for i, (severity, outcome) in enumerate(spec)
    ]


VERDICT_CASES = [
    case([], LIKELY, id="no_criteria-likely"),
    case([(UNLIKELY, FAVOURABLE), (POSSIBLE, FAVOURABLE)], LIKELY, id="all_favourable-likely"),
    case([(POSSIBLE, UNKNOWN)], POSSIBLE, id="unknown_possible-possible"),
    case([(UNLIKELY, UNKNOWN)], POSSIBLE, id="unknown_on_unlikely_criterion-possible_not_unlikely"),
    case([(UNLIKELY, FAVOURABLE), (UNLIKELY, UNKNOWN), (POSSIBLE, FAVOURABLE)], POSSIBLE,
         id="one_unknown_among_favourable-possible"),
    case([(POSSIBLE, UNFAVOURABLE)], POSSIBLE, id="unfavourable_possible-possible"),
    case([(UNLIKELY, FAVOURABLE), (POSSIBLE, UNFAVOURABLE)], POSSIBLE, id="unfavourable_possible_with_favourable"),
    case([(POSSIBLE, UNFAVOURABLE), (UNLIKELY, UNKNOWN)], POSSIBLE,
         id="unfavourable_possible_and_unknown_unlikely-possible"),
    case([(UNLIKELY, UNFAVOURABLE)], UNLIKELY, id="unfavourable_unlikely-unlikely"),
    case([(POSSIBLE, UNKNOWN), (UNLIKELY, UNKNOWN), (UNLIKELY, UNFAVOURABLE)], UNLIKELY,
         id="unfavourable_unlikely_even_with_unknowns"),
    case([(UNLIKELY, FAVOURABLE), (POSSIBLE, UNFAVOURABLE), (UNLIKELY, UNFAVOURABLE)], UNLIKELY,
         id="unfavourable_unlikely_beats_unfavourable_possible"),
    case([(POSSIBLE, UNKNOWN), (UNLIKELY, UNKNOWN)], POSSIBLE, id="all_unknown-possible"),
]


@pytest.mark.parametrize("spec, expected", VERDICT_CASES)
def test_verdict(spec, expected):
    outcomes = [(rule, outcome) for rule, (_, outcome) in zip(make_rules(spec), spec, strict=True)]
    assert verdict(outcomes) == expected


@pytest.mark.parametrize("spec, expected", VERDICT_CASES)
def test_score(spec, expected):
    criteria = make_rules(spec)
    result = score(criteria, SCORING_FACTS)
    assert result.verdict == expected
    assert [(rule.code, outcome) for rule, outcome in result.outcomes] == [
        (rule.code, outcome) for rule, (_, outcome) in zip(criteria, spec, strict=True)
    ]
    assert all(scored is given for (scored, _), given in zip(result.outcomes, criteria, strict=True))


def test_score_keeps_rule_order_not_outcome_order():
    spec = [(POSSIBLE, UNKNOWN), (UNLIKELY, FAVOURABLE), (UNLIKELY, UNFAVOURABLE), (POSSIBLE, FAVOURABLE)]
    result = score(make_rules(spec), SCORING_FACTS)
    assert [outcome for _, outcome in result.outcomes] == [UNKNOWN, FAVOURABLE, UNFAVOURABLE, FAVOURABLE]


# The primary "Article profile" set, encoded exactly as PRODUCT.md §4 lists it.
ARTICLE_PROFILE = [
    Rule("relapsing_remitting", "RRMS", "ms_type", "eq", "rrms", "inclusion", UNLIKELY),
    Rule("edss_below_6", "EDSS below 6", "edss", "lt", 6.0, "inclusion", UNLIKELY),
    Rule("diagnosed_under_10_years", "Under 10 years", "years_since_diagnosis", "lt", 10, "inclusion", POSSIBLE),
    Rule("high_disease_activity", "Highly active", "highly_active", "eq", True, "inclusion", POSSIBLE),
    Rule("poor_dmt_response", "Poor DMT response", "dmt_response", "in", ["breakthrough", "breakthrough_high_efficacy"],
         "inclusion", POSSIBLE),
    Rule("doing_well_on_dmt", "Doing well on DMT", "dmt_response", "eq", "stable", "exclusion", UNLIKELY),
    Rule("serious_comorbidity", "Serious comorbidity", "serious_comorbidity", "eq", True, "exclusion", POSSIBLE),
]
BEST_CANDIDATE = {
    "ms_type": "rrms", "edss": (3.0, 3.0), "years_since_diagnosis": (3.8, 3.9), "highly_active": True,
    "dmt_response": "breakthrough", "serious_comorbidity": False,
}


@pytest.mark.parametrize(
    "changes, expected_verdict, expected_non_favourable",
    [
        case({}, LIKELY, {}, id="best_candidate-likely"),
        case({"years_since_diagnosis": (9.895, 10.894)}, POSSIBLE, {"diagnosed_under_10_years": UNKNOWN},
             id="year_only_straddles_10-possible"),
        case({"edss": None}, POSSIBLE, {"edss_below_6": UNKNOWN}, id="edss_unknown-possible"),
        case({"edss": (6.0, 6.5)}, UNLIKELY, {"edss_below_6": UNFAVOURABLE}, id="edss_6-unlikely"),
        case({"dmt_response": "stable"}, UNLIKELY,
             {"poor_dmt_response": UNFAVOURABLE, "doing_well_on_dmt": UNFAVOURABLE}, id="stable_on_dmt-unlikely"),
        case({"dmt_response": None}, POSSIBLE, {"poor_dmt_response": UNKNOWN, "doing_well_on_dmt": UNKNOWN},
             id="dmt_response_unknown-possible"),
        case({"serious_comorbidity": True}, POSSIBLE, {"serious_comorbidity": UNFAVOURABLE},
             id="serious_comorbidity-possible"),
        case({"ms_type": None}, POSSIBLE, {"relapsing_remitting": UNKNOWN}, id="ms_type_unknown-possible"),
    ],
)
def test_article_profile(changes, expected_verdict, expected_non_favourable):
    result = score(ARTICLE_PROFILE, {**BEST_CANDIDATE, **changes})
    non_favourable = {rule.code: outcome for rule, outcome in result.outcomes if outcome != FAVOURABLE}
    assert (result.verdict, non_favourable) == (expected_verdict, expected_non_favourable)


# ---------------------------------------------------------------------------------------------------------------
# NoteRule.shows: a note shows only when its condition is true and the verdict is one of its verdicts (if any)
# ---------------------------------------------------------------------------------------------------------------

PLANNING = Condition("pregnancy", "ne", "no")
NOTE_FACTS = {"planning": {"pregnancy": "planning"}, "no": {"pregnancy": "no"}, "unknown": {"pregnancy": None}}


@pytest.mark.parametrize(
    "condition, verdicts, pregnancy, headline, expected",
    [
        *[case(None, (), "no", v, T, id=f"no_condition-shows-{v}") for v in (LIKELY, POSSIBLE, UNLIKELY)],
        case(PLANNING, (), "planning", LIKELY, T, id="condition_true-shows"),
        case(PLANNING, (), "no", LIKELY, F, id="condition_false-hidden"),
        case(PLANNING, (), "unknown", LIKELY, F, id="condition_unknown-hidden"),
        case(None, (UNLIKELY,), "no", UNLIKELY, T, id="verdict_listed-shows"),
        case(None, (UNLIKELY,), "no", LIKELY, F, id="verdict_not_listed-hidden"),
        case(None, (POSSIBLE, UNLIKELY), "no", POSSIBLE, T, id="verdict_in_list_of_two-shows"),
        case(None, (POSSIBLE, UNLIKELY), "no", LIKELY, F, id="verdict_not_in_list_of_two-hidden"),
        case(PLANNING, (UNLIKELY,), "planning", UNLIKELY, T, id="condition_true-verdict_listed-shows"),
        case(PLANNING, (UNLIKELY,), "planning", POSSIBLE, F, id="condition_true-verdict_not_listed-hidden"),
        case(PLANNING, (UNLIKELY,), "no", UNLIKELY, F, id="condition_false-verdict_listed-hidden"),
        case(PLANNING, (UNLIKELY,), "unknown", UNLIKELY, F, id="condition_unknown-verdict_listed-hidden"),
    ],
)
def test_note_shows(condition, verdicts, pregnancy, headline, expected):
    assert NoteRule(condition, verdicts).shows(NOTE_FACTS[pregnancy], headline) is expected


# ---------------------------------------------------------------------------------------------------------------
# check_condition: what an admin may save as a criterion or note condition
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fact, operator, value",
    [
        case("edss", "lt", 6, id="number-lt-int"),
        case("edss", "lte", 5.5, id="number-lte-float"),
        case("age", "gt", 55, id="number-gt"),
        case("age", "gte", 18, id="number-gte"),
        case("age", "gte", 16, id="number-at_the_lowest_age"),
        case("edss", "lte", 9.5, id="number-at_the_top_of_the_scale"),
        case("years_since_diagnosis", "between", [0, 10], id="number-between"),
        case("edss", "between", [6, 6], id="number-between-single_point"),
        case("age", "eq", 40, id="number-eq"),
        case("relapses_12m", "ne", 0, id="number-ne"),
        case("ms_type", "eq", "rrms", id="choice-eq"),
        case("ms_type", "ne", "ppms", id="choice-ne"),
        case("dmt_response", "in", ["breakthrough", "breakthrough_high_efficacy"], id="choice-in"),
        case("pregnancy", "not_in", ["no"], id="choice-not_in"),
        case("region", "in", ["us_canada", "mexico", "russia", "india", "europe", "other"], id="choice-in_all"),
        case("edss_source", "eq", "walking_estimate", id="choice-edss_source"),
        case("highly_active", "eq", True, id="bool-eq-true"),
        case("serious_comorbidity", "ne", False, id="bool-ne-false"),
        case("prior_hsct", "in", [True, False], id="bool-in"),
        case("mental_health_concern", "not_in", [True], id="bool-not_in"),
    ],
)
def test_check_condition_accepts(fact, operator, value):
    assert check_condition(fact, operator, value) is None


@pytest.mark.parametrize(
    "fact, operator, value, field",
    [
        case("edss_score", "lt", 6, "fact", id="unknown_fact"),
        case("walking_aid", "eq", "none", "fact", id="raw_answer_is_not_a_fact"),
        case("", "eq", "rrms", "fact", id="empty_fact"),
        case("ms_type", "lt", "rrms", "operator", id="lt_on_choice"),
        case("highly_active", "gte", True, "operator", id="gte_on_bool"),
        case("ms_type", "between", ["cis", "rrms"], "operator", id="between_on_choice"),
        case("edss", "in", [6], "operator", id="in_on_number"),
        case("age", "not_in", [40], "operator", id="not_in_on_number"),
        case("edss", "below", 6, "operator", id="no_such_operator"),
        case("edss", "lt", "6", "value", id="string_for_number"),
        case("edss", "lt", True, "value", id="bool_for_number"),
        case("edss", "lt", None, "value", id="null_for_number"),
        case("edss", "between", [6, 2], "value", id="between_reversed"),
        case("edss", "between", [2], "value", id="between_one_item"),
        case("edss", "between", [2, 4, 6], "value", id="between_three_items"),
        case("edss", "between", ["2", "6"], "value", id="between_strings"),
        case("edss", "between", 6, "value", id="between_not_a_list"),
        case("edss", "lt", 10 ** 309, "value", id="int_too_long_for_a_float"),
        case("edss", "between", [1, 10 ** 400], "value", id="between_int_too_long_for_a_float"),
        case("edss", "lt", float("inf"), "value", id="infinity"),
        case("edss", "lt", float("nan"), "value", id="nan"),
        case("edss", "lt", -3, "value", id="edss_below_the_scale"),
        case("edss", "lte", 55, "value", id="edss_55_for_5.5"),
        case("age", "between", [18, 550], "value", id="age_550"),
        case("relapses_12m", "gte", 25, "value", id="more_relapses_than_can_be_answered"),
        case("ms_type", "eq", "rrsm", "value", id="choice_typo_rrsm"),
        case("ms_type", "eq", "unsure", "value", id="choice_unsure_is_not_a_value"),
        case("ms_type", "in", ["rrms", "rrsm"], "value", id="choice_in_with_typo"),
        case("ms_type", "eq", True, "value", id="bool_for_choice"),
        case("ms_type", "in", "rrms", "value", id="in_not_a_list"),
        case("ms_type", "not_in", "rrms", "value", id="not_in_not_a_list"),
        case("ms_type", "in", [], "value", id="in_empty_list"),
        case("highly_active", "in", True, "value", id="bool_in_not_a_list"),
        case("highly_active", "eq", 1, "value", id="number_1_for_bool"),
        case("highly_active", "eq", 0, "value", id="number_0_for_bool"),
        case("highly_active", "eq", 2, "value", id="number_2_for_bool"),
        case("prior_hsct", "in", [1], "value", id="number_in_list_for_bool"),
        case("highly_active", "eq", "true", "value", id="string_for_bool"),
    ],
)
def test_check_condition_rejects(fact, operator, value, field):
    with pytest.raises(RuleError) as raised:
        check_condition(fact, operator, value)
    assert raised.value.field == field
    assert raised.value.message


def test_operators_are_the_contract_operators():
    assert set(rules.OPERATORS) == set(ALL_OPERATORS)
