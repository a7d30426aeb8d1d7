"""``manage.py load_shipped_content [--force]``: the shipped criteria sets, criteria, notes and reference cases
(fixtures/*.json), into an empty database or over a release's older ones.

An empty database gets them all. Loading writes no change history, so a baseline history record is made for every
shipped row: the first admin edit then shows its diff against the shipped value.

A database that has them already (a new release deployed, ``make run`` again) is brought up to date row by row, each
shipped row found by its code:

- a row it does not have yet is added;
- a row nobody has edited in the admin takes the shipped value where that changed (a corrected figure, a source):
  saved through the model, so a set whose criteria change moves up one version, as an admin's Save does, and the
  row's history says "Shipped update";
- a row an admin has made, edited (more than a version) or deleted is left as they left it, a deleted set's
  criteria with it; where this release changed that row, it is named, so that they can compare it with the shipped
  one. With ``--force`` it takes the shipped value too.

Which set is primary is never taken from a fixture (the admins choose it, in the admin), nor is a stored set's
version.

Then it says what the deployer may have to do:

- rows the fixtures no longer hold (this release removed them, or renamed them: a new code) that an earlier release
  shipped (not made in the admin) and that are still in use are named: they are left as they are, to be deactivated
  or deleted in the admin, or carried over to their new code by a data migration. They are not deactivated here: a
  row missing from the fixtures may be a removal, a rename without its migration or a fixture file lost, and taking
  criteria out of use changes what patients are scored on, which is the admins' call, made in the admin with its
  preview and audit;
- a reference case that the admin's check (of the saved criteria) says fails after this load and did not fail so
  before it is named, with the edits kept from the admin in its set that likely explain it (a case that took the
  shipped update while the criterion it tests was left as an admin left it).
"""

import json
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.text import capfirst

from screening import services
from screening.models import CriteriaSet, Criterion, Note, ReferenceCase, one_version_per_set, saved_fields

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
# The row's own, never a fixture's (besides the times set on save): which set is primary is the admins' choice
# (made in the admin, which keeps the one-primary rule and audits it), and a version follows the criteria.
KEPT_BY_THE_DATABASE = {"id", "version", "is_primary"}
SHIPPED_UPDATE = "Shipped update"
SHIPPED_MODELS = (CriteriaSet, Criterion, Note, ReferenceCase)


def compared_fields(obj):
    return [name for name in saved_fields(obj) if name not in KEPT_BY_THE_DATABASE]


def same(obj, other):
    return all(getattr(other, name) == getattr(obj, name) for name in compared_fields(obj))


def natural_key_of(obj):
    """The fields that find ``obj`` by its code: a criterion's within its set."""
    return {"code": obj.code, **({"criteria_set_id": obj.criteria_set_id} if hasattr(obj, "criteria_set_id") else {})}


def named(model, *key):
    """A row as the output names it: ``criterion “article / edss_below_6”``."""
    return f"{model._meta.verbose_name} “{' / '.join(key)}”"


def made_in_admin(records):
    """Whether a person added (in the admin) the row these history records are of: a release's load adds rows as
    no one."""
    return records.filter(history_user__isnull=False, history_type="+").exists()


def touched_in_admin(records):
    """Whether a person made, changed (more than a version, as a criterion's edit moves its set's) or deleted the
    row these history records are of."""
    if made_in_admin(records):
        return True
    for record in records.filter(history_user__isnull=False):
        previous = record.prev_record
        if previous is None or record.history_type == "-" or (
                set(record.diff_against(previous).changed_fields) - KEPT_BY_THE_DATABASE):
            return True
    return False


def update_row(obj, *, force):
    """``obj`` (a shipped row; its pk that of the stored row with its code, if there is one) saved, unless that would
    change nothing, or undo what an admin did to it (unless ``force``). "added", "updated", "kept" (only where this
    release's value differs from the last one shipped to this database, so that it says what is new) or None."""
    model = type(obj)
    stored = model.objects.filter(pk=obj.pk).first() if obj.pk else None
    if stored is not None and same(obj, stored):
        return None
    records = model.history.filter(**natural_key_of(obj))
    if not force and touched_in_admin(records):
        last_shipped = records.filter(history_user__isnull=True).exclude(history_type="-").first()
        return None if last_shipped is not None and same(obj, last_shipped) else "kept"
    if stored is None:
        obj.pk = None
    else:
        for name in KEPT_BY_THE_DATABASE & {field.attname for field in obj._meta.concrete_fields}:
            setattr(obj, name, getattr(stored, name))
    obj._change_reason = SHIPPED_UPDATE  # simple-history's reason for the entry this save writes
    obj.save()
    return "added" if stored is None else "updated"


def shipped_rows(path):
    """The rows of a fixture file, as unsaved objects; a criterion whose set is not here (deleted in the admin, and
    named as such) is left out."""
    for row in json.loads(path.read_text(encoding="utf-8")):
        if row["model"] == "screening.criterion" and not CriteriaSet.objects.filter(
                code=row["fields"]["criteria_set"][0]).exists():
            continue
        yield from (shipped.object for shipped in serializers.deserialize("python", [row]))


