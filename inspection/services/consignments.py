"""Pre-notification: an importer creates a CHED Part I (as a draft or straight away), edits a draft,
submits it, or cancels it. Then the post confirms when the goods are expected, and records when they came."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotPermitted, PartOneInvalid, TransitionNotAllowed
from inspection.models import Consignment, ConsignmentStatus, Notification, Operator
from inspection.ports import arrival_changed, start_inspection
from inspection.roles import Role, user_roles
from inspection.selectors import consignment_part_one
from inspection.services.notifications import notify
from inspection.services.part_one import PartOneCheck, part_one_write
from inspection.services.permissions import require_role
from inspection.services.references import reference_allocate
from inspection.services.transitions import consignment_transition


def _operator_of(actor) -> Operator:
    if Role.IMPORTER not in user_roles(actor) or not hasattr(actor, "membership"):
        raise NotPermitted(_("Only a user of an operator company can pre-notify a consignment."))
    return actor.membership.operator


def _own_draft(actor, consignment: Consignment) -> None:
    if _operator_of(actor).pk != consignment.operator_id:
        raise NotPermitted(_("This consignment belongs to another company."))
    if not consignment.is_draft:
        raise TransitionNotAllowed(
            _("Only a draft can be changed; this consignment is already %(status)s.")
            % {"status": consignment.get_status_display().lower()}
        )


def _checked(part: dict, *, complete: bool) -> PartOneCheck:
    check = PartOneCheck(part, now=timezone.now())
    errors = check.run(complete=complete)
    if errors:
        raise PartOneInvalid(errors)
    return check


@atomic_service
def consignment_create(*, actor, part_one: dict, draft: bool = False) -> Consignment:
    """Create a CHED from Part I and give it its CHED reference. Unless `draft`, it is submitted at once,
    under every rule of `consignment_submit`; when a rule fails nothing is stored (not even the number)."""
    operator = _operator_of(actor)
    check = _checked(part_one, complete=not draft)
    year = timezone.localdate().year
    consignment = Consignment(
        reference=reference_allocate(ched_type=check.ched_type, year=year),
        ched_type=check.ched_type,
        operator=operator,
        created_by=actor,
    )
    part_one_write(consignment, check)
    audit_record(
        actor=actor, action=AuditAction.CONSIGNMENT_CREATED, consignment=consignment, data={"part_one": part_one}
    )
    if not draft:
        _submit(actor=actor, consignment=consignment)
    return consignment


@atomic_service
def consignment_update_draft(*, actor, consignment: Consignment, part_one: dict, submit: bool = False) -> Consignment:
    """Replace a draft's Part I and, when `submit`, submit it in the same transaction (all or nothing).
    The CHED type is fixed with the reference: it cannot change."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    _own_draft(actor, consignment)
    if part_one.get("ched_type") != consignment.ched_type.code:
        raise PartOneInvalid({"ched_type": [_("The CHED type of a draft cannot change; start a new one.")]})
    check = _checked(part_one, complete=submit)
    part_one_write(consignment, check)
    audit_record(
        actor=actor, action=AuditAction.CONSIGNMENT_DRAFT_UPDATED, consignment=consignment, data={"part_one": part_one}
    )
    if submit:
        _submit(actor=actor, consignment=consignment)
    return consignment


@atomic_service
def consignment_submit(*, actor, consignment: Consignment) -> Consignment:
    """Submit a draft: Part I must be complete, its codes from the reference data in force, the BCP approved
    for the CHED type, and the pre-notification deadline met (Implementing Regulation (EU) 2019/1013)."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    _own_draft(actor, consignment)
    _checked(consignment_part_one(consignment), complete=True)
    _submit(actor=actor, consignment=consignment)
    return consignment


def _submit(*, actor, consignment: Consignment) -> None:
    consignment_transition(
        consignment=consignment,
        to=ConsignmentStatus.SUBMITTED,
        actor=actor,
        action=AuditAction.CONSIGNMENT_SUBMITTED,
        fields={"submitted_at": timezone.now()},
    )
    notify(consignment=consignment, kind=Notification.Kind.SUBMITTED)
    # Step 1 of the inspection flow; in this transaction, so a submit and its inspection exist together.
    start_inspection(consignment)


@atomic_service
def consignment_cancel(*, actor, consignment: Consignment, reason: str = "") -> Consignment:
    """Cancel a draft the importer will not submit. It keeps its number, so numbering stays gap-free."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    _own_draft(actor, consignment)
    consignment_transition(
        consignment=consignment,
        to=ConsignmentStatus.CANCELLED,
        actor=actor,
        action=AuditAction.CONSIGNMENT_CANCELLED,
        data={"reason": reason},
    )
    return consignment


