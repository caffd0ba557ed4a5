"""The legal public holidays are computed for any year (`inspection.working_days`): the rows seeded for 2026
and 2027 that the law sets are removed; Good Friday, closed in Martinique by local custom and in no national
text, stays as a local non-working day."""

import json
from pathlib import Path

from django.db import migrations

SEEDED = Path(__file__).parent / "data" / "reference_2026.json"


def remove_legal_holidays(apps, schema_editor):
    seeded = json.loads(SEEDED.read_text())["holidays"]
    legal = [row["date"] for row in seeded if row["name_en"] != "Good Friday"]
    apps.get_model("inspection", "Holiday").objects.filter(date__in=legal).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0015_dashboard_period_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="holiday",
            options={"ordering": ["date"], "verbose_name": "local non-working day"},
        ),
        migrations.RunPython(remove_legal_holidays, migrations.RunPython.noop),
    ]
