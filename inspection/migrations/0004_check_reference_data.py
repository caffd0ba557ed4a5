"""Laboratories, analyses and reinforced check rules in force from 1 January 2026 (`data/checks_2026.json`)."""

import datetime
import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).parent / "data" / "checks_2026.json"
IN_FORCE = datetime.date(2026, 1, 1)


def load(apps, schema_editor):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    get = apps.get_model
    for row in data["laboratories"]:
        get("inspection", "Laboratory").objects.create(valid_from=IN_FORCE, **row)
    for row in data["analyses"]:
        get("inspection", "Analysis").objects.create(valid_from=IN_FORCE, **row)
    types = {t.code: t for t in get("inspection", "ChedType").objects.all()}
    for row in data["reinforced_rules"]:
        get("inspection", "ReinforcedCheckRule").objects.create(
            valid_from=IN_FORCE, **{**row, "ched_type": types[row["ched_type"]]}
        )


class Migration(migrations.Migration):
    dependencies = [("inspection", "0003_workflow_records")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
