"""Issuing the outcome of the checks. (The signed PDF certificate is rendered here in a later version.)"""

from django.db import transaction

from inspection.audit import audit_record
from inspection.models import Consignment, Decision, Notification
from inspection.services.notifications import notify


@transaction.atomic
def certificate_issue(*, consignment: Consignment) -> Decision | None:
    """Record that the decision in force was issued to the operator, and tell its users. Run by the flow's
    Celery job; idempotent: a second run issues nothing more. Nothing is issued for a consignment recalled
    meanwhile (its new decision will be)."""
    decision = consignment.decisions.filter(superseded=False).select_related("code").last()
    if decision is None:
        return None
    if consignment.audit_events.filter(action="certificate.issued", data__decision_id=decision.pk).exists():
        return decision
    audit_record(
        actor=None,
        action="certificate.issued",
        consignment=consignment,
        data={"decision_id": decision.pk, "decision": decision.code.code, "acceptable": decision.acceptable},
    )
    notify(consignment=consignment, kind=Notification.Kind.DECIDED)
    return decision
