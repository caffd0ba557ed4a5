"""The audit trail becomes an append-only hash chain (issue 6): every event gets its place (`seq`), the hash
of the event before it and its own; existing events are chained in id order; the database then refuses
UPDATE and DELETE on the events and the checkpoints (triggers on SQLite and PostgreSQL)."""

import django.core.serializers.json
import django.db.models.functions.comparison
from django.db import migrations, models

import inspection.models.audit

TABLES = ("inspection_auditevent", "inspection_auditcheckpoint")


def chain_existing_events(apps, schema_editor):
    from inspection.audit_chain import GENESIS, canonical_json, canonical_time, event_hash

    AuditEvent = apps.get_model("inspection", "AuditEvent")
    prev_hash = GENESIS
    for seq, event in enumerate(AuditEvent.objects.order_by("id").iterator(chunk_size=2000), start=1):
        event.seq, event.prev_hash = seq, prev_hash
        event.event_hash = prev_hash = event_hash(
            seq=seq,
            prev_hash=event.prev_hash,
            occurred_at=canonical_time(event.occurred_at),
            actor_id=event.actor_id,
            role=event.role,
            action=event.action,
            consignment_id=event.consignment_id,
            data_text=canonical_json(event.data),
        )
        event.save(update_fields=["seq", "prev_hash", "event_hash", "data"])


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
                )
        elif vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pif_refuse_audit_change()"
            )
        else:
            raise RuntimeError(f"no append-only trigger for the {vendor} backend")


def create_trigger_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Lock and read the head in one round trip: a VOLATILE plpgsql function takes a new snapshot for each
        # statement, so the head is read after the lock is granted (one SELECT doing both would not see an
        # append committed while it waited).
        schema_editor.execute(
            """CREATE OR REPLACE FUNCTION pif_audit_lock_head(lock_key bigint)
            RETURNS TABLE (head_seq bigint, head_hash varchar) LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                RETURN QUERY SELECT e.seq, e.event_hash FROM inspection_auditevent e ORDER BY e.seq DESC LIMIT 1;
            END $$"""
        )
        schema_editor.execute(
            """CREATE OR REPLACE FUNCTION pif_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$"""
        )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS pif_refuse_audit_change()")
        schema_editor.execute("DROP FUNCTION IF EXISTS pif_audit_lock_head(bigint)")


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0011_certificates"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="position in the chain"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="hash of the previous event"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="event_hash",
            field=models.CharField(default="", max_length=64, verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="data",
            field=inspection.models.audit.CanonicalJSONField(
                default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, verbose_name="data"
            ),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="position in the chain"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="data_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast("data", models.TextField()),
                output_field=models.TextField(),
            ),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(verbose_name="last event")),
                ("event_hash", models.CharField(max_length=64, verbose_name="hash of the last event")),
                ("recorded_at", models.DateTimeField(verbose_name="recorded")),
            ],
            options={"verbose_name": "audit checkpoint", "ordering": ["id"]},
        ),
        migrations.RunPython(create_trigger_function, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
