"""Part II: the decision, and the four-eyes countersignature of refusals."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from inspection.applicability import (
    DECISION_DETAILS,
    acceptance_blockers,
    decision_codes_for,
    measures_for,
    refusal_reasons_for,
)
from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.errors import DomainInvalid, NotPermitted, TransitionNotAllowed
from inspection.models import Consignment, ConsignmentStatus, Decision, IntensifiedControl
from inspection.roles import Step
from inspection.services.fees import fee_statement
from inspection.services.intensified import HEALTH_REFUSAL_REASONS, intensified_control_count, intensified_control_open
from inspection.services.onward import arrival_point_resolve
from inspection.services.permissions import require_step
from inspection.services.transitions import consignment_transition

S = ConsignmentStatus

# What each detail a decision may require is, in the messages that ask for it.
DETAIL_LABELS = {
    "exit_bcp": _lazy("the exit BCP"),
    "destination_country": _lazy("the third country of destination"),
    "destination": _lazy("the destination (establishment or control point)"),
    "warehouse": _lazy("the approved warehouse"),
    "control_point": _lazy("the control point"),
    "control_point_code": _lazy("the control point's code"),
    "next_bcp": _lazy("the next BCP on the same vessel or aircraft"),
    "onward_facility": _lazy("the onward transportation facility"),
    "arrival_point": _lazy("the control point, establishment or warehouse (code)"),
}


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
    exit_bcp: str = "",
    destination_country: str = "",
    destination: str = "",
    warehouse: str = "",
    control_point: str = "",
    control_point_code: str = "",
    next_bcp: str = "",
    onward_facility: str = "",
    arrival_point: str = "",
) -> Decision:
    """The certifying officer's decision (Regulation (EU) 2017/625, arts. 55 and 66). A consignment that is
    not acceptable needs a measure (destruction, re-dispatch, ...), a deadline in the future and at least
    one coded reason; it then waits for a supervisor's countersignature. An acceptable one needs none, and
    cannot follow a documentary, identity or physical check that was not satisfactory, nor a sample result
    that was not (art. 55(1): the decision rests on the checks). The decision, its measure and its reasons
    must apply to the consignment's CHED type, and the decision's details must be given (transit: exit BCP
    and third country of destination, Delegated Regulation (EU) 2019/2124; channelled: the destination;
    specific warehouse: the approved warehouse; transfer to a control point: the control point and its code;
    onward travel: the next BCP on the same vessel or aircraft; onward transportation: the onward
    transportation facility, Implementing Regulation (EU) 2019/1715, Annex II, boxes II.9, II.10). Channelled,
    transfer, onward transportation and specific warehouse name the place from the reference data
    (`arrival_point`, a code: `inspection.services.onward.arrival_point_resolve`), whose authority then confirms
    the arrival. An acceptable
    decision counts as a favourable result for the intensified controls that covered the consignment
    (`intensified_control_count`). See docs/regulation.md."""
    require_step(actor, Step.DECISION)
    today = timezone.localdate()
    details = {
        "exit_bcp": exit_bcp.strip(),
        "destination_country": destination_country,
        "destination": destination.strip(),
        "warehouse": warehouse.strip(),
        "control_point": control_point.strip(),
        "control_point_code": control_point_code.strip(),
        "next_bcp": next_bcp.strip(),
        "onward_facility": onward_facility.strip(),
        "arrival_point": arrival_point.strip(),
    }
    ched_type_id = consignment.ched_type_id
    decision_code = decision_codes_for(ched_type_id, today).filter(code=code).first()
    errors: dict[str, list[str]] = {}
    if decision_code is None:
        errors["code"] = [_("Choose a decision that applies to this CHED type.")]
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
        errors.update(_acceptance_refused(consignment))
        for field in decision_code.requires:
            if not details.get(field):
                errors[field] = [
                    _("The decision “%(decision)s” needs this field: %(field)s.")
                    % {"decision": decision_code.name, "field": DETAIL_LABELS[field]}
                ]
    if decision_code is not None:
        for field in DECISION_DETAILS:
            if details[field] and field not in decision_code.requires:
                errors[field] = [_("This decision does not take this field.")]
    measure_row = measures_for(ched_type_id, today).filter(code=measure).first() if measure else None
    if measure and measure_row is None:
        errors["measure"] = [_("The measure “%(code)s” does not apply to this CHED type.") % {"code": measure}]
    reason_rows = list(refusal_reasons_for(ched_type_id, today).filter(code__in=reasons)) if reasons else []
    if len(reason_rows) != len(set(reasons)):
        errors["reasons"] = [_("A refusal reason does not apply to this CHED type.")]
    if errors:
        raise DomainInvalid(errors)
    point, named = arrival_point_resolve(
        decision_code=decision_code.code, ched_type_id=ched_type_id, code=details.pop("arrival_point")
    )
    details.update(named)
    # the fees of the controls (Regulation (EU) 2017/625, art. 79), drawn with the decision and stored on it
    fees = fee_statement(consignment=consignment, decision_code=decision_code.code)
    decision = Decision.objects.create(
        consignment=consignment,
        code=decision_code,
        **fees,
        measure=measure_row,
        measure_deadline=measure_deadline,
        notes=notes,
        **details,
        arrival_point=point,
        officer=actor,
        decided_at=timezone.now(),
    )
    if reason_rows:  # a new decision has no reasons yet: add, without reading them first as `set` does
        decision.reasons.add(*reason_rows)
    consignment_transition(
        consignment=consignment,
        to=S.ACCEPTED if decision_code.acceptable else S.AWAITING_COUNTERSIGN,
        actor=actor,
        action=AuditAction.DECISION_RECORDED,
        data={
            "decision": code,
            "measure": measure,
            "measure_deadline": measure_deadline,
            "reasons": list(reasons),
            "notes": notes,
            **{field: value for field, value in details.items() if value},
            **({"arrival_point": point.code} if point else {}),
            "fees_eur": str(fees["fee_total_eur"]),
        },
    )
    if decision_code.acceptable:
        intensified_control_count(consignment=consignment)
    return decision


def _acceptance_refused(consignment: Consignment) -> dict[str, list[str]]:
    """Why this consignment cannot be accepted, on the `code` field: a check or a sample result that was not
    satisfactory."""
    labels = {"documentary": _("documentary check"), "identity": _("identity check"), "physical": _("physical check")}
    checks, sample = acceptance_blockers(consignment)
    messages = [
        _("The %(check)s was not satisfactory: the consignment cannot be accepted.") % {"check": labels[step]}
        for step in checks
    ]
    if sample is not None:
        messages.append(
            _("Sample %(number)s has a result that is not satisfactory: the consignment cannot be accepted.")
            % {"number": sample}
        )
    return {"code": messages} if messages else {}


@atomic_service
def decision_countersign(*, actor, decision: Decision, approve: bool, comment: str = "") -> Decision:
    """Four eyes on a refusal: a supervisor other than the officer who decided confirms it (the consignment
    is then refused) or sends it back to the officer with a comment (a new decision is needed). A confirmed
    refusal for a health reason (`HEALTH_REFUSAL_REASONS`) opens intensified controls on the goods' origin
    (`intensified_control_open`)."""
    require_step(actor, Step.COUNTERSIGN)
    if decision.officer_id == actor.pk:
        raise NotPermitted(_("You cannot countersign your own refusal."))
    if decision.countersigned_at is not None or decision.superseded:
        raise TransitionNotAllowed(_("This decision has already been countersigned or sent back."))
    if not approve and not comment.strip():
        raise DomainInvalid({"comment": [_("Say why the refusal is sent back.")]})
    consignment = decision.consignment
    if approve:
        decision.countersigned_by, decision.countersigned_at = actor, timezone.now()
        decision.save(update_fields=["countersigned_by", "countersigned_at"])
        target, action = S.REFUSED, AuditAction.DECISION_COUNTERSIGNED
    else:
        decision.superseded = True
        decision.save(update_fields=["superseded"])
        target, action = S.AWAITING_DECISION, AuditAction.DECISION_SENT_BACK
    consignment_transition(
        consignment=consignment,
        to=target,
        actor=actor,
        action=action,
        data={"decision": decision.code.code, "comment": comment},
    )
    if approve:
        health = sorted(
            code for code in decision.reasons.values_list("code", flat=True) if code in HEALTH_REFUSAL_REASONS
        )
        if health:
            intensified_control_open(
                consignment=consignment,
                cause=IntensifiedControl.Cause.REFUSAL,
                hazard=f"refused ({', '.join(health)}), {consignment.reference}",
            )
    return decision
