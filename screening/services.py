"""Scoring and the few writes that touch several models.

``evaluate`` scores answers against the criteria in the database without writing anything (the ``screen``
command and previews use it); ``screening_create`` stores the result as an immutable snapshot.
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from . import rules
from .facts import derive_facts
from .models import CriteriaSet, Note, Screening


class NoPrimarySet(Exception):
    """There is no active primary criteria set, so there is no headline result to give."""


@dataclass(frozen=True)
class Evaluation:
    """Answers scored on one day against a list of criteria sets: the facts, one result per set, the notes."""

    today: date
    answers: dict
    facts: dict
    results: list  # snapshot entries, one per set, headline first
    notes: list  # Note rows that match the headline verdict and the facts

    @property
    def headline(self):
        return self.results[0]


def snapshot_entry(criteria_set: CriteriaSet, result: rules.SetResult) -> dict:
    """The immutable record of one set's evaluation: the criteria as they were, each outcome, the verdict."""
    return {
        "set": criteria_set.code,
        "name": criteria_set.name,
        "citation": criteria_set.citation,
        "primary": criteria_set.is_primary,
        "version": criteria_set.version,
        "verdict": result.verdict,
        "criteria": [
            {"code": rule.code, "label": rule.label, "fact": rule.fact, "operator": rule.operator,
             "value": rule.value, "kind": rule.kind, "severity": rule.severity,
             "explanation": rule.explanation, "source": rule.source, "outcome": outcome}
            for rule, outcome in result.outcomes
        ],
    }


def json_facts(facts: dict) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in facts.items()}


def evaluate(answers: dict, today: date, set_codes=None) -> Evaluation:
    """Score validated answers against active sets (all of them, or those in ``set_codes``, in that order).

    Three queries whatever the number of sets, criteria and notes. Raises ``CriteriaSet.DoesNotExist`` for an
    unknown code and :class:`NoPrimarySet` when no set is requested and none is primary.
    """
    facts = derive_facts(answers, today)
    sets = list(CriteriaSet.objects.for_scoring())
    if set_codes:
        by_code = {s.code: s for s in sets}
        missing = [code for code in set_codes if code not in by_code]
        if missing:
            raise CriteriaSet.DoesNotExist(", ".join(missing))
        sets = [by_code[code] for code in set_codes]
    elif not sets or not sets[0].is_primary:
        raise NoPrimarySet()
    results = [snapshot_entry(s, rules.score(s.rules(), facts)) for s in sets]
    headline_verdict = results[0]["verdict"]
    notes = [note for note in Note.objects.filter(active=True).order_by("kind", "order", "code")
             if note.to_rule().shows(facts, headline_verdict)]
    return Evaluation(today=today, answers=answers, facts=json_facts(facts), results=results, notes=notes)


@transaction.atomic
def screening_create(*, answers: dict, today: date) -> Screening:
    """Score validated answers against every active set and store the immutable snapshot."""
    evaluation = evaluate(answers, today)
    return Screening.objects.create(
        answers=answers, facts=evaluation.facts, snapshot=evaluation.results, scored_on=today,
        primary_verdict=evaluation.headline["verdict"],
    )
