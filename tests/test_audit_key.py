"""Issue 16, item 6: the audit trail cannot be forged by whoever writes the database without the audit key.
Each event is sealed with `PIF_AUDIT_KEY` (never in the database), and the chain's head is written hourly,
signed, to a witness folder outside the database. The attacks of the security review, done as a database
writer would (append-only triggers dropped inside the test's transaction), each fail `verify_audit`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone, translation

from inspection.audit import AuditAction, audit_record
from inspection.audit_chain import (
    canonical_json,
    canonical_time,
    derived_key,
    event_body,
    event_hash,
    event_mac,
    event_seal,
)
from inspection.audit_verify import audit_chain_verify, audit_trail_verify
from inspection.audit_witness import witness_write
from inspection.models import AuditCheckpoint, AuditEvent
from inspection.tasks import audit_checkpoint

pytestmark = pytest.mark.django_db
TABLE = "inspection_auditevent"
CHECKPOINTS = "inspection_auditcheckpoint"


@pytest.fixture
def chain():
    with transaction.atomic():
        return [audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": n}) for n in range(1, 6)]


def _sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def attacker():
    """Whoever writes the database: the append-only triggers of both tables dropped (rolled back with the test)."""
    if connection.vendor == "sqlite":
        for table in (TABLE, CHECKPOINTS):
            _sql(f"DROP TRIGGER {table}_no_update")
            _sql(f"DROP TRIGGER {table}_no_delete")
    else:
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
        for table in (TABLE, CHECKPOINTS):
            _sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        _sql("SET CONSTRAINTS ALL DEFERRED")
    return _sql


def _verify(*args):
    try:
        with translation.override("en"):
            call_command("verify_audit", "--no-progress", *args, stdout=open(os.devnull, "w"))  # noqa: SIM115
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, ""


def _checkpoint():
    """What beat does every hour."""
    return audit_checkpoint.apply(kwargs={"email": False}).get()


def _rehash(event, *, seq, prev_hash) -> str:
    """What an attacker who knows the scheme (but not the key) computes."""
    return event_hash(
        seq=seq,
        prev_hash=prev_hash,
        occurred_at=canonical_time(event.occurred_at),
        actor_id=event.actor_id,
        role=event.role,
        action=event.action,
        consignment_id=event.consignment_id,
        data_text=canonical_json(event.data),
    )


def _forge(*, after: AuditEvent, data: dict, consignment=None) -> AuditEvent:
    """An event appended after `after`, with the right position, link and hash: all but the seal."""
    forged = AuditEvent(
        consignment=consignment,
        seq=after.seq + 1,
        prev_hash=after.event_hash,
        role="certifying_officer",
        action="decision.recorded",
        occurred_at=timezone.now(),
        data=data,
    )
    forged.event_hash = _rehash(forged, seq=forged.seq, prev_hash=after.event_hash)
    AuditEvent.objects.bulk_create([forged])
    return forged


def test_appended_events_are_sealed_with_the_key(chain):
    key = derived_key(settings.PIF_AUDIT_KEY, "event")
    for event in chain:
        body = event_body(
            occurred_at=canonical_time(event.occurred_at),
            actor_id=None,
            role="system",
            action=event.action,
            consignment_id=None,
            data_text=canonical_json(event.data),
        )
        assert AuditEvent.objects.get(pk=event.pk).mac == event_mac(event_seal(key, body), event.event_hash)
    assert _verify() == (0, "")


# The attacks of the review.


def test_a_tail_cut_with_its_checkpoint_rows_is_caught_by_the_witness(chain, attacker):
    assert _checkpoint() == 5
    [witness_file] = Path(settings.PIF_AUDIT_WITNESS_DIR).glob("*.json")
    attacker(f"DELETE FROM {TABLE} WHERE seq >= 4")  # noqa: S608
    attacker(f"DELETE FROM {CHECKPOINTS}")  # noqa: S608
    code, message = _verify()
    assert code == 1 and "(truncated)" in message and "ends at position 3" in message
    assert f"the witness checkpoint {witness_file}" in message and "names position 5" in message


def test_the_latest_witness_checkpoint_is_named(chain, attacker):
    _checkpoint()
    with transaction.atomic():
        audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": 6})
    latest = witness_write(seq=6, event_hash=AuditEvent.objects.get(seq=6).event_hash, recorded_at=timezone.now())
    attacker(f"DELETE FROM {TABLE} WHERE seq >= 5")  # noqa: S608
    code, message = _verify()
    assert code == 1 and f"{latest}" in message and "names position 6" in message


def test_a_rewritten_witness_head_differs_from_the_chain(chain, attacker):
    """The chain cut and extended again (by someone with the key, say) to a head other than the witness's."""
    _checkpoint()
    attacker(f"DELETE FROM {TABLE} WHERE seq = 5")  # noqa: S608
    attacker(f"DELETE FROM {CHECKPOINTS}")  # noqa: S608
    with transaction.atomic():
        audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": "other"})
    code, message = _verify()
    assert code == 1 and "(rewritten)" in message and "position 5" in message and "witness checkpoint" in message


