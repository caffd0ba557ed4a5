"""Part III: the follow-up of a refused or channelled consignment."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.errors import PartOneInvalid
from inspection.models import Consignment, ConsignmentStatus, FollowUp
from inspection.roles import Role
from inspection.services.permissions import require_role
from inspection.services.transitions import consignment_transition


@transaction.atomic
def follow_up_record(*, actor, consignment: Consignment, outcome: str, evidence: str) -> FollowUp:
    """What became of the goods (Regulation (EU) 2017/625, arts. 66-72): destroyed, re-dispatched,
    treated, used for other purposes, or, when channelled, arrived at destination. Evidence is required
    (a destruction certificate, the exit document...). Closes the consignment."""
    require_role(actor, Role.INSPECTOR)
    if outcome not in FollowUp.Outcome.values:
        raise PartOneInvalid({"outcome": [_("Choose what became of the goods.")]})
    if not evidence.strip():
        raise PartOneInvalid({"evidence": [_("Describe the evidence (document, reference, date).")]})
    follow_up = FollowUp.objects.create(
        consignment=consignment, outcome=outcome, evidence=evidence, inspector=actor, recorded_at=timezone.now()
    )
    consignment_transition(
        consignment=consignment,
        to=ConsignmentStatus.CLOSED,
        actor=actor,
        action="follow_up.recorded",
        data={"outcome": outcome, "evidence": evidence},
    )
    return follow_up
