"""The audit events are sealed with the audit key (issue 16, docs/decisions/0010-keyed-audit-chain.md): each gets
a `mac`; the events already written are sealed now, with the key of this deployment (a seal proves nothing
about what happened to them before this migration: the checkpoints emailed until then do). The append-only
triggers of the events are dropped while the column is added and filled, then created again (SQLite rebuilds
the table, which drops its triggers)."""

from django.db import migrations, models
from django.db.models import TextField
from django.db.models.functions import Cast

TABLE = "inspection_auditevent"


def drop_event_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op}")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


def create_event_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {op} refused'); END"
            )
    else:
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION pif_refuse_audit_change()"
        )


def seal_existing_events(apps, schema_editor):
    from django.conf import settings

    from inspection.audit_chain import canonical_time, derived_key, event_body, event_mac, event_seal

    key = derived_key(settings.PIF_AUDIT_KEY, "event")
    AuditEvent = apps.get_model("inspection", "AuditEvent")
    rows = (
        AuditEvent.objects.using(schema_editor.connection.alias)
        .annotate(d=Cast("data", TextField()))
        .order_by("id")
        .values_list("id", "event_hash", "occurred_at", "actor_id", "role", "action", "consignment_id", "d")
    )
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for pk, stored, occurred_at, actor, role, action, consignment, data in rows.iterator(chunk_size=2000):
            body = event_body(
                occurred_at=canonical_time(occurred_at),
                actor_id=actor,
                role=role,
                action=action,
                consignment_id=consignment,
                data_text=data,
            )
            batch.append((event_mac(event_seal(key, body), stored), pk))
            if len(batch) == 2000:
                cursor.executemany(f"UPDATE {TABLE} SET mac = %s WHERE id = %s", batch)  # noqa: S608
                batch = []
        if batch:
            cursor.executemany(f"UPDATE {TABLE} SET mac = %s WHERE id = %s", batch)  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0025_decisions_national_entry"),
    ]

    operations = [
        migrations.RunPython(drop_event_triggers, create_event_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(default="", max_length=64, verbose_name="audit key seal"),
        ),
        migrations.RunPython(seal_existing_events, migrations.RunPython.noop),
        migrations.RunPython(create_event_triggers, drop_event_triggers),
    ]
