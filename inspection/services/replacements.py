"""A replacement CHED: once the BCP has started its checks, Part I no longer changes in place
(`services/amendments.py`); a corrected Part I is a new CHED that supersedes the old one.

As TRACES NT (and the UK's IPAFFS, whose notification carries `replaces` and `replacedBy` and the status
`REPLACED`): the replacement has a number of its own, names the CHED it replaces in box II.1 "Previous CHED"
(Implementing Regulation (EU) 2019/1715, Annex II), the old one reads "replaced" with a link to the new one, and
the new one goes through the checks itself (docs/regulation.md, section 13)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import NotPermitted, PartOneInvalid, TransitionNotAllowed
from inspection.models import Consignment, ConsignmentStatus, Notification, Succession, TracesEvent
from inspection.ports import inspection_lock, inspection_stop, start_inspection
from inspection.roles import STEP_ROLES, Role, Step, user_roles
from inspection.selectors import consignment_part_one, sample_result_pending
from inspection.services.amendments import checks_started, part_one_changes
from inspection.services.documents import documents_carry_over
from inspection.services.notifications import notify
from inspection.services.part_one import PartOneCheck, part_one_write
from inspection.services.references import reference_allocate
from inspection.services.traces import traces_exchange_queue
from inspection.services.transitions import consignment_transition

S = ConsignmentStatus
# Between the start of the checks and the decision. A decided CHED is not replaced: its decision and signed
# certificate stand, and a decision found wrong is re-opened by a recall or a new decision, not a new Part I.
REPLACEABLE = {S.SUBMITTED, S.CHECKING, S.AWAITING_LAB, S.AWAITING_DECISION}
# The CHED type is in the number and the BCP received the pre-notification: a replacement keeps both.
FIXED = ("ched_type", "bcp")


def _may_replace(actor, consignment: Consignment) -> None:
    """The operator's own users (Part I is theirs, 2019/1715 art. 40(2)(b)) or a certifying officer of the post."""
    roles = user_roles(actor)
    if Role.IMPORTER in roles and hasattr(actor, "membership"):
        if actor.membership.operator_id != consignment.operator_id:
            raise NotPermitted(_("This consignment belongs to another company."))
        return
    if STEP_ROLES[Step.DECISION] not in roles:
        raise NotPermitted(
            _("Only the operator responsible for the consignment or a certifying officer can replace a CHED.")
        )


def _replaceable(consignment: Consignment) -> None:
    if consignment.status == S.SUBMITTED and not checks_started(consignment):
        raise TransitionNotAllowed(
            _("The BCP has not started its checks on %(ref)s: amend its Part I instead of replacing it.")
            % {"ref": consignment.reference}
        )
    if consignment.status not in REPLACEABLE:
        raise TransitionNotAllowed(
            _("%(ref)s is %(status)s: only a CHED under checks, before its decision, can be replaced.")
            % {"ref": consignment.reference, "status": consignment.get_status_display().lower()}
        )
    # the result must reach the CHED it was taken on: replaced, that CHED's decision would never follow it
    if sample_result_pending(consignment):
        raise TransitionNotAllowed(
            _("A sample of %(ref)s still awaits its laboratory result: replace it once every result is in.")
            % {"ref": consignment.reference}
        )


def replacement_allowed(actor, consignment: Consignment) -> bool:
    """Whether `actor` may replace `consignment` now (the portal offers it then); the service checks again."""
    try:
        _may_replace(actor, consignment)
        _replaceable(consignment)
    except (NotPermitted, TransitionNotAllowed):
        return False
    return True


@atomic_service
def consignment_replace(*, actor, consignment: Consignment, part_one: dict) -> Consignment:
    """Replace a CHED whose checks have started (and that is not yet decided) with a new CHED carrying the
    corrected Part I (complete, under the submit's rules but the arrival's: the goods may already be at the post).
    The CHED type and the BCP stay. The new CHED gets its own number, names the old one as its previous CHED,
    is submitted and starts its own inspection (the checks restart: a corrected Part I is checked as such); the
    old one becomes "replaced" and its inspection is stopped (its open tasks and timers cancelled). Both are
    audited, the new one with what changed. By the operator's users or a certifying officer."""
    _may_replace(actor, consignment)
    inspection_lock(consignment)  # the flow lock first, as a task completion takes it
    old = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    _replaceable(old)
    current = consignment_part_one(old)
    changed = [field for field in FIXED if part_one.get(field) != current.get(field)]
    if changed:
        message = _("A replacement keeps the CHED type and the BCP of the CHED it replaces.")
        raise PartOneInvalid({field: [message] for field in changed})
    now = timezone.now()
    check = PartOneCheck(part_one, now=now, arrival_rules=False)
    errors = check.run(complete=True)
    if errors:
        raise PartOneInvalid(errors)
    new = Consignment(
        reference=reference_allocate(ched_type=check.ched_type, year=timezone.localdate().year),
        ched_type=check.ched_type,
        operator=old.operator,
        created_by=actor if Role.IMPORTER in user_roles(actor) else old.created_by,
        previous=old,
        succession=Succession.REPLACEMENT,
        arrived_at=old.arrived_at,  # the goods recorded at the post are still there
    )
    part_one_write(new, check)
    audit_record(
        actor=actor,
        action=AuditAction.CONSIGNMENT_REPLACEMENT,
        consignment=new,
        data={"replaces": old.reference, "changes": part_one_changes(current, consignment_part_one(new))},
    )
    documents_carry_over(actor=actor, old=old, new=new)
    consignment_transition(
        consignment=old,
        to=S.REPLACED,
        actor=actor,
        action=AuditAction.CONSIGNMENT_REPLACED,
        data={"replaced_by": new.reference},
    )
    inspection_stop(old)
    consignment_transition(
        consignment=new,
        to=S.SUBMITTED,
        actor=actor,
        action=AuditAction.CONSIGNMENT_SUBMITTED,
        fields={"submitted_at": now},
    )
    notify(consignment=new, kind=Notification.Kind.SUBMITTED)
    start_inspection(new)
    traces_exchange_queue(consignment=old, kinds=[TracesEvent.REPLACED])  # the new one's `submitted`: `notify`'s
    return new
