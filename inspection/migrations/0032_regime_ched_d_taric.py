"""Implementing Regulation (EU) 2019/1793 as written: an "ex" CN code covers only the TARIC subdivisions its annex
names, and Annex II point 3 (goods dispatched from another country than their origin) is a rule keyed on the
country of dispatch (box I.14, recorded since migration 0030). docs/regulation.md, section 4.

The TARIC subdivisions are a correction of how migration 0018 read the same text (it took "ex" codes whole), so
the rows are completed in place rather than superseded."""

import datetime
import json
from pathlib import Path

from django.db import migrations, models

DATA = Path(__file__).parent / "data" / "ched_d_2019_1793.json"
TARIC_LINES = [
    {
        "cn_code": "0709609920",
        "description_fr": "Piments du genre Capsicum (autres que doux), frais ou réfrigérés (TARIC 20)",
        "description_en": "Peppers of the genus Capsicum (other than sweet), fresh or chilled (TARIC 20)",
        "species": "Capsicum spp.",
        "eppo_code": "",
        "identity_rate": 20,
        "physical_rate": 20,
    },
    {
        "cn_code": "0708200010",
        "description_fr": "Haricots kilomètre (Vigna unguiculata ssp. sesquipedalis), frais ou réfrigérés (TARIC 10)",
        "description_en": "Yardlong beans (Vigna unguiculata ssp. sesquipedalis), fresh or chilled (TARIC 10)",
        "species": "Vigna unguiculata",
        "eppo_code": "",
        "identity_rate": 20,
        "physical_rate": 20,
    },
]


def _reference(row) -> str:
    return f"Implementing Regulation (EU) 2019/1793, Annex {row['annex']}, row {row['row']}"


def complete(apps, schema_editor):
    ched_d = apps.get_model("inspection", "ChedType").objects.filter(code="CHED-D").first()
    if ched_d is None:  # an empty database (the reference data migrations seed it)
        return
    rules = apps.get_model("inspection", "ReinforcedCheckRule")
    data = json.loads(DATA.read_text())
    valid_from = datetime.date.fromisoformat(data["valid_from"])
    for row in data["rules"]:
        rules.objects.filter(
            ched_type=ched_d,
            country=row["country"],
            cn_prefix=row["cn_prefix"],
            hazard=row["hazard"],
            legal_reference=_reference(row),
            valid_from=valid_from,
        ).update(taric=row["taric"], ex_code=row["ex"], goods=row["goods"][:300])
    for row in data["dispatch_rules"]:
        rules.objects.get_or_create(
            ched_type=ched_d,
            country=row["country"],
            country_of_dispatch=row["country_of_dispatch"],
            cn_prefix=row["cn_prefix"],
            taric=row["taric"],
            hazard=row["hazard"],
            valid_from=valid_from,
            defaults={
                "identity_rate": row["frequency"],
                "physical_rate": row["frequency"],
                "certificate_required": row["certificate_required"],
                "legal_reference": _reference(row),
                "ex_code": row["ex"],
                "goods": row["goods"],
            },
        )
    commodity = apps.get_model("inspection", "Commodity")
    for line in TARIC_LINES:
        commodity.objects.get_or_create(
            ched_type=ched_d,
            cn_code=line["cn_code"],
            valid_from=datetime.date(2026, 2, 18),
            defaults=line,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0031_regime_plant_health"),
    ]

    operations = [
        migrations.AddField(
            model_name="reinforcedcheckrule",
            name="country_of_dispatch",
            field=models.CharField(blank=True, max_length=2, verbose_name="country of dispatch"),
        ),
        migrations.AddField(
            model_name="reinforcedcheckrule",
            name="ex_code",
            field=models.BooleanField(default=False, verbose_name='covers only part of the CN code ("ex")'),
        ),
        migrations.AddField(
            model_name="reinforcedcheckrule",
            name="goods",
            field=models.CharField(blank=True, max_length=300, verbose_name="goods, as the text names them"),
        ),
        migrations.AddField(
            model_name="reinforcedcheckrule",
            name="taric",
            field=models.CharField(blank=True, max_length=40, verbose_name="TARIC subdivisions"),
        ),
        migrations.RunPython(complete, migrations.RunPython.noop),
    ]
