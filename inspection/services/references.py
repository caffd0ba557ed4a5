"""CHED references: `CHED<type>.<series>.<year>.<7 digits>`, in our own series (`PIF_REFERENCE_SERIES`, e.g.
`MQ`), distinct from TRACES NT's (a member state's code); TRACES' number is recorded beside it when known
(`Consignment.traces_reference`)."""

from django.conf import settings
from django.db import transaction

from inspection.models import ChedType, ReferenceSequence


def reference_allocate(*, ched_type: ChedType, year: int) -> str:
    """Give the next CHED reference for this type and year.

    Unique and gap-free: the counter row is locked (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the
    IMMEDIATE transaction already holds the write lock) and incremented in the caller's transaction, so a
    rolled-back submit gives its number back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reference_allocate must run inside the transaction that stores the consignment")
    sequence, _ = ReferenceSequence.objects.select_for_update(no_key=True).get_or_create(ched_type=ched_type, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{ched_type.reference_prefix}.{settings.PIF_REFERENCE_SERIES}.{year}.{sequence.last:07d}"
