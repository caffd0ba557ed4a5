"""The one place a consignment's status changes."""

from django.utils.translation import gettext as _

from inspection.audit import audit_record
from inspection.errors import TransitionNotAllowed
from inspection.models import Consignment, ConsignmentStatus

S = ConsignmentStatus
ALLOWED_MOVES: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CANCELLED},
    # replaced by a new CHED once the checks started (`services/replacements.py`); split by the certifying
    # officer once every check is done (`services/split.py`)
    S.SUBMITTED: {S.CHECKING, S.AWAITING_DECISION, S.REPLACED},
    S.CHECKING: {S.AWAITING_LAB, S.AWAITING_DECISION, S.REPLACED},
    S.AWAITING_LAB: {S.AWAITING_DECISION, S.REPLACED},
    S.AWAITING_DECISION: {S.ACCEPTED, S.AWAITING_COUNTERSIGN, S.REPLACED, S.SPLIT},
    S.AWAITING_COUNTERSIGN: {S.REFUSED, S.AWAITING_DECISION},
    S.ACCEPTED: {S.CLOSED, S.AWAITING_DECISION},  # recall after an unsatisfactory result
    S.REFUSED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
    S.REPLACED: set(),
    S.SPLIT: set(),
}


def consignment_transition(
    *, consignment: Consignment, to: str, actor, action: str, data: dict | None = None, fields: dict | None = None
) -> None:
    """Move `consignment` to status `to` and record it, refusing any move the table above does not list.
    `fields` are other columns that change with the move (e.g. `submitted_at`), written in the same UPDATE.

    The update is conditional on the status the caller saw, so of two concurrent moves only one wins.
    Runs inside the caller's transaction.
    """
    source = consignment.status
    if to not in ALLOWED_MOVES.get(source, set()):
        raise TransitionNotAllowed(
            _("A consignment in status “%(source)s” cannot become “%(target)s”.")
            % {"source": S(source).label, "target": S(to).label}
        )
    fields = fields or {}
    changed = Consignment.objects.filter(pk=consignment.pk, status=source).update(status=to, **fields)
    if not changed:
        raise TransitionNotAllowed(_("This consignment was changed by someone else meanwhile; reload it."))
    consignment.status = to
    for name, value in fields.items():
        setattr(consignment, name, value)
    audit_record(
        actor=actor,
        action=action,
        consignment=consignment,
        data={"from": source, "to": to, **(data or {})},
    )
