"""``manage.py screen ANSWERS.json [--set CODE | --all-sets] [--today YYYY-MM-DD]`` (PRODUCT.md §7).

Validates the answers with the questionnaire's own forms, scores them, and prints JSON. Writes nothing.
Invalid input: exit status 2 and one line per problem on stderr, each starting with the answer key.
"""

import json
import sys
from datetime import date

from django.core.management.base import BaseCommand

from screening.forms import StrictJSONDecoder, validate_answers
from screening.models import CriteriaSet
from screening.services import NoPrimarySet, evaluate


class BadInput(Exception):
    def __init__(self, *lines):
        super().__init__("\n".join(lines))
        self.lines = lines


def stdin_bytes():
    buffer = getattr(sys.stdin, "buffer", None)  # none when stdin was replaced by text (e.g. call_command in code)
    return buffer.read() if buffer else sys.stdin.read().encode("utf-8", "surrogateescape")


def read_answers(path):
    try:  # as bytes (stdin's text layer may turn bytes that are not UTF-8 into "lone surrogates"); a BOM is allowed
        text = (stdin_bytes().decode("utf-8-sig") if path == "-" else open(path, encoding="utf-8-sig").read())
    except OSError as error:
        raise BadInput(f"answers: cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"answers: {'standard input' if path == '-' else path} is not UTF-8 text") from None
    try:
        raw = json.loads(text, cls=StrictJSONDecoder)
    except json.JSONDecodeError as error:
        raise BadInput(f"answers: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(raw, dict):
        raise BadInput("answers: expected a JSON object of answer keys and values")
    return raw


def parse_today(text):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"today: {text!r} is not a date in the form YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Score an answers JSON file against the criteria sets and print the result as JSON."

    def add_arguments(self, parser):
        parser.add_argument("answers", help="Path to the answers JSON, or - for standard input.")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--set", dest="set_code", help="Score this criteria set (its code) instead of the primary.")
        which.add_argument("--all-sets", action="store_true", help="Score every active set, primary first.")
        parser.add_argument("--today", help="The date to score on (YYYY-MM-DD); default: today.")

    def handle(self, *args, answers, set_code, all_sets, today, **options):
        try:
            result = self.screen(answers, set_code, all_sets, today)
        except BadInput as error:
            for line in error.lines:
                self.stderr.write(line, style_func=lambda text: text)
            sys.exit(2)
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

    def screen(self, path, set_code, all_sets, today_text):
        today = parse_today(today_text) if today_text else date.today()
        answers, problems = validate_answers(read_answers(path), today)
        if problems:
            raise BadInput(*(f"{key}: {message}" for key, message in problems))
        try:
            evaluation = evaluate(answers, today, [set_code] if set_code else None)
        except CriteriaSet.DoesNotExist:
            raise BadInput(f"set: there is no active criteria set with code {set_code!r}") from None
        except NoPrimarySet:
            raise BadInput("set: no active primary criteria set (load fixtures/*.json)") from None
        return {
            "today": today.isoformat(),
            "facts": evaluation.facts,
            "results": [
                {"set": r["set"], "primary": r["primary"], "version": r["version"], "verdict": r["verdict"],
                 "criteria": [{"code": c["code"], "label": c["label"], "outcome": c["outcome"]} for c in r["criteria"]]}
                for r in (evaluation.results if all_sets or set_code else evaluation.results[:1])
            ],
            "notes": [{"code": n.code, "kind": n.kind, "title": n.title, "source": n.source} for n in evaluation.notes],
        }
