"""Goods sent on under control after the decision: the control point, establishment or warehouse a decision
names (`arrival_point_resolve`, for `decision_record`), and the receiving side's confirmation of their arrival,
which is the consignment's Part III (`arrival_confirm`). docs/regulation.md, section 12."""

import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inspection.applicability import for_ched_type
from inspection.atomic import atomic_service
from inspection.errors import DomainInvalid, TransitionNotAllowed
from inspection.models import ArrivalConfirmation, Consignment, ConsignmentStatus, ControlPoint, Decision, FollowUp
from inspection.roles import Step
from inspection.selectors import decision_in_force
from inspection.services.follow_up import part_three_close
from inspection.services.permissions import require_step

K = ControlPoint.Kind

# The decisions that send goods on under control: the kind of place each names, and the text field of the
# decision (printed in its Part II box) that the place fills.
#   channelled: the establishment at the place of destination (Delegated Regulation (EU) 2019/1666 arts 2-3);
#   transfer: a control point (Delegated Regulation (EU) 2019/2123 art. 2(1)(a));
#   onward transportation: an onward transportation facility (Delegated Regulation (EU) 2019/2124 arts 2(5), 4);
#   specific warehouse: an approved warehouse (2019/2124 arts 2(9), 23).
ARRIVAL_POINTS = {
    "acceptable_if_channelled": (K.ESTABLISHMENT, "destination"),
    "acceptable_for_transfer": (K.CONTROL_POINT, "control_point"),
    "acceptable_for_onward_transportation": (K.ONWARD_FACILITY, "onward_facility"),
    "acceptable_for_specific_warehouse": (K.WAREHOUSE, "warehouse"),
}


def arrival_point_resolve(*, decision_code: str, ched_type_id: int, code: str) -> tuple[ControlPoint | None, dict]:
    """The place named by `code` for a decision of `decision_code`, and the decision's text fields it fills
    (the name and address, and the code of a control point: box II.9-II.14 and II.18). It must be in force
    today, of the kind the decision sends goods to, and able to receive the CHED type; otherwise a
    `DomainInvalid` on `arrival_point`. A decision that sends no goods on takes none."""
    if decision_code not in ARRIVAL_POINTS or not code:
        return None, {}
    kind, field = ARRIVAL_POINTS[decision_code]
    point = ControlPoint.objects.in_force(timezone.localdate()).filter(code=code).first()
    if point is None:
        raise DomainInvalid(
            {
                "arrival_point": [
                    _("No control point, establishment or warehouse “%(code)s” is in force.") % {"code": code[:40]}
                ]
            }
        )
    if point.kind != kind:
        raise DomainInvalid(
            {
                "arrival_point": [
                    _("This decision sends the goods to: %(kind)s; “%(code)s” is: %(other)s.")
                    % {"kind": K(kind).label, "code": point.code, "other": point.get_kind_display()}
                ]
            }
        )
    if not for_ched_type(ControlPoint.objects.filter(pk=point.pk), ched_type_id).exists():
        raise DomainInvalid({"arrival_point": [_("“%(code)s” may not receive this CHED type.") % {"code": point.code}]})
    # printed on the certificate, which is rendered in the post's language whoever decided
    with translation.override(settings.LANGUAGE_CODE):
        place = f"{point.name}, {point.address}"
    if field == "control_point":
        return point, {field: place[:300], "control_point_code": point.code}
    return point, {field: f"{place[:280]} ({point.code})"}


def arrival_expected(consignment: Consignment) -> bool:
    """Whether the decision in force sent the goods on to a named place whose arrival the receiving side
    confirms (the flow's gateway after the certificate; it then takes the place of the follow-up)."""
    in_force = consignment.decisions.filter(superseded=False).order_by("-id").values_list("arrival_point_id", flat=True)
    return next(iter(in_force[:1]), None) is not None


