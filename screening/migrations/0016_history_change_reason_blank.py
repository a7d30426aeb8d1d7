"""History entries saved before 0016 without a change reason (an admin's Save) hold NULL, which the history page
prints as the word "None"; they are given the empty reason entries get now."""

from django.db import migrations

HISTORICAL_MODELS = ["HistoricalCriteriaSet", "HistoricalCriterion", "HistoricalNote", "HistoricalReferenceCase"]


def blank_reasons(apps, schema_editor):
    for name in HISTORICAL_MODELS:
        apps.get_model("screening", name).objects.filter(history_change_reason__isnull=True).update(
            history_change_reason="")


class Migration(migrations.Migration):
    dependencies = [("screening", "0015_screening_scored_primary_set")]
    operations = [migrations.RunPython(blank_reasons, migrations.RunPython.noop)]
