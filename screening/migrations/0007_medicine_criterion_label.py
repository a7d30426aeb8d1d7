"""The shipped medicine criterion said "your current medicine", but the questionnaire asks about medicines ever
taken (PRODUCT.md §3). New databases load the new words from fixtures/*.json; this corrects those loaded before,
where an admin has not reworded it."""

from django.db import migrations

OLD, NEW = "MS not already kept quiet by your current medicine", "MS not already kept quiet by an MS medicine"


def reword(apps, schema_editor):
    apps.get_model("screening", "Criterion").objects.filter(label=OLD).update(label=NEW)


def unword(apps, schema_editor):
    apps.get_model("screening", "Criterion").objects.filter(label=NEW).update(label=OLD)


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0006_screening_opened_by"),
    ]

    operations = [migrations.RunPython(reword, unword)]