def arrival_confirmation_due(consignment: Consignment) -> datetime.datetime:
    """When the arrival should have been confirmed: `PIF_ARRIVAL_CONFIRMATION_DAYS` (15) days from the
    decision that authorised the goods to go on (2019/1666 art. 3(4); 2019/2124 art. 7), then the supervisors
    investigate."""
    decision = decision_in_force(consignment)
    start = decision.decided_at if decision is not None else timezone.now()
    return start + datetime.timedelta(days=settings.PIF_ARRIVAL_CONFIRMATION_DAYS)


@atomic_service
def arrival_confirm(
    *,
    actor,
    consignment: Consignment,
    arrived: bool,
    arrived_on: datetime.date | None = None,
    seals_intact: bool | None = None,
    notes: str = "",
) -> ArrivalConfirmation:
    """The authority at the control point, establishment or warehouse confirms that the goods arrived there
    (date, seals intact or not) or that they did not (what is known), which is Part III of the same CHED
    (2019/1666 art. 3(2)). It closes the consignment as the follow-up does (`part_three_close`), once:
    one fact, one Part III. Who confirms in this single-post service: an inspector (assumed, docs/regulation.md
    section 12)."""
    require_step(actor, Step.ARRIVAL_CONFIRMATION)
    # the row lock makes a second confirmation at the same time wait here, then find the first one's (in the
    # caller's instance, read again: the flow's gateways that follow read it)
    consignment.refresh_from_db(from_queryset=Consignment.objects.select_for_update(no_key=True))
    decision: Decision | None = decision_in_force(consignment)
    if (
        consignment.status != ConsignmentStatus.ACCEPTED
        or decision is None
        or decision.arrival_point_id is None
        or ArrivalConfirmation.objects.filter(consignment=consignment).exists()
    ):
        raise TransitionNotAllowed(_("This consignment awaits no confirmation of arrival."))
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if arrived:
        if arrived_on is None:
            errors["arrived_on"] = [_("Give the date the goods arrived.")]
        elif arrived_on > today or arrived_on < timezone.localdate(decision.decided_at):
            errors["arrived_on"] = [_("The date of arrival is between the decision and today.")]
        if seals_intact is None:
            errors["seals_intact"] = [_("Say whether the seals were intact.")]
    else:
        if arrived_on is not None or seals_intact is not None:
            errors["arrived"] = [_("Goods that did not arrive have no date of arrival nor seals.")]
        if not notes.strip():
            errors["notes"] = [_("Say what is known of the goods (the supervisors investigate).")]
    if errors:
        raise DomainInvalid(errors)
    confirmation = ArrivalConfirmation.objects.create(
        consignment=consignment,
        control_point=decision.arrival_point,
        arrived=arrived,
        arrived_on=arrived_on,
        seals_intact=seals_intact,
        notes=notes,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
    )
    point = decision.arrival_point
    # in both languages, as the certificate that prints it (Part III)
    evidence = " / ".join(_evidence(point, arrived_on, seals_intact, language) for language in ("fr", "en"))
    if notes.strip():
        evidence = f"{evidence} {notes.strip()}"
    part_three_close(
        actor=actor,
        consignment=consignment,
        outcome=FollowUp.Outcome.ARRIVED if arrived else FollowUp.Outcome.NOT_ARRIVED,
        evidence=evidence,
        arrival_point=point.code,
        arrived_on=arrived_on.isoformat() if arrived_on else None,
        seals_intact=seals_intact,
    )
    return confirmation


def _evidence(point: ControlPoint, arrived_on: datetime.date | None, seals_intact: bool | None, language: str) -> str:
    with translation.override(language):
        if arrived_on is None:
            return _("Did not arrive at %(place)s (%(code)s).") % {"place": point.name, "code": point.code}
        return _("Arrived at %(place)s (%(code)s) on %(date)s, %(seals)s.") % {
            "place": point.name,
            "code": point.code,
            "date": arrived_on.strftime("%d/%m/%Y"),
            "seals": _("seals intact") if seals_intact else _("seals NOT intact"),
        }
