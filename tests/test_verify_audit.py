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

from inspection.audit import AuditAction, audit_record
from inspection.audit_chain import canonical_json, canonical_time, event_hash
from inspection.audit_verify import audit_chain_verify
from inspection.models import AuditCheckpoint, AuditEvent
from inspection.tasks import audit_checkpoint

pytestmark = pytest.mark.django_db
TABLE = "inspection_auditevent"


@pytest.fixture
def chain():
    """Five events, in seq order."""
    with transaction.atomic():
        return [audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": n}) for n in range(1, 6)]


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


def _reseal(event: AuditEvent) -> str:
    """The mac of an event rewritten by someone who holds the audit key too (a leaked key)."""
    from django.conf import settings

    from inspection.audit_chain import derived_key, event_body, event_mac, event_seal

    body = event_body(
        occurred_at=canonical_time(event.occurred_at),
        actor_id=event.actor_id,
        role=event.role,
        action=event.action,
        consignment_id=event.consignment_id,
        data_text=canonical_json(event.data),
    )
    return event_mac(event_seal(derived_key(settings.PIF_AUDIT_KEY, "event"), body), event.event_hash)


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
    # From position 3 on, change the data and recompute every hash and (with a leaked key) every mac: the chain
    # itself stays consistent. (Without the key, the first rewritten event is "forged": tests/test_audit_key.py.)
    prev = chain[1].event_hash
    for event in chain[2:]:
        event.data = {"n": event.data["n"], "rewritten": True}
        event.prev_hash, event.event_hash = prev, _rehash(event, prev_hash=prev)
        AuditEvent.objects.filter(pk=event.pk).update(
            data=event.data, prev_hash=prev, event_hash=event.event_hash, mac=_reseal(event)
        )
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


def test_the_daily_checkpoint_is_recorded_and_emailed(
    chain, supervisor, inspector, broker, django_capture_on_commit_callbacks
):
    supervisor.email = "sylvie@pif.example"
    supervisor.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_checkpoint.apply().get() == 5
    assert broker.work() == [1]  # the email, sent by a task of its own after commit
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.published == f"5:{chain[-1].event_hash}"
    [message] = mail.outbox
    assert message.to == ["sylvie@pif.example"]
    assert f"verify_audit --since {checkpoint.published}" in message.body
    assert _verify("--since", "5") == (0, "")


# Verifying in several processes: the chain is cut into id ranges (3 events each here, so that a chain of 9
# has 3 ranges), and whatever the tampering, and wherever it falls against the ranges' boundaries, the report
# is the one a single walk from the start gives. Inside the test's transaction the ranges are scanned in
# this process (other processes would not see the events); tests/integration/ runs them in real processes.


@pytest.fixture
def nine():
    with transaction.atomic():
        return [audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": n}) for n in range(1, 10)]


def _change(chain, index):
    AuditEvent.objects.filter(pk=chain[index].pk).update(data={"n": 99})


def _delete(chain, index):
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [chain[index].pk])  # noqa: S608


def _swap(chain, a, b):
    a, b = chain[a].pk, chain[b].pk
    _sql(f"UPDATE {TABLE} SET id = -1 WHERE id = %s", [a])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [a, b])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET id = %s WHERE id = -1", [b])  # noqa: S608


def _insert_before(chain, index):
    """A forged event with a valid hash, linked to event `index - 1`, at its id and position + 1."""
    before = chain[index - 1]
    _sql(f"UPDATE {TABLE} SET id = id + 100, seq = seq + 1000 WHERE seq > %s", [before.seq])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET seq = seq - 999 WHERE seq > 1000")  # noqa: S608
    forged = AuditEvent(
        id=before.pk + 1,
        seq=before.seq + 1,
        prev_hash=before.event_hash,
        role="system",
        action="decision.recorded",
        occurred_at=before.occurred_at,
        data={"to": "accepted"},
    )
    forged.event_hash = _rehash(forged, prev_hash=before.event_hash)
    AuditEvent.objects.bulk_create([forged])


def _renumber_after_delete(chain, index):
    _delete(chain, index)
    _sql(f"UPDATE {TABLE} SET seq = seq + 1000 WHERE seq > %s", [chain[index].seq])  # noqa: S608
    _sql(f"UPDATE {TABLE} SET seq = seq - 1001 WHERE seq > 1000")  # noqa: S608


