"""Facts + criteria → outcomes and a verdict: the rule semantics of PRODUCT.md §4.

Pure Python, no Django imports. Every comparison is three-valued: ``True``, ``False`` or ``None`` (unknown).
Numeric facts are intervals ``(lo, hi)``; a comparison is true only when it holds for every value in the
interval, false when it holds for none, and unknown otherwise. An unknown fact makes every comparison unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .facts import BOOL, CHOICE, FACTS, NUMBER

FAVOURABLE, UNFAVOURABLE, UNKNOWN = "favourable", "unfavourable", "unknown"
INCLUSION, EXCLUSION = "inclusion", "exclusion"
LIKELY, POSSIBLE, UNLIKELY = "likely", "possible", "unlikely"
VERDICTS = (LIKELY, POSSIBLE, UNLIKELY)

OPERATORS = {
    "lt": "is below",
    "lte": "is at most",
    "gt": "is above",
    "gte": "is at least",
    "between": "is between",
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
}
OPERATORS_FOR_TYPE = {
    NUMBER: ("lt", "lte", "gt", "gte", "between", "eq", "ne"),
    CHOICE: ("eq", "ne", "in", "not_in"),
    BOOL: ("eq", "ne", "in", "not_in"),
}


def negate(result):
    return None if result is None else not result


def compare_interval(interval, operator, value):
    lo, hi = interval
    if operator == "lt":
        return True if hi < value else False if lo >= value else None
    if operator == "lte":
        return True if hi <= value else False if lo > value else None
    if operator == "gt":
        return True if lo > value else False if hi <= value else None
    if operator == "gte":
        return True if lo >= value else False if hi < value else None
    if operator == "between":
        a, b = value
        return True if lo >= a and hi <= b else False if hi < a or lo > b else None
    if operator in ("eq", "ne"):
        equal = True if lo == hi == value else False if value < lo or value > hi else None
        return equal if operator == "eq" else negate(equal)
    raise ValueError(f"operator {operator!r} does not apply to a number")


def compare_value(fact_value, operator, value):
    if operator == "eq":
        return fact_value == value
    if operator == "ne":
        return fact_value != value
    if operator == "in":
        return fact_value in value
    if operator == "not_in":
        return fact_value not in value
    raise ValueError(f"operator {operator!r} does not apply to a choice or yes/no fact")


def compare(fact_value, operator, value):
    """Three-valued comparison of one fact value (interval, choice or bool) with a criterion value."""
    if fact_value is None:
        return None
    if isinstance(fact_value, tuple | list):
        return compare_interval(tuple(fact_value), operator, value)
    return compare_value(fact_value, operator, value)


@dataclass(frozen=True)
class Condition:
    """``fact operator value``: the test a criterion or a note's condition applies."""

    fact: str
    operator: str
    value: object

    def holds(self, facts: dict):
        return compare(facts.get(self.fact), self.operator, self.value)


@dataclass(frozen=True)
class Rule:
    """One criterion as the engine sees it (the fields a stored snapshot keeps, plus the teaching text)."""

    code: str
    label: str
    fact: str
    operator: str
    value: object
    kind: str = INCLUSION
    severity: str = POSSIBLE
    explanation: str = ""
    source: str = ""

    def outcome(self, facts: dict) -> str:
        holds = Condition(self.fact, self.operator, self.value).holds(facts)
        if holds is None:
            return UNKNOWN
        favourable = holds if self.kind == INCLUSION else not holds
        return FAVOURABLE if favourable else UNFAVOURABLE


@dataclass(frozen=True)
class SetResult:
    """A criteria set scored against one person's facts: each rule's outcome and the verdict."""

    verdict: str
    outcomes: tuple  # ((Rule, outcome), ...) in rule order


def verdict(outcomes) -> str:
    """The precedence of PRODUCT.md §4 over ``(rule, outcome)`` pairs."""
    if any(outcome == UNFAVOURABLE and rule.severity == UNLIKELY for rule, outcome in outcomes):
        return UNLIKELY
    if any(outcome != FAVOURABLE for _, outcome in outcomes):
        return POSSIBLE
    return LIKELY


def score(rules, facts: dict) -> SetResult:
    outcomes = tuple((rule, rule.outcome(facts)) for rule in rules)
    return SetResult(verdict(outcomes), outcomes)


@dataclass(frozen=True)
class NoteRule:
    """When a note shows: an optional condition (shown only when it is true) and optional verdicts."""

    condition: Condition | None = None
    verdicts: tuple = ()

    def shows(self, facts: dict, headline_verdict: str) -> bool:
        if self.verdicts and headline_verdict not in self.verdicts:
            return False
        return self.condition is None or self.condition.holds(facts) is True


class RuleError(ValueError):
    """A criterion or condition that cannot be evaluated; ``field`` names the part that is wrong."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def is_number(x):
    """A real, finite number (JSON's NaN and Infinity, overflowing literals like 1e999 and whole numbers too long for
    a float, are not)."""
    if not isinstance(x, int | float) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int of over 308 digits
        return False


def check_value(spec, operator, value):
    if spec.type == NUMBER:
        if operator == "between":
            if not (isinstance(value, list | tuple) and len(value) == 2 and all(map(is_number, value))):
                raise RuleError("value", "Use two numbers in a list, lowest first, for example [2, 6].")
            if value[0] > value[1]:
                raise RuleError("value", f"The range is reversed: write [{value[1]}, {value[0]}].")
        elif not is_number(value):
            raise RuleError("value", f"“{spec.name}” is a number: write a number, for example 6 or 5.5.")
        lowest, highest = spec.bounds
        for number in value if operator == "between" else [value]:
            if not lowest <= number <= highest:  # a typo (55 for 5.5, -3) would decide every result silently
                raise RuleError("value", f"“{spec.name}” runs from {lowest:g} to {highest:g}: {number:g} is outside "
                                         "it. Check for a typo (5.5, not 55).")
        return
    allowed = (True, False) if spec.type == BOOL else spec.choices
    shown = "true or false" if spec.type == BOOL else ", ".join(f'"{c}"' for c in spec.choices)
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise RuleError("value", f"Use a list of values, for example [{shown.split(', ')[0]}].")
        items = value
    else:
        items = [value]
    for item in items:
        if isinstance(item, bool) != (spec.type == BOOL) or item not in allowed:
            raise RuleError("value", f"{item!r} is not a value of “{spec.name}”. Allowed: {shown}.")


def check_condition(fact, operator, value):
    """Raise :class:`RuleError` unless ``fact operator value`` can be evaluated: the fact exists, the operator
    suits its type, and the value parses for it."""
    spec = FACTS.get(fact)
    if spec is None:
        raise RuleError("fact", f"There is no fact called “{fact}”.")
    if operator not in OPERATORS_FOR_TYPE[spec.type]:
        allowed = ", ".join(OPERATORS_FOR_TYPE[spec.type])
        raise RuleError("operator", f"“{operator}” does not suit the {spec.type} fact “{fact}”. Use one of: {allowed}.")
    check_value(spec, operator, value)
