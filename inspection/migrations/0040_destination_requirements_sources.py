"""The destination's import requirements with their sources (docs/regulation.md, section 9): a code, the text and
article read (`legal_reference`), whether the text itself was read (`read`), several HS prefixes, two new kinds
(certificate required, none required), and the researched rows of `data/destination_requirements.json`."""

import datetime
import json
from pathlib import Path

import django.core.validators
from django.db import migrations, models

DATA = Path(__file__).parent / "data" / "destination_requirements.json"


def number_existing(apps, schema_editor):
    """Rows the post entered in the admin before this migration get a code of their own."""
    requirement = apps.get_model("inspection", "DestinationRequirement")
    for row in requirement.objects.filter(code=""):
        row.code = f"POST-{row.pk}"
        row.save(update_fields=["code"])


def seed(apps, schema_editor):
    requirement = apps.get_model("inspection", "DestinationRequirement")
    for row in json.loads(DATA.read_text(encoding="utf-8")):
        values = {
            **row,
            "checked_on": datetime.date.fromisoformat(row["checked_on"]),
            "valid_from": datetime.date.fromisoformat(row["valid_from"]),
            "valid_to": datetime.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        }
        requirement.objects.update_or_create(code=values.pop("code"), defaults=values)


def unseed(apps, schema_editor):
    """Backwards: the researched rows go, and a row entered since with several HS prefixes keeps its first (the
    column is 10 characters again before this migration)."""
    requirement = apps.get_model("inspection", "DestinationRequirement")
    codes = [row["code"] for row in json.loads(DATA.read_text(encoding="utf-8"))]
    requirement.objects.filter(code__in=codes).delete()
    for row in requirement.objects.filter(hs_prefix__contains=" "):
        row.hs_prefix = row.hs_prefix.split()[0]
        row.save(update_fields=["hs_prefix"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0039_decision_fees"),
    ]

    operations = [
        migrations.AddField(
            model_name="destinationrequirement",
            name="code",
            field=models.CharField(default="", max_length=40, verbose_name="code"),
            preserve_default=False,
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="destinationrequirement",
            name="code",
            field=models.CharField(max_length=40, unique=True, verbose_name="code"),
        ),
        migrations.AddField(
            model_name="destinationrequirement",
            name="legal_reference",
            field=models.CharField(
                blank=True, max_length=500, verbose_name="legal reference (text, article or section)"
            ),
        ),
        migrations.AddField(
            model_name="destinationrequirement",
            name="read",
            field=models.BooleanField(
                default=True,
                help_text="Unticked: an assumption, the text itself was not read.",
                verbose_name="text read",
            ),
        ),
        migrations.AlterField(
            model_name="destinationrequirement",
            name="hs_prefix",
            field=models.CharField(
                blank=True,
                help_text="Separated by spaces. Empty: every commodity.",
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "^(\\d{2,10}( \\d{2,10})*)?$", "HS codes of 2 to 10 digits, separated by one space."
                    )
                ],
                verbose_name="HS codes (or their first digits)",
            ),
        ),
        migrations.AlterField(
            model_name="destinationrequirement",
            name="kind",
            field=models.CharField(
                choices=[
                    ("certificate", "Phytosanitary certificate required"),
                    ("not_required", "No phytosanitary certificate required"),
                    ("additional_declaration", "Additional declaration"),
                    ("treatment", "Treatment"),
                    ("inspection", "Inspection or testing"),
                    ("permit", "Import permit"),
                    ("other", "Other"),
                ],
                max_length=30,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
