"""The audit trail. Every service that changes state calls `audit_record` inside its own transaction,
so the change and its record commit or roll back together.

Appends are serialised so that the chain never forks: on PostgreSQL a transaction-scoped advisory lock,
taken just before reading the head and released at commit; on SQLite the IMMEDIATE transaction (settings)
already holds the database's write lock from BEGIN. See docs/decisions/0005-audit-chain.md."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .audit_chain import GENESIS, canonical_json, canonical_time, event_hash
from .models import AuditEvent
from .roles import primary_role

# pg_advisory_xact_lock key of the audit chain (any constant the application uses for nothing else).
AUDIT_LOCK_KEY = 7_410_392_812_604_231


def audit_chain_lock_head() -> tuple[int, str]:
    """Take the append lock (held until the end of the current transaction) and return (seq, hash) of the
    last event, or (0, GENESIS). One query: on PostgreSQL a function of migration 0008 that locks, then reads
    with a fresh snapshot; on SQLite the IMMEDIATE transaction is the lock and the head is read on the unique
    index of `seq`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT head_seq, head_hash FROM pif_audit_lock_head(%s)", [AUDIT_LOCK_KEY])
            head = cursor.fetchone()
    else:
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "event_hash").first()
    return tuple(head) if head else (0, GENESIS)


def audit_record(*, actor, action: str, consignment=None, data: dict | None = None) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's atomic block (it refuses to run outside
    one). Costs two queries: the lock and head, and the insert."""
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
    seq, prev_hash = audit_chain_lock_head()
    event.seq, event.prev_hash = seq + 1, prev_hash
    event.event_hash = event_hash(
        seq=event.seq,
        prev_hash=prev_hash,
        occurred_at=canonical_time(event.occurred_at),
        actor_id=event.actor_id,
        role=event.role,
        action=action,
        consignment_id=event.consignment_id,
        data_text=canonical_json(data),
    )
    event.save(force_insert=True)
    return event