def test_a_forged_event_appended_after_the_last_checkpoint_fails_even_since(chain, attacker):
    _checkpoint()
    forged = _forge(after=chain[-1], data={"from": "awaiting_decision", "to": "accepted"})
    code, message = _verify()
    assert code == 1 and "(forged)" in message and f"Event {forged.pk} (position 6)" in message
    code, message = _verify("--since", "5")  # from the last checkpoint (the witness's)
    assert code == 1 and "(forged)" in message
    code, message = _verify("--since", f"5:{chain[-1].event_hash}")
    assert code == 1 and "(forged)" in message


def test_a_rewritten_event_with_every_hash_recomputed_is_forged(chain, attacker):
    prev = chain[1].event_hash
    for event in chain[2:]:
        data = {"n": event.data["n"], "rewritten": True} if event.seq == 3 else event.data
        event.data = data
        event.event_hash = _rehash(event, seq=event.seq, prev_hash=prev)
        AuditEvent.objects.filter(pk=event.pk).update(data=data, prev_hash=prev, event_hash=event.event_hash)
        prev = event.event_hash
    code, message = _verify()
    assert code == 1 and "(forged)" in message and f"Event {chain[2].pk} (position 3)" in message
    with translation.override("en"):
        assert audit_chain_verify(workers=2, range_size=2) == audit_chain_verify()


def test_a_stolen_mac_does_not_move_an_event(chain, attacker):
    """Copying an event with its mac to another position (with hashes recomputed) does not pass: the mac binds
    the seal of its content to its place."""
    copy = AuditEvent.objects.get(pk=chain[0].pk)
    copy.pk, copy.seq = None, 6
    copy.prev_hash = chain[-1].event_hash
    copy.event_hash = _rehash(copy, seq=6, prev_hash=copy.prev_hash)
    AuditEvent.objects.bulk_create([copy])
    code, message = _verify()
    assert code == 1 and "(forged)" in message and "(position 6)" in message


def test_a_trail_holding_a_forged_event_says_so(consignment, attacker):
    last = AuditEvent.objects.order_by("-seq").first()
    forged = _forge(after=last, data={"to": "accepted"}, consignment=consignment)
    with translation.override("en"):
        [fault] = audit_trail_verify(consignment=consignment)
    assert fault.kind == "forged" and fault.event_id == forged.pk and "seal" in fault.message


def test_another_key_seals_nothing(chain, settings):
    settings.PIF_AUDIT_KEY = "another-audit-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    code, message = _verify()
    assert code == 1 and "(forged)" in message and "(position 1)" in message and "PIF_AUDIT_KEY" in message


# The witness files.


def test_the_checkpoint_command_writes_a_signed_witness_file(chain, supervisor, capsys):
    supervisor.email = "sylvie@pif.example"
    supervisor.save()
    call_command("audit_checkpoint", "--no-email")
    [path] = Path(settings.PIF_AUDIT_WITNESS_DIR).glob("*.json")
    assert f"audit checkpoint 5:{chain[-1].event_hash} written to {path}" in capsys.readouterr().out
    document = json.loads(path.read_text())
    assert (document["seq"], document["event_hash"]) == (5, chain[-1].event_hash)
    assert len(document["signature"]) == 64 and mail.outbox == []
    assert AuditCheckpoint.objects.get().seq == 5


