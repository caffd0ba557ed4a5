"""Supervisors' answers to escalations (a late lab result, a documentary check not started in time)."""

from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record_about
from inspection.errors import DomainInvalid
from inspection.models import Consignment, ExportApplication
from inspection.roles import Step
from inspection.services.permissions import require_step


@atomic_service
def escalation_acknowledge(
    *, actor, consignment: Consignment | ExportApplication, kind: str, action_taken: str
) -> None:
    """A supervisor records what was done about an escalation (chased the lab, assigned an inspector...), on
    the trail of the consignment or of the export application it is about."""
    require_step(actor, Step.ESCALATION)
    if not action_taken.strip():
        raise DomainInvalid({"action_taken": [_("Say what was done.")]})
    audit_record_about(
        actor=actor,
        action=AuditAction.ESCALATION_ACKNOWLEDGED,
        subject=consignment,
        data={"kind": kind, "action_taken": action_taken},
    )
