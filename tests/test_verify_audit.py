"""`verify_audit` detects and names every kind of tampering: a changed field, a deleted event, two events
swapped, an inserted event, a rewritten tail (against a checkpoint), a truncated tail. The tampering is done
as an attacker with database access would, with the append-only triggers disabled (inside the test's
transaction, which rolls them back)."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from inspection.audit import audit_record
from inspection.audit_chain import canonical_json, canonical_time, event_hash
from inspection.models import AuditCheckpoint, AuditEvent
from inspection.tasks import audit_checkpoint

pytestmark = pytest.mark.django_db
TABLE = "inspection_auditevent"


@pytest.fixture
def chain():
    """Five events, in seq order."""
    with transaction.atomic():
        return [audit_record(actor=None, action="test.event", data={"n": n}) for n in range(1, 6)]


def _sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def attacker():
    """Disable the append-only triggers for the rest of the test (rolled back with it)."""
    if connection.vendor == "sqlite":
        _sql(f"DROP TRIGGER {TABLE}_no_update")
        _sql(f"DROP TRIGGER {TABLE}_no_delete")
    else:
        _sql("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses to run with deferred FK checks pending
        _sql(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_append_only")
        _sql("SET CONSTRAINTS ALL DEFERRED")
    return _sql


def _verify(*args):
    try:
        with translation.override("en"):
            call_command("verify_audit", "--no-progress", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, ""


def _rehash(event: AuditEvent, *, prev_hash: str) -> str:
    """What an attacker who knows the scheme computes for a forged or rewritten event."""
    return event_hash(
        seq=event.seq,
        prev_hash=prev_hash,
        occurred_at=canonical_time(event.occurred_at),
        actor_id=event.actor_id,
        role=event.role,
        action=event.action,
        consignment_id=event.consignment_id,
        data_text=canonical_json(event.data),
    )


def test_an_intact_chain_exits_0(chain, capsys):
    call_command("verify_audit", "--no-progress")
    assert f"5 events checked, head 5:{chain[-1].event_hash}" in capsys.readouterr().out


def test_an_empty_chain_is_intact():
    assert _verify() == (0, "")


def test_a_changed_field_is_named(chain, attacker):
    attacker(f"UPDATE {TABLE} SET role = 'supervisor' WHERE id = %s", [chain[2].pk])  # noqa: S608
    code, message = _verify()
    assert code == 1
    assert "(changed)" in message and f"Event {chain[2].pk} (position 3)" in message


def test_changed_data_is_named(chain, attacker):
    AuditEvent.objects.filter(pk=chain[1].pk).update(data={"n": 99})
    code, message = _verify()
    assert code == 1 and "(changed)" in message and f"Event {chain[1].pk} " in message


def test_a_deleted_event_is_named(chain, attacker):
    attacker(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])  # noqa: S608
    code, message = _verify()
    assert code == 1
    assert "(deleted)" in message and "positions 3 to 3 are missing" in message


def test_two_swapped_events_are_named(chain, attacker):
    a, b = chain[1].pk, chain[3].pk
    attacker(f"UPDATE {TABLE} SET id = -1 WHERE id = %s", [a])  # noqa: S608
    attacker(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [a, b])  # noqa: S608
    attacker(f"UPDATE {TABLE} SET id = %s WHERE id = -1", [b])  # noqa: S608
    code, message = _verify()
    assert code == 1
    assert "(reordered)" in message and f"Event {a} (position 4)" in message


def _forged_third(chain):
    forged = AuditEvent(
        id=chain[1].pk + 1,
        seq=3,
        prev_hash=chain[1].event_hash,
        role="system",
        action="decision.recorded",
        occurred_at=chain[2].occurred_at,
        data={"to": "accepted"},
    )
    forged.event_hash = _rehash(forged, prev_hash=chain[1].event_hash)
    return forged


def test_an_event_inserted_at_a_taken_position_is_refused(chain, attacker):
    attacker(f"UPDATE {TABLE} SET id = id + 1000 WHERE seq >= 3")  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.bulk_create([_forged_third(chain)])


def test_an_inserted_event_is_named_even_with_a_valid_hash(chain, attacker):
    # Make room after position 2 (ids and positions), then insert a forged third event linked to the second.
    attacker(f"UPDATE {TABLE} SET id = id + 1000, seq = seq + 1000 WHERE seq >= 3")  # noqa: S608
    attacker(f"UPDATE {TABLE} SET seq = seq - 999 WHERE seq >= 1000")  # noqa: S608
    forged = _forged_third(chain)
    AuditEvent.objects.bulk_create([forged])
    code, message = _verify()
    assert code == 1
    assert "(inserted)" in message and f"Event {forged.pk} (position 3) was inserted" in message


def test_a_deleted_event_hidden_by_renumbering_is_named(chain, attacker):
    attacker(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])  # noqa: S608
    attacker(f"UPDATE {TABLE} SET seq = seq + 1000 WHERE seq > 3")  # noqa: S608
    attacker(f"UPDATE {TABLE} SET seq = seq - 1001 WHERE seq > 1000")  # noqa: S608
    code, message = _verify()
    assert code == 1 and "(deleted)" in message and f"before event {chain[3].pk}" in message


def test_a_rewritten_tail_is_caught_by_the_checkpoint(chain, attacker):
    AuditCheckpoint.objects.create(seq=4, event_hash=chain[3].event_hash, recorded_at=timezone.now())
    # From position 3 on, change the data and recompute every hash: the chain itself stays consistent.
    prev = chain[1].event_hash
    for event in chain[2:]:
        event.data = {"n": event.data["n"], "rewritten": True}
        event.prev_hash, event.event_hash = prev, _rehash(event, prev_hash=prev)
        AuditEvent.objects.filter(pk=event.pk).update(data=event.data, prev_hash=prev, event_hash=event.event_hash)
        prev = event.event_hash
    code, message = _verify()
    assert code == 1
    assert "(rewritten)" in message and f"Event {chain[3].pk} (position 4)" in message


def test_a_published_checkpoint_catches_a_rewrite_even_without_the_stored_one(chain, attacker):
    published = f"3:{chain[2].event_hash}"
    event = chain[2]
    event.data = {"n": 3, "rewritten": True}
    new_hash = _rehash(event, prev_hash=event.prev_hash)
    AuditEvent.objects.filter(pk=event.pk).update(data=event.data, event_hash=new_hash)
    code, message = _verify("--since", published)
    assert code == 1 and "(rewritten)" in message and "position 3" in message


def test_a_truncated_tail_is_caught_by_the_checkpoint(chain, attacker):
    AuditCheckpoint.objects.create(seq=5, event_hash=chain[4].event_hash, recorded_at=timezone.now())
    attacker(f"DELETE FROM {TABLE} WHERE seq >= 4")  # noqa: S608
    code, message = _verify()
    assert code == 1 and "(truncated)" in message and "ends at position 3" in message


def test_since_verifies_from_the_checkpoint_only(chain, attacker):
    attacker(f"UPDATE {TABLE} SET role = 'x' WHERE id = %s", [chain[0].pk])  # noqa: S608
    assert _verify()[0] == 1
    assert _verify("--since", f"3:{chain[2].event_hash}") == (0, "")


def test_a_bad_since_exits_2(chain):
    assert _verify("--since", "three")[0] == 2
    assert _verify("--since", "3")[0] == 2  # no checkpoint stored at 3


def test_the_daily_checkpoint_is_recorded_and_emailed(chain, supervisor, inspector, django_capture_on_commit_callbacks):
    supervisor.email = "sylvie@pif.example"
    supervisor.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_checkpoint.apply().get() == 5
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.published == f"5:{chain[-1].event_hash}"
    [message] = mail.outbox
    assert message.to == ["sylvie@pif.example"]
    assert f"verify_audit --since {checkpoint.published}" in message.body
    assert _verify("--since", "5") == (0, "")