def test_a_witness_file_is_never_rewritten(chain):
    at = timezone.now()
    witness_write(seq=5, event_hash=chain[-1].event_hash, recorded_at=at)
    with pytest.raises(FileExistsError):
        witness_write(seq=5, event_hash=chain[0].event_hash, recorded_at=at)
    [path] = Path(settings.PIF_AUDIT_WITNESS_DIR).glob("*")  # no temporary file left behind
    assert json.loads(path.read_text())["event_hash"] == chain[-1].event_hash


def test_a_tampered_witness_file_is_detected(chain):
    path = witness_write(seq=4, event_hash=chain[3].event_hash, recorded_at=timezone.now())
    document = json.loads(path.read_text())
    document["seq"], document["event_hash"] = 5, chain[4].event_hash  # moved forward, signature kept
    path.write_text(json.dumps(document))
    code, message = _verify()
    assert code == 1 and "(witness)" in message and str(path) in message and "signature" in message


def test_a_witness_file_signed_with_another_key_is_detected(chain, settings):
    settings.PIF_AUDIT_KEY = "an-attacker-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    path = witness_write(seq=9, event_hash=chain[0].event_hash, recorded_at=timezone.now())
    settings.PIF_AUDIT_KEY = "test-only-audit-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    code, message = _verify()
    assert code == 1 and str(path) in message and "signature" in message


def test_a_witness_file_that_is_not_json_is_detected(chain, tmp_path):
    path = tmp_path / "elsewhere.json"
    path.write_text("{not json")
    code, message = _verify("--witness", str(path))
    assert code == 1 and str(path) in message
    assert _verify("--witness", str(tmp_path / "missing.json"))[0] == 1


def test_a_witness_given_on_the_command_line_is_compared(chain, attacker, tmp_path):
    copy = witness_write(seq=5, event_hash=chain[-1].event_hash, recorded_at=timezone.now(), folder=tmp_path / "usb")
    attacker(f"DELETE FROM {TABLE} WHERE seq = 5")  # noqa: S608
    assert _verify()[0] == 0  # nothing in the default folder, no checkpoint row: a cut tail goes unnoticed...
    code, message = _verify("--witness", str(copy.parent))
    assert code == 1 and "(truncated)" in message and str(copy) in message  # ...but not by the copy kept


def test_no_witness_is_a_warning(chain, capsys):
    assert _verify() == (0, "")
    call_command("verify_audit", "--no-progress")
    assert "no witness checkpoint" in capsys.readouterr().err


def test_beat_records_a_checkpoint_every_hour_and_emails_it_daily():
    schedule = settings.CELERY_BEAT_SCHEDULE
    hourly, daily = schedule["audit-checkpoint"], schedule["audit-checkpoint-emailed"]
    assert hourly["task"] == daily["task"] == "inspection.tasks.audit_checkpoint"
    assert hourly["kwargs"] == {"email": False} and "kwargs" not in daily
    assert hourly["schedule"].hour == set(range(1, 24)) and daily["schedule"].hour == {0}
    assert hourly["schedule"].minute == daily["schedule"].minute == {15}


def test_the_daily_checkpoint_is_emailed_and_witnessed(chain, supervisor, broker, django_capture_on_commit_callbacks):
    supervisor.email = "sylvie@pif.example"
    supervisor.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_checkpoint.apply().get() == 5
    assert broker.work() == [1]  # the email, sent by a task of its own after commit
    [message] = mail.outbox
    assert f"5:{chain[-1].event_hash}" in message.body
    assert len(list(Path(settings.PIF_AUDIT_WITNESS_DIR).glob("*.json"))) == 1


# Existing events, and the setting.


def test_the_migration_seals_the_events_already_written(chain, attacker):
    import importlib

    migration = importlib.import_module("inspection.migrations.0026_audit_key")
    attacker(f"UPDATE {TABLE} SET mac = ''")  # noqa: S608 (as before the migration)
    assert _verify()[0] == 1

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.seal_existing_events(apps, editor)
    assert _verify() == (0, "")


def test_production_refuses_to_start_without_an_audit_key():
    env = {k: v for k, v in os.environ.items() if k != "PIF_AUDIT_KEY"}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "PIF_AUDIT_KEY" in result.stderr
    env["PIF_AUDIT_KEY"] = "short"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "at least 32" in result.stderr
