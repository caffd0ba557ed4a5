"""On PostgreSQL: appends from several processes at once keep one chain (the advisory lock), and verifying it
in several processes names the same first fault as one walk."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from inspection.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

APPENDER = """
import sys, django
django.setup()
from django.db import transaction
from inspection.audit import AuditAction, audit_record
for n in range(int(sys.argv[2])):
    with transaction.atomic():
        audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"writer": sys.argv[1], "n": n})
"""


def test_concurrent_appends_from_several_processes_keep_one_chain(capsys):
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "DJANGO_SETTINGS_MODULE": "pif.settings",
    }
    writers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(w), "40"], env=env, cwd=Path(settings.BASE_DIR))
        for w in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]

    assert list(AuditEvent.objects.order_by("id").values_list("seq", flat=True)) == list(range(1, 161))
    assert AuditEvent.objects.values("data__writer").distinct().count() == 4
    call_command("verify_audit", "--no-progress")
    assert "160 events checked" in capsys.readouterr().out


def test_verifying_in_several_processes_names_the_first_fault_as_one_walk_does():
    from django.db import transaction

    from inspection.audit import AuditAction, audit_record
    from inspection.audit_verify import audit_chain_verify

    with transaction.atomic():
        chain = [audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": n}) for n in range(12)]
    intact = audit_chain_verify(workers=2, range_size=3)
    assert intact == audit_chain_verify() and intact.intact and intact.checked == 12
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        try:
            # A change in the 3rd range, and the 2nd range's first event deleted: the deletion comes first.
            cursor.execute(f"UPDATE {table} SET role = 'x' WHERE id = %s", [chain[7].pk])  # noqa: S608
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [chain[3].pk])  # noqa: S608
        finally:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    report = audit_chain_verify(workers=2, range_size=3)
    assert report == audit_chain_verify()
    assert report.fault.kind == "deleted" and report.fault.seq == 4 and report.checked == 3


def test_a_service_locks_a_consignment_without_blocking_rows_that_reference_it(importer):
    """A service's row lock on a consignment is FOR NO KEY UPDATE: it excludes the other services, but not the
    foreign-key checks (FOR KEY SHARE) of a transaction that references the consignment. With FOR UPDATE, the
    worker recording TRACES NT's number (the row locked, then the audit chain's lock awaited) and a step on the
    same CHED (the chain's lock held, the reference checked at COMMIT) deadlocked (seen in CI, 2026-12-07)."""
    from django.test.utils import CaptureQueriesContext

    from inspection.services.consignments import consignment_create
    from inspection.services.traces import _answer_record
    from tests.factories import part_one

    consignment = consignment_create(actor=importer, part_one=part_one(), draft=False)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        _answer_record(exchange_id=0, consignment_id=consignment.pk, answered="CHEDPP.FR.2026.0000042")
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "inspection_consignment"' in q["sql"] and " FOR " in q["sql"]
    ]
    assert locks and all(sql.endswith("FOR NO KEY UPDATE") for sql in locks), locks
    consignment.refresh_from_db()
    assert consignment.traces_reference == "CHEDPP.FR.2026.0000042"
