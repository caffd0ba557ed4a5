"""The audit trail. Every service that changes state calls `audit_record` inside its own transaction,
so the change and its record commit or roll back together."""

from django.db import transaction
from django.utils import timezone

from .models import AuditEvent
from .roles import primary_role


def audit_record(*, actor, action: str, consignment=None, data: dict | None = None) -> AuditEvent:
    """Append one event. Must run inside the caller's atomic block (it refuses to run outside one)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    return AuditEvent.objects.create(
        consignment=consignment,
        actor=actor,
        role=primary_role(actor) if actor is not None else "system",
        action=action,
        occurred_at=timezone.now(),
        data=data or {},
    )