def _rewrite_from(chain, index, checkpoint_index):
    AuditCheckpoint.objects.create(
        seq=chain[checkpoint_index].seq, event_hash=chain[checkpoint_index].event_hash, recorded_at=timezone.now()
    )
    prev = chain[index - 1].event_hash
    for event in chain[index:]:  # by someone holding the audit key: only the checkpoint catches it
        event.data = {"n": event.data["n"], "rewritten": True}
        event.prev_hash, event.event_hash = prev, _rehash(event, prev_hash=prev)
        AuditEvent.objects.filter(pk=event.pk).update(
            data=event.data, prev_hash=prev, event_hash=event.event_hash, mac=_reseal(event)
        )
        prev = event.event_hash


def _truncate(chain, index):
    AuditCheckpoint.objects.create(seq=9, event_hash=chain[8].event_hash, recorded_at=timezone.now())
    _sql(f"DELETE FROM {TABLE} WHERE seq > %s", [chain[index].seq])  # noqa: S608


TAMPERING = {
    "changed, middle of the 2nd range": (lambda c: _change(c, 4), "changed"),
    "changed, first of the 2nd range": (lambda c: _change(c, 3), "changed"),
    "changed, last of the 1st range": (lambda c: _change(c, 2), "changed"),
    "changed in the 2nd and the 3rd range": (lambda c: (_change(c, 7), _change(c, 5)), "changed"),
    "deleted, first of the 2nd range": (lambda c: _delete(c, 3), "deleted"),
    "deleted, last of the 2nd range": (lambda c: _delete(c, 5), "deleted"),
    "swapped across a boundary": (lambda c: _swap(c, 2, 3), "reordered"),
    "swapped inside the 2nd range": (lambda c: _swap(c, 3, 5), "reordered"),
    "inserted at a boundary": (lambda c: _insert_before(c, 3), "inserted"),
    "inserted inside the 2nd range": (lambda c: _insert_before(c, 4), "inserted"),
    "deleted and renumbered at a boundary": (lambda c: _renumber_after_delete(c, 3), "deleted"),
    "rewritten from the 2nd range, checkpoint in the 3rd": (lambda c: _rewrite_from(c, 4, 6), "rewritten"),
    "rewritten from a boundary, checkpoint at the next": (lambda c: _rewrite_from(c, 3, 6), "rewritten"),
    "truncated in the 3rd range": (lambda c: _truncate(c, 6), "truncated"),
    "truncated at a boundary": (lambda c: _truncate(c, 5), "truncated"),
}


@pytest.mark.parametrize("tampering", TAMPERING, ids=list(TAMPERING))
def test_verifying_in_ranges_names_the_same_first_fault(nine, attacker, tampering):
    tamper, kind = TAMPERING[tampering]
    tamper(nine)
    with translation.override("en"):
        in_one_walk = audit_chain_verify()
        in_ranges = audit_chain_verify(workers=2, range_size=3)
    assert in_one_walk.fault is not None and in_one_walk.fault.kind == kind
    assert in_ranges == in_one_walk


def test_verifying_in_ranges_an_intact_chain_counts_every_event(nine):
    counted = []
    report = audit_chain_verify(workers=2, range_size=2, progress=counted.append)
    assert report == audit_chain_verify() and report.intact and report.checked == 9 == sum(counted)


def test_verifying_in_ranges_from_a_checkpoint(nine, attacker):
    since = (4, nine[3].event_hash)
    assert audit_chain_verify(since=since, workers=2, range_size=2) == audit_chain_verify(since=since)
    _change(nine, 0)  # before the checkpoint: not looked at
    _change(nine, 6)
    with translation.override("en"):
        report = audit_chain_verify(since=since, workers=2, range_size=2)
        assert report == audit_chain_verify(since=since)
    assert report.fault.kind == "changed" and report.fault.event_id == nine[6].pk and report.checked == 2


def test_the_command_takes_a_number_of_workers(nine, capsys):
    call_command("verify_audit", "--no-progress", "--workers", "2")
    assert f"9 events checked, head 9:{nine[-1].event_hash}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="at least 1"):
        call_command("verify_audit", "--workers", "0")
