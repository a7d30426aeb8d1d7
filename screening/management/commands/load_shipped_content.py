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
- a row an admin has edited is left as they left it, and named, so that they can compare it with the shipped one;
  with ``--force`` it takes the shipped value too.

Rows the fixtures no longer hold are left alone; a version is never taken from a fixture.
"""

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand

from screening.models import CriteriaSet, one_version_per_set

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
KEPT_BY_THE_DATABASE = {"id", "version"}  # besides times set on save: the row's own, never a fixture's
SHIPPED_UPDATE = "Shipped update"


def compared_fields(obj):
    return [field.attname for field in obj._meta.concrete_fields
            if field.attname not in KEPT_BY_THE_DATABASE
            and not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False)]


def update_row(obj, *, force):
    """``obj`` (a shipped row; its pk that of the stored row with its code, if there is one) saved, unless that would
    change nothing, or undo what an admin did to it (unless ``force``). "added", "updated", "kept" or None."""
    model = type(obj)
    stored = model.objects.filter(pk=obj.pk).first() if obj.pk else None
    if stored is None:
        if not force and model.history.filter(history_type="-", **natural_key_of(obj)).exists():
            return "kept"  # deleted in the admin
        obj.pk = None
        outcome = "added"
    else:
        if all(getattr(stored, name) == getattr(obj, name) for name in compared_fields(obj)):
            return None
        if not force and stored.history.filter(history_user__isnull=False).exists():
            return "kept"
        for name in KEPT_BY_THE_DATABASE & {field.attname for field in obj._meta.concrete_fields}:
            setattr(obj, name, getattr(stored, name))
        outcome = "updated"
    obj._change_reason = SHIPPED_UPDATE  # simple-history's reason for the entry this save writes
    obj.save()
    return outcome


def natural_key_of(obj):
    """The fields that find ``obj`` by its code: a criterion's within its set."""
    return {"code": obj.code, **({"criteria_set_id": obj.criteria_set_id} if hasattr(obj, "criteria_set_id") else {})}


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
        outcomes = {"added": [], "updated": [], "kept": []}
        with one_version_per_set():  # a set's version goes up once, however many of its criteria change
            for path in fixtures:
                with path.open(encoding="utf-8") as stream:
                    for shipped in serializers.deserialize("json", stream):
                        outcome = update_row(shipped.object, force=force)
                        if outcome:
                            row = shipped.object
                            outcomes[outcome].append(f"{row._meta.verbose_name} “{' / '.join(row.natural_key())}”")
        self.stdout.write(f"Shipped content: {len(outcomes['added'])} added, {len(outcomes['updated'])} updated, "
                          f"{len(outcomes['kept'])} left as edited in the admin.")
        for name in outcomes["kept"]:
            self.stdout.write(f"  Left as an admin left it (edited or deleted), though the shipped one differs: "
                              f"{name}. Compare them in the admin, or run with --force to take the shipped one.")
