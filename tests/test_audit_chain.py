"""The audit trail is an append-only hash chain: each event links to the one before, the database refuses
UPDATE and DELETE, and the stored text is the canonical text that is hashed."""

import hashlib

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from inspection.audit import AuditAction, audit_record
from inspection.audit_chain import GENESIS, canonical_json, canonical_time, event_text
from inspection.models import AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db

TRICKY = {
    "zeta": [1, 2.5, -0.0, 1e-07, 1.5e20, 12345678901234567890, True, None],
    "é": 'Fort-de-France "quay" \\ \n\t\x01 ✓',
    "aa": {"b": {}, "a": [], "ab": "x"},
    "b": 0.1,
    "decimal": "12.50",
}
REFUSED = (IntegrityError, InternalError, ProgrammingError)  # SQLite RAISE(ABORT) / PostgreSQL trigger


def _append(n, **kwargs):
    with transaction.atomic():
        return [audit_record(actor=None, action=AuditAction.JOB_RETRIED, data={"n": i, **kwargs}) for i in range(n)]


def test_event_text_is_the_canonical_json_of_the_envelope():
    envelope = dict(
        seq=7,
        prev_hash=GENESIS,
        occurred_at="2026-11-25T22:09:32.000001Z",
        actor_id=3,
        role="supervisor",
        action="decision.countersigned",
        consignment_id=None,
    )
    expected = canonical_json(
        {
            "seq": 7,
            "prev": GENESIS,
            "occurred_at": "2026-11-25T22:09:32.000001Z",
            "actor": 3,
            "role": "supervisor",
            "action": "decision.countersigned",
            "consignment": None,
            "data": TRICKY,
        }
    )
    assert event_text(**envelope, data_text=canonical_json(TRICKY)) == expected


def test_the_database_returns_the_canonical_text_of_the_data():
    [event] = _append(1, **TRICKY)
    stored = AuditEvent.objects.annotate(t=Cast("data", TextField())).values_list("t", flat=True).get(pk=event.pk)
    assert stored == canonical_json(event.data)
    assert AuditEvent.objects.get(pk=event.pk).data == event.data


def test_each_event_links_to_the_one_before():
    events = _append(3) + _append(2)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.event_hash for earlier, later in zip(events, events[1:], strict=False))
    assert len({e.event_hash for e in events}) == 5


def test_the_hash_covers_every_field():
    [event] = _append(1)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.event_hash == event.event_hash
    assert canonical_time(stored.occurred_at) == canonical_time(event.occurred_at)


def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        # pytest-django wraps the test in a transaction: leave it to see the guard
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            audit_record(actor=None, action=AuditAction.JOB_RETRIED)
        finally:
            connection.in_atomic_block = saved


def test_appending_is_one_statement_that_reads_the_head_and_hashes(django_assert_num_queries):
    _append(1)
    with transaction.atomic(), django_assert_num_queries(1):  # the INSERT locks, reads the head and hashes
        event = audit_record(actor=None, action=AuditAction.JOB_RETRIED, data=TRICKY)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.prev_hash, stored.event_hash) == (event.seq, event.prev_hash, event.event_hash)


@pytest.mark.parametrize("model", [AuditEvent, AuditCheckpoint])
def test_the_database_refuses_update_and_delete(model):
    if model is AuditEvent:
        _append(2)
    else:
        AuditCheckpoint.objects.create(seq=0, event_hash=GENESIS, recorded_at=timezone.now())
    table = model._meta.db_table
    attempts = [
        lambda: model.objects.update(seq=99),
        lambda: model.objects.all().delete(),
        lambda: connection.cursor().execute(f"UPDATE {table} SET event_hash = 'x'"),  # noqa: S608
        lambda: connection.cursor().execute(f"DELETE FROM {table}"),  # noqa: S608
    ]
    for attempt in attempts:
        with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
            attempt()
    assert model.objects.count() == (2 if model is AuditEvent else 1)


def test_the_database_puts_together_the_text_that_was_hashed():
    from inspection.audit_verify import event_texts

    events = _append(2, **TRICKY)
    rows = list(event_texts(AuditEvent.objects.all(), chunk_size=10))
    assert [hashlib.sha256(text.encode()).hexdigest() for _i, _s, _p, _h, text, _m, _b in rows] == [
        e.event_hash for e in events
    ]


def test_the_verifiers_sealer_is_hmac_sha256():
    import hmac

    from inspection.audit_chain import derived_key, event_seal, event_sealer

    key = derived_key("any-audit-key-0123456789-abcdefghijklmnop", "event")
    seal = event_sealer(key)
    for body in ("", '{"data": {}, "role": "system"}', "é" * 200):
        assert seal(body) == event_seal(key, body) == hmac.new(key, body.encode(), "sha256").hexdigest()