def no_longer_shipped(shipped):
    """The stored rows still in use whose natural keys (``(model, *natural_key_of(row).values())``) are not in
    ``shipped``, and that no one made in the admin: an earlier release's, that this one removed or renamed. A set's
    criteria are named with it."""
    gone = {model: [row for row in model.objects.all() if (model, *natural_key_of(row).values()) not in shipped]
            for model in SHIPPED_MODELS}
    gone_sets = {criteria_set.pk for criteria_set in gone[CriteriaSet]}
    return [row for model, rows in gone.items() for row in rows
            if row.active and getattr(row, "criteria_set_id", None) not in gone_sets
            and not made_in_admin(model.history.filter(**natural_key_of(row)))]


def failing_cases():
    """``{case code: {set code: {"verdict", "expected", "agrees"}}}``: the active reference cases checked against
    every set's saved criteria, as the admin checks them."""
    results = services.reference_case_results(services.saved_rules(CriteriaSet.objects.all()))
    return {row["case"].code: row["verdicts"] for row in results}


def newly_failing(before, after):
    """``[(case code, set code)]`` where a case disagrees with the verdict it expects (``after``, as
    :func:`failing_cases` gives it), and did not disagree so ``before``."""
    return [(case, code) for case, verdicts in after.items() for code, verdict in verdicts.items()
            if not verdict["agrees"] and before.get(case, {}).get(code) != verdict]


def kept_admin_edits(case_code, set_code):
    """What an admin made, changed or deleted, and a load keeps, that may make the case fail under the set: the
    set's criteria, and the case itself."""
    criteria_set = CriteriaSet.objects.get(code=set_code)
    criteria = Criterion.history.filter(criteria_set_id=criteria_set.pk)
    codes = criteria.order_by("code").values_list("code", flat=True).distinct()
    edits = [named(Criterion, set_code, code) for code in codes if touched_in_admin(criteria.filter(code=code))]
    if touched_in_admin(ReferenceCase.history.filter(code=case_code)):
        edits.append(named(ReferenceCase, case_code))
    return edits


class Command(BaseCommand):
    help = ("Load the shipped criteria sets, notes and reference cases (fixtures/*.json); over existing ones, update "
            "the rows nobody edited in the admin (--force: those too).")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Take the shipped value also where an admin has edited a row.")

    def handle(self, *args, force, **options):
        fixtures = sorted(FIXTURES_DIR.glob("*.json"))
        if not CriteriaSet.objects.exists():
            call_command("loaddata", *map(str, fixtures), verbosity=options["verbosity"])
            call_command("populate_history", auto=True, verbosity=0)
            return
        outcomes, new_sets, shipped = {"added": [], "updated": [], "kept": []}, set(), set()
        cases_before = failing_cases()
        with one_version_per_set() as moving:  # a set's version goes up once, however many of its criteria change
            for path in fixtures:
                for row in shipped_rows(path):
                    outcome = update_row(row, force=force)
                    shipped.add((type(row), *natural_key_of(row).values()))
                    if outcome:
                        outcomes[outcome].append(named(type(row), *row.natural_key()))
                    if outcome == "added" and isinstance(row, CriteriaSet):
                        new_sets.add(row.pk)
            moving -= new_sets  # a set new in this release starts at its shipped version, with its criteria
        self.stdout.write(f"Shipped content: {len(outcomes['added'])} added, {len(outcomes['updated'])} updated, "
                          f"{len(outcomes['kept'])} left as edited in the admin.")
        for name in outcomes["kept"]:
            self.stdout.write(f"  Left as an admin left it (edited or deleted), though this release changed it: "
                              f"{name}. Compare them in the admin, or run with --force to take the shipped one.")
        dropped = no_longer_shipped(shipped)
        for row in dropped:
            name = named(type(row), *row.natural_key())
            self.stdout.write(f"  No longer shipped, left as it is and still in use: "
                              f"{name}{' (with its criteria)' if isinstance(row, CriteriaSet) else ''}.")
        if dropped:
            self.stdout.write("  To take one out of use, deactivate or delete it in the admin. Where this release "
                              "renamed one (a new code), the new one was added beside it: a rename needs a data "
                              "migration that renames the stored row.")
        cases_after = failing_cases()
        for case, code in newly_failing(cases_before, cases_after):
            verdict, edits = cases_after[case][code], kept_admin_edits(case, code)
            self.stdout.write(
                f"  {capfirst(named(ReferenceCase, case))} now fails the admin's check: “{verdict['verdict']}” under "
                f"{named(CriteriaSet, code)}, where “{verdict['expected']}” is expected. " + (
                    f"Likely why, kept as edited in the admin: {', '.join(edits)}." if edits else
                    "No edit kept from the admin explains it: compare the case with the set's criteria in the admin."))