@atomic_service
def consignment_clone(*, actor, consignment: Consignment) -> Consignment:
    """A new draft from a consignment of the actor's company: same CHED type, parties, origin, BCP, purpose,
    transport mode, commodity lines and document types. What belongs to one shipment only (arrival, vessel
    or flight, transport document, containers and seals, document numbers and files) is left blank."""
    if _operator_of(actor).pk != consignment.operator_id:
        raise NotPermitted(_("This consignment belongs to another company."))
    part = consignment_part_one(consignment)
    part["arrival"] = {
        "expected_at": None,
        "transport_mode": part["arrival"]["transport_mode"],
        "transport_id": "",
        "transport_document": "",
    }
    part["containers"] = []
    part["accompanying_documents"] = [{"type": d["type"], "reference": ""} for d in part["accompanying_documents"]]
    clone = consignment_create(actor=actor, part_one=part, draft=True)
    audit_record(
        actor=actor, action=AuditAction.CONSIGNMENT_CLONED, consignment=clone, data={"from": consignment.reference}
    )
    return clone


OPEN_FOR_ARRIVAL = [ConsignmentStatus.SUBMITTED, ConsignmentStatus.CHECKING]


@atomic_service
def consignment_arrival_confirm(*, actor, consignment: Consignment, expected_arrival, source: str) -> Consignment:
    """The post records the confirmed arrival time of a submitted consignment (a vessel's or a flight's
    updated ETA, from `source`: the port's schedule, the carrier). Staff only; the pre-notification
    deadline is the submit's rule and is not checked again."""
    require_role(actor, Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR)
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    if consignment.status not in OPEN_FOR_ARRIVAL:
        raise TransitionNotAllowed(_("The goods of this consignment have already been checked."))
    previous = consignment.expected_arrival
    consignment.expected_arrival = expected_arrival
    consignment.save(update_fields=["expected_arrival"])
    audit_record(
        actor=actor,
        action=AuditAction.ARRIVAL_CONFIRMED,
        consignment=consignment,
        data={"expected_arrival": expected_arrival.isoformat(), "previous": previous.isoformat(), "source": source},
    )
    arrival_changed(consignment)  # the documentary check's deadline counts from the arrival
    return consignment


# Until the decision, the goods can be recorded as arrived (a documentary-only consignment may be decided on
# its documents before the goods come: then it is too late to record them).
OPEN_FOR_ARRIVED = [ConsignmentStatus.SUBMITTED, ConsignmentStatus.CHECKING, ConsignmentStatus.AWAITING_DECISION]
# A tablet's clock a little ahead of the server's is not a time in the future.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@atomic_service
def consignment_arrival_record(*, actor, consignment: Consignment, arrived_at: datetime.datetime) -> Consignment:
    """The post records that the goods are at the BCP, at `arrived_at`: identity and physical checks can
    start (Regulation (EU) 2017/625 art. 49(1): official controls "upon arrival" at the BCP). Staff only,
    once, before the decision. The time is neither before the submit (a pre-notification comes before the
    goods, 2017/625 art. 56(4)) nor in the future; one up to `CLOCK_SKEW` ahead is a device's clock and is
    recorded as now, so that no check or decision ever precedes the recorded arrival. `consignment` is
    kept current for the caller."""
    require_role(actor, Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR)
    locked = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    if locked.status not in OPEN_FOR_ARRIVED:
        raise TransitionNotAllowed(_("This consignment is already decided: its arrival can no longer be recorded."))
    if locked.arrived_at is not None:
        raise TransitionNotAllowed(
            _("The arrival of these goods was already recorded, at %(time)s.")
            % {"time": timezone.localtime(locked.arrived_at).strftime("%d/%m/%Y %H:%M")}
        )
    now = timezone.now()
    if arrived_at > now + CLOCK_SKEW:
        raise DomainInvalid({"arrived_at": [_("The arrival cannot be in the future.")]})
    if locked.submitted_at and arrived_at < locked.submitted_at:
        raise DomainInvalid({"arrived_at": [_("The goods cannot have arrived before the consignment was submitted.")]})
    locked.arrived_at = consignment.arrived_at = min(arrived_at, now)
    locked.save(update_fields=["arrived_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CONSIGNMENT_ARRIVED,
        consignment=locked,
        data={"arrived_at": locked.arrived_at.isoformat(), "expected_arrival": _iso(locked.expected_arrival)},
    )
    arrival_changed(locked)
    return locked


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
