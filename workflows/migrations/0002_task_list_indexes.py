"""Indexes for the task lists on viewflow's own table (added by us, viewflow is not patched): the inbox
filters by owner and status, the queue by status and permission, both ordered by creation
(VERIFIED.md: 22 ms -> 5.5 ms per page at 10,000 open tasks)."""

from django.db import migrations

INDEXES = {
    "pif_task_inbox": "owner_id, status, created",
    "pif_task_queue": "status, owner_permission, created",
}


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial"), ("viewflow", "0015_task_scheduled")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON viewflow_task ({columns})",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
