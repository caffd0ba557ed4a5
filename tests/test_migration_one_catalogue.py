"""Migration 0031 merges NAT-PP's copy of the CHED-PP catalogue back (one source, docs/decisions/0013): a line
that pointed at a copy points at the CHED-PP row of the same CN code, and the copies are gone."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("inspection", "0030_part_one_boxes")]
AFTER = [("inspection", "0031_regime_plant_health")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_national_entry_lines_move_to_the_one_catalogue():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    ched_type, commodity = apps.get_model("inspection", "ChedType"), apps.get_model("inspection", "Commodity")
    national = ched_type.objects.get(code="NAT-PP")
    original = commodity.objects.get(ched_type__code="CHED-PP", cn_code="08045000")
    # migration 0025 copied each CHED-PP line to NAT-PP (going back past 0031 does not bring the copies back)
    copy = commodity.objects.create(
        **{f.name: getattr(original, f.name) for f in commodity._meta.concrete_fields if f.name not in ("id",)}
        | {"ched_type": national}
    )
    user = apps.get_model("auth", "User").objects.create(username="grower")
    operator = apps.get_model("inspection", "Operator").objects.create(name="Vergers du Var", address="Toulon")
    consignment = apps.get_model("inspection", "Consignment").objects.create(
        reference="NATPP.FR.2026.0000001", ched_type=national, operator=operator, created_by=user
    )
    line = apps.get_model("inspection", "CommodityLine").objects.create(
        consignment=consignment, commodity=copy, cn_code="08045000"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    commodity = apps.get_model("inspection", "Commodity")
    line = apps.get_model("inspection", "CommodityLine").objects.get(pk=line.pk)
    assert line.commodity.ched_type.code == "CHED-PP" and line.commodity.cn_code == "08045000"
    assert not commodity.objects.filter(ched_type__code="NAT-PP").exists()
    assert apps.get_model("inspection", "ChedType").objects.get(code="NAT-PP").catalogue.code == "CHED-PP"

    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())  # leave the database as found
