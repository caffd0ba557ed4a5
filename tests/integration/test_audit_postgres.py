"""On PostgreSQL: appends from several processes at once keep one chain (the advisory lock)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from inspection.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

APPENDER = """
import sys, django
django.setup()
from django.db import transaction
from inspection.audit import audit_record
for n in range(int(sys.argv[2])):
    with transaction.atomic():
        audit_record(actor=None, action="test.concurrent", data={"writer": sys.argv[1], "n": n})
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
