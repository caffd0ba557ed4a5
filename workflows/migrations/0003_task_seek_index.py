"""An index for the queue's seek pages (`workflows/task_lists.py`): the tasks of one status in the list's order
`(created, id)`. A page reads its 26 rows from it, however many tasks are open, and the keyset condition
starts the scan where the previous page ended. Like 0002, it is on viewflow's own table (viewflow is not
patched).

Not a partial index (`WHERE status = 'NEW'`): SQLite uses a partial index only when the query names the
status as a literal, and Django binds it as a parameter, so SQLite would sort every open task instead."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_task_list_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS pif_task_seek ON viewflow_task (status, created, id)",
            "DROP INDEX IF EXISTS pif_task_seek",
        )
    ]
