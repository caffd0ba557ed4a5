"""The audit trail. Every service that changes state calls `audit_record` inside its own transaction,
so the change and its record commit or roll back together.

Appends are serialised so that the chain never forks: on PostgreSQL a transaction-scoped advisory lock,
taken just before reading the head and released at commit; on SQLite the IMMEDIATE transaction (settings)
already holds the database's write lock from BEGIN. The head is read, and the new event's hash computed,
inside the INSERT itself: one statement per event. The INSERT also stores the event's `mac`, from the seal of its
body computed here with the audit key (the key never reaches the database). See
docs/decisions/0005-audit-chain.md and 0010-keyed-audit-chain.md."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .audit_chain import (
    GENESIS,
    canonical_json,
    canonical_time,
    event_body,
    event_hash,
    event_mac,
    event_seal,
    event_text,
)
from .audit_key import audit_event_key
from .models import AuditAction, AuditEvent
from .roles import primary_role

# pg_advisory_xact_lock key of the audit chain (any constant the application uses for nothing else).
AUDIT_LOCK_KEY = 7_410_392_812_604_231


def audit_chain_lock_head() -> tuple[int, str]:
    """Take the append lock (held until the end of the current transaction) and return (seq, hash) of the
    last event, or (0, GENESIS). One query: on PostgreSQL a function of migration 0012 that locks, then reads
    with a fresh snapshot; on SQLite the IMMEDIATE transaction is the lock and the head is read on the unique
    index of `seq`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT head_seq, head_hash FROM pif_audit_lock_head(%s)", [AUDIT_LOCK_KEY])
            head = cursor.fetchone()
    else:
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "event_hash").first()
    return tuple(head) if head else (0, GENESIS)


# The INSERT of `audit_record`: the head (locked on PostgreSQL, by `pif_audit_lock_head` of migration 0012,
# which reads it with a snapshot taken after the lock) gives the new event's `seq` and `prev_hash`, and its
# hash is the sha256 of the envelope's text around them. SQLite's SHA256 is the function Django registers on
# each connection (for `django.db.models.functions.SHA256`). Its `mac` is the sha256 of the seal (a parameter)
# followed by that hash.
_HEAD = {
    "postgresql": "pif_audit_lock_head(%s) AS l ON TRUE",
    "sqlite": "(SELECT seq AS head_seq, event_hash AS head_hash FROM inspection_auditevent ORDER BY seq DESC LIMIT 1)"
    " AS l ON 1",
}
_HASH = {
    "postgresql": "encode(sha256(convert_to(%s || (h.seq + 1) || %s || h.hash || %s, 'UTF8')), 'hex')",
    "sqlite": "SHA256(%s || (h.seq + 1) || %s || h.hash || %s)",
}
_MAC = {
    "postgresql": "encode(sha256(convert_to(%s || x.hash, 'UTF8')), 'hex')",
    "sqlite": "SHA256(%s || x.hash)",
}
_COLUMNS = ("consignment", "actor", "role", "action", "occurred_at", "data")
_SEQ, _PREV = "\x00seq\x00", "\x00prev\x00"  # never in a canonical text (JSON escapes control characters)


def _append_sql(vendor: str) -> str:
    columns = ", ".join(AuditEvent._meta.get_field(name).column for name in _COLUMNS)
    return (
        f"INSERT INTO inspection_auditevent ({columns}, seq, prev_hash, event_hash, mac) "  # noqa: S608 (constants)
        f"SELECT {', '.join(['%s'] * len(_COLUMNS))}, x.seq, x.prev, x.hash, {_MAC[vendor]} "
        f"FROM (SELECT h.seq + 1 AS seq, h.hash AS prev, {_HASH[vendor]} AS hash "
        f"FROM (SELECT COALESCE(l.head_seq, 0) AS seq, COALESCE(l.head_hash, %s) AS hash "
        f"FROM (SELECT 1) AS one LEFT JOIN {_HEAD[vendor]}) AS h) AS x "
        "RETURNING id, seq, prev_hash, event_hash, mac"
    )


def audit_record(*, actor, action: AuditAction, consignment=None, data: dict | None = None) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's atomic block (it refuses to run outside
    one). One statement: the INSERT reads the head (taking the lock on PostgreSQL) and computes the hash and
    the mac (from the seal computed here); what it returns is checked against what is computed here. `action`
    is an `AuditAction`, never a bare string: every action written has a label, and the audit search offers
    it."""
    if not isinstance(action, AuditAction):
        raise TypeError(f"audit_record takes an AuditAction, not {action!r}")
    action = action.value
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    # What the database will give back: dates, decimals and lazy strings as text, keys as strings.
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    event = AuditEvent(
        consignment=consignment,
        actor=actor,
        role=primary_role(actor) if actor is not None else "system",
        action=action,
        occurred_at=timezone.now(),
        data=data,
    )
    envelope = {
        "occurred_at": canonical_time(event.occurred_at),
        "actor_id": event.actor_id,
        "role": event.role,
        "action": action,
        "consignment_id": event.consignment_id,
        "data_text": canonical_json(data),
    }
    seal = event_seal(audit_event_key(), event_body(**envelope))
    before_seq, rest = event_text(seq=_SEQ, prev_hash=_PREV, **envelope).split(_SEQ)
    between, after_prev = rest.split(_PREV)
    values = [
        AuditEvent._meta.get_field(name).get_db_prep_save(
            getattr(event, AuditEvent._meta.get_field(name).attname), connection
        )
        for name in _COLUMNS
    ]
    head_param = [AUDIT_LOCK_KEY] if connection.vendor == "postgresql" else []
    with connection.cursor() as cursor:
        cursor.execute(
            _append_sql(connection.vendor),
            [*values, seal, before_seq, between, after_prev, GENESIS, *head_param],
        )
        event.pk, event.seq, event.prev_hash, event.event_hash, event.mac = cursor.fetchone()
    event._state.adding, event._state.db = False, connection.alias
    if event.event_hash != event_hash(seq=event.seq, prev_hash=event.prev_hash, **envelope):
        raise RuntimeError("the database computed another hash than the audit chain's")  # rolls back
    if event.mac != event_mac(seal, event.event_hash):
        raise RuntimeError("the database computed another mac than the audit chain's")
    return event


def audit_record_about(*, actor, action: AuditAction, subject, data: dict) -> AuditEvent:
    """An event about what a workflow task is about (its process's artifact): a consignment's own event, or
    an export application's, which names the application in its data as its other events do
    (`services.exports.export_audit`)."""
    from .models import Consignment

    if subject is None or isinstance(subject, Consignment):
        return audit_record(actor=actor, action=action, consignment=subject, data=data)
    return audit_record(actor=actor, action=action, data={"export": subject.reference, **data})
