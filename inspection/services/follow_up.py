"""Part III: the follow-up of a refused or channelled consignment."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.applicability import outcomes_for
from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid
from inspection.models import Consignment, ConsignmentStatus, FollowUp, NotificationKind
from inspection.roles import Step
from inspection.selectors import decision_in_force, decisions_calling_for_follow_up
from inspection.services.certificates import certificate_part_three_render, certificate_part_three_store
from inspection.services.notifications import notify
from inspection.services.permissions import require_step
from inspection.services.transitions import consignment_transition


def follow_up_outcomes(consignment: Consignment) -> list[str]:
    """The Part III outcomes that close the consignment's decision in force: arrival at destination when it was
    channelled, transferred to a control point or sent on for onward transportation (arrived or not), the
    measure's outcomes when it was refused (a destruction order is not closed by "arrived")."""
    decision = decision_in_force(consignment)
    if decision is None:
        return []
    return outcomes_for(code=decision.code.code, measure=decision.measure)


@atomic_service
def follow_up_record(*, actor, consignment: Consignment, outcome: str, evidence: str) -> FollowUp:
    """What became of the goods (Regulation (EU) 2017/625, arts. 66-72): destroyed, re-dispatched,
    treated, used for other purposes, or, when channelled, arrived at destination; only an outcome of the
    decision's measure (`follow_up_outcomes`). Evidence is required
    (a destruction certificate, the exit document...). Closes the consignment. The signed CHED is issued again
    with its Part III (a new number; the one before reads replaced)."""
    require_step(actor, Step.FOLLOW_UP)
    allowed = follow_up_outcomes(consignment)
    if outcome not in allowed:
        raise DomainInvalid(
            {
                "outcome": [
                    _("This outcome does not close this decision. Choose one of: %(outcomes)s.")
                    % {"outcomes": ", ".join(str(FollowUp.Outcome(code).label) for code in allowed)}
                ]
            }
        )
    if not evidence.strip():
        raise DomainInvalid({"evidence": [_("Describe the evidence (document, reference, date).")]})
    return part_three_close(actor=actor, consignment=consignment, outcome=outcome, evidence=evidence)


def part_three_close(*, actor, consignment: Consignment, outcome: str, evidence: str, **audit) -> FollowUp:
    """Part III recorded (the follow-up, or the arrival confirmed by the receiving side: one fact, one row)
    and the consignment closed, in the caller's transaction; `audit` joins the event's data. The signed CHED
    is issued again with its Part III (rendered before the audit event, stored after it)."""
    follow_up = FollowUp.objects.create(
        consignment=consignment, outcome=outcome, evidence=evidence, inspector=actor, recorded_at=timezone.now()
    )
    reissue = certificate_part_three_render(consignment=consignment)
    consignment_transition(
        consignment=consignment,
        to=ConsignmentStatus.CLOSED,
        actor=actor,
        action=AuditAction.FOLLOW_UP_RECORDED,
        data={"outcome": outcome, "evidence": evidence, **audit},
    )
    if reissue is not None:
        certificate_part_three_store(reissue, actor=actor)
    return follow_up


def follow_up_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Tell each company whose consignment needs a follow-up (`decisions_calling_for_follow_up`: refused or
    channelled), with a measure deadline within `PIF_FOLLOW_UP_REMINDER_DAYS` days and no follow-up yet, once
    per deadline (a recall's new deadline is told again). Run by beat; each reminder is its own transaction,
    under the consignment's row lock, so two runs at once remind once. Returns how many were sent."""
    today = timezone.localdate(now or timezone.now())
    horizon = today + datetime.timedelta(days=settings.PIF_FOLLOW_UP_REMINDER_DAYS)
    due = (
        decisions_calling_for_follow_up()
        .filter(measure_deadline__gte=today, measure_deadline__lte=horizon, consignment__follow_up__isnull=True)
        .values_list("consignment_id", "measure_deadline")
        .order_by("id")
    )
    sent = 0
    for consignment_id, deadline in due:
        with transaction.atomic():
            consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment_id)
            if consignment.audit_events.filter(
                action=AuditAction.FOLLOW_UP_REMINDED, data__deadline=deadline.isoformat()
            ).exists():
                continue
            audit_record(
                actor=None,
                action=AuditAction.FOLLOW_UP_REMINDED,
                consignment=consignment,
                data={"deadline": deadline.isoformat()},
            )
            notify(consignment=consignment, kind=NotificationKind.FOLLOW_UP_DUE, deadline=deadline)
            sent += 1
    return sent
