"""Reference data in force from 1 January 2026 (`data/reference_2026.json`), and the role groups.

A later change of rules is a new migration with new rows (and `valid_to` on the old ones), never an edit of
this file: past consignments stay judged by the rules of their date."""

import datetime
import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).parent / "data" / "reference_2026.json"
ROLES = ["importer", "inspector", "certifying_officer", "supervisor", "lab", "admin"]


def _dates(row):
    return {
        "valid_from": datetime.date.fromisoformat(row["valid_from"])
        if row.get("valid_from")
        else datetime.date(2026, 1, 1),
        "valid_to": datetime.date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
    }


def _names(row):
    return {"name_fr": row["name_fr"], "name_en": row["name_en"]}


def load(apps, schema_editor):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    get = apps.get_model
    ChedType = get("inspection", "ChedType")
    types = {row["code"]: ChedType.objects.create(code=row["code"], **_names(row)) for row in data["ched_types"]}
    for row in data["bcps"]:
        bcp = get("inspection", "Bcp").objects.create(
            code=row["code"], unlocode=row["unlocode"], kind=row["kind"], **_names(row), **_dates(row)
        )
        for approval in row["approvals"]:
            get("inspection", "BcpApproval").objects.create(
                bcp=bcp, ched_type=types[approval["ched_type"]], short_notice=approval["short_notice"], **_dates(row)
            )
    get("inspection", "Commodity").objects.bulk_create(
        get("inspection", "Commodity")(
            cn_code=row["cn_code"],
            ched_type=types[row["ched_type"]],
            description_fr=row["description_fr"],
            description_en=row["description_en"],
            species=row["species"],
            eppo_code=row["eppo_code"],
            identity_rate=row["identity_rate"],
            physical_rate=row["physical_rate"],
            **_dates(row),
        )
        for row in data["commodities"]
    )
    for row in data["document_types"]:
        document_type = get("inspection", "DocumentType").objects.create(code=row["code"], **_names(row))
        document_type.required_for.set([types[code] for code in row["required_for"]])
    for key, model in (
        ("purposes", "Purpose"),
        ("package_types", "PackageType"),
        ("measures", "Measure"),
        ("refusal_reasons", "RefusalReason"),
    ):
        get("inspection", model).objects.bulk_create(
            get("inspection", model)(code=row["code"], **_names(row)) for row in data[key]
        )
    get("inspection", "DecisionCode").objects.bulk_create(
        get("inspection", "DecisionCode")(code=row["code"], acceptable=row["acceptable"], **_names(row))
        for row in data["decisions"]
    )
    get("inspection", "Holiday").objects.bulk_create(
        get("inspection", "Holiday")(date=datetime.date.fromisoformat(row["date"]), **_names(row))
        for row in data["holidays"]
    )
    Group = get("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)


class Migration(migrations.Migration):
    dependencies = [("inspection", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
