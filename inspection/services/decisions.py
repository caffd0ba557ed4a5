"""Part II: the decision, and the four-eyes countersignature of refusals."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.errors import NotPermitted, PartOneInvalid, TransitionNotAllowed
from inspection.models import Consignment, ConsignmentStatus, Decision, DecisionCode, Measure, RefusalReason
from inspection.roles import Step
from inspection.services.permissions import require_step
from inspection.services.transitions import consignment_transition

S = ConsignmentStatus


@atomic_service
def decision_record(
    *,
    actor,
    consignment: Consignment,
    code: str,
    measure: str = "",
    measure_deadline: datetime.date | None = None,
    reasons: list[str] = (),
    notes: str = "",
) -> Decision:
    """The certifying officer's decision (Regulation (EU) 2017/625, arts. 55 and 66). A consignment that is
    not acceptable needs a measure (destruction, re-dispatch, ...), a deadline in the future and at least
    one coded reason; it then waits for a supervisor's countersignature. An acceptable one needs none."""
    require_step(actor, Step.DECISION)
    today = timezone.localdate()
    decision_code = DecisionCode.objects.in_force(today).filter(code=code).first()
    errors: dict[str, list[str]] = {}
    if decision_code is None:
        errors["code"] = [_("Choose a decision.")]
    elif not decision_code.acceptable:
        if not measure:
            errors["measure"] = [_("A refusal needs a measure.")]
        if measure_deadline is None or measure_deadline <= today:
            errors["measure_deadline"] = [_("Give a deadline in the future for the measure.")]
        if not reasons:
            errors["reasons"] = [_("Give at least one reason for the refusal.")]
    else:
        if measure or reasons:
            errors["measure"] = [_("An acceptable consignment takes no measure and no refusal reason.")]
        failed = consignment.samples.filter(result__isnull=False).exclude(result__conclusion="satisfactory")
        if failed.exists():
            errors["code"] = [
                _("Sample %(number)s has a result that is not satisfactory: the consignment cannot be accepted.")
                % {"number": failed.first().number}
            ]
    measure_row = Measure.objects.in_force(today).filter(code=measure).first() if measure else None
    if measure and measure_row is None:
        errors["measure"] = [_("Unknown measure “%(code)s”.") % {"code": measure}]
    reason_rows = list(RefusalReason.objects.in_force(today).filter(code__in=reasons))
    if len(reason_rows) != len(set(reasons)):
        errors["reasons"] = [_("Unknown refusal reason.")]
    if errors:
        raise PartOneInvalid(errors)
    decision = Decision.objects.create(
        consignment=consignment,
        code=decision_code,
        measure=measure_row,
        measure_deadline=measure_deadline,
        notes=notes,
        officer=actor,
        decided_at=timezone.now(),
    )
    if reason_rows:  # a new decision has no reasons yet: add, without reading them first as `set` does
        decision.reasons.add(*reason_rows)
    consignment_transition(
        consignment=consignment,
        to=S.ACCEPTED if decision_code.acceptable else S.AWAITING_COUNTERSIGN,
        actor=actor,
        action="decision.recorded",
        data={
            "decision": code,
            "measure": measure,
            "measure_deadline": measure_deadline,
            "reasons": list(reasons),
            "notes": notes,
        },
    )
    return decision


@atomic_service
def decision_countersign(*, actor, decision: Decision, approve: bool, comment: str = "") -> Decision:
    """Four eyes on a refusal: a supervisor other than the officer who decided confirms it (the consignment
    is then refused) or sends it back to the officer with a comment (a new decision is needed)."""
    require_step(actor, Step.COUNTERSIGN)
    if decision.officer_id == actor.pk:
        raise NotPermitted(_("You cannot countersign your own refusal."))
    if decision.countersigned_at is not None or decision.superseded:
        raise TransitionNotAllowed(_("This decision has already been countersigned or sent back."))
    if not approve and not comment.strip():
        raise PartOneInvalid({"comment": [_("Say why the refusal is sent back.")]})
    consignment = decision.consignment
    if approve:
        decision.countersigned_by, decision.countersigned_at = actor, timezone.now()
        decision.save(update_fields=["countersigned_by", "countersigned_at"])
        target, action = S.REFUSED, "decision.countersigned"
    else:
        decision.superseded = True
        decision.save(update_fields=["superseded"])
        target, action = S.AWAITING_DECISION, "decision.sent_back"
    consignment_transition(
        consignment=consignment,
        to=target,
        actor=actor,
        action=action,
        data={"decision": decision.code.code, "comment": comment},
    )
    return decision
