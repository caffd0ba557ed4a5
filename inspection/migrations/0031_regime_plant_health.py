"""The plant-health import regime of Martinique as one table (docs/regulation.md, section 3), and one commodity
catalogue for CHED-PP and the national plant-health entry (NAT-PP uses CHED-PP's: migration 0025 had copied it)."""

import datetime
import json
from pathlib import Path

import django.db.models.deletion
from django.db import migrations, models

DATA = Path(__file__).parent / "data" / "plant_health_dom.json"

# Frozen goods are not "végétaux" (arrêté du 3 septembre 1990, art. 1): in the catalogue so that a consignment of
# them can be declared, free of requirements (no certificate, no identity or physical check).
FROZEN = [
    {
        "cn_code": "07104000",
        "description_fr": "Maïs doux, congelé",
        "description_en": "Sweet corn, frozen",
        "species": "Zea mays",
        "eppo_code": "ZEAMX",
    },
    {
        "cn_code": "08111090",
        "description_fr": "Fraises congelées, sans addition de sucre",
        "description_en": "Strawberries, frozen, without added sugar",
        "species": "Fragaria × ananassa",
        "eppo_code": "FRAAN",
    },
]

AUTHORISATION = {
    "code": "PREFECTORAL_AUTHORISATION",
    "name_fr": "Autorisation d'importation du préfet (DAAF)",
    "name_en": "Prefect's import authorisation (DAAF)",
}


def seed(apps, schema_editor):
    ched_type = apps.get_model("inspection", "ChedType")
    commodity = apps.get_model("inspection", "Commodity")
    for row in json.loads(DATA.read_text()):
        apps.get_model("inspection", "PlantHealthRequirement").objects.update_or_create(code=row["code"], defaults=row)
    apps.get_model("inspection", "DocumentType").objects.get_or_create(
        code=AUTHORISATION["code"], defaults=AUTHORISATION
    )
    plants = ched_type.objects.filter(code="CHED-PP").first()
    if plants is None:  # an empty database (the reference data migrations seed it)
        return
    for row in FROZEN:
        commodity.objects.get_or_create(
            cn_code=row["cn_code"], ched_type=plants, defaults={**row, "identity_rate": 0, "physical_rate": 0}
        )
    national = ched_type.objects.filter(code="NAT-PP").first()
    if national is None:
        return
    national.catalogue = plants
    national.save(update_fields=["catalogue"])
    line = apps.get_model("inspection", "CommodityLine")
    for copy in commodity.objects.filter(ched_type=national):
        original = commodity.objects.filter(ched_type=plants, cn_code=copy.cn_code, valid_from=copy.valid_from).first()
        if original is None:  # a line only NAT-PP had: it joins the one catalogue
            copy.ched_type = plants
            copy.save(update_fields=["ched_type"])
            continue
        line.objects.filter(commodity=copy).update(commodity=original)
        copy.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0030_part_one_boxes"),
    ]

    operations = [
        migrations.AddField(
            model_name="chedtype",
            name="catalogue",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="catalogue_borrowers",
                to="inspection.chedtype",
                verbose_name="uses the commodity catalogue of",
            ),
        ),
        migrations.CreateModel(
            name="PlantHealthRequirement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("valid_from", models.DateField(default=datetime.date(2026, 1, 1), verbose_name="valid from")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="valid to")),
                ("code", models.CharField(max_length=40, unique=True, verbose_name="code")),
                ("cn_prefix", models.CharField(max_length=10, verbose_name="CN code prefix")),
                ("description_fr", models.CharField(max_length=300, verbose_name="description (French)")),
                ("description_en", models.CharField(max_length=300, verbose_name="description (English)")),
                (
                    "origin",
                    models.CharField(
                        choices=[
                            ("union", "Mainland France and the other Member States"),
                            ("third_country", "Third countries"),
                            ("any", "Any origin"),
                        ],
                        max_length=20,
                        verbose_name="origin",
                    ),
                ),
                ("countries", models.CharField(blank=True, max_length=200, verbose_name="countries")),
                (
                    "requirement",
                    models.CharField(
                        choices=[
                            ("prohibited", "Prohibited"),
                            ("certificate", "Phytosanitary certificate and check at the post"),
                            ("free", "Free of plant-health requirements"),
                        ],
                        max_length=20,
                        verbose_name="requirement",
                    ),
                ),
                (
                    "lifted_by",
                    models.CharField(blank=True, max_length=40, verbose_name="prohibition lifted by the document"),
                ),
                ("legal_reference", models.CharField(max_length=300, verbose_name="legal reference")),
                ("source_url", models.CharField(max_length=300, verbose_name="source")),
                ("read", models.BooleanField(default=True, verbose_name="annex read")),
            ],
            options={
                "verbose_name": "plant-health requirement",
                "ordering": ["cn_prefix", "code"],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
