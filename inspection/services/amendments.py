"""A submitted CHED's life before its checks: the importer amends Part I (a ship late, a container number
mistyped), and the expected arrival may move until the goods are there.

TRACES NT works the same way: Part I of a submitted CHED can be amended until the BCP starts its checks;
after that, a change is a replacement CHED (docs/regulation.md, "Amending a submitted CHED")."""

import copy
import datetime
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection import part_one_schema
from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import NotPermitted, PartOneInvalid, TransitionNotAllowed
from inspection.models import BcpApproval, Consignment, ConsignmentStatus, DocumentaryCheck, TracesEvent
from inspection.ports import arrival_changed
from inspection.roles import Role, user_roles
from inspection.selectors import consignment_part_one
from inspection.services.part_one import PartOneCheck, part_one_write
from inspection.services.prenotification import prenotification_deadline
from inspection.services.traces import traces_exchange_queue

S = ConsignmentStatus
# Until the decision the arrival may move (and only while the goods are not recorded at the post).
ARRIVAL_MOVABLE = {S.SUBMITTED, S.CHECKING, S.AWAITING_LAB, S.AWAITING_DECISION}
ARRIVAL = "arrival.expected_at"
# Fields fixed at submit: the CHED type is in the CHED number, the BCP is the post that received the
# pre-notification and drew its check plan.
FIXED = ("ched_type", "bcp")
# The check plan was drawn at submit from the commodities and their origin (Implementing Regulation (EU)
# 2019/2129): changing them is a new CHED, not an amendment.
PLANNED_FROM = ("country_of_origin", "commodities.*.cn_code")


class _Encoder(DjangoJSONEncoder):
    """Equal values, equal text: datetimes in UTC (the API's and the form's come in their own offsets),
    decimals without trailing zeros (1250.5 is 1250.500)."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.astimezone(datetime.UTC).isoformat()
        if isinstance(o, Decimal):
            return format(o.normalize(), "f")
        return super().default(o)


def _plain(value):
    """A Part I value as the audit trail stores it (JSON: ISO datetimes in UTC, decimals as text)."""
    return json.loads(json.dumps(value, cls=_Encoder))


def _flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    if isinstance(value, list):
        flat = {prefix.rstrip(".") + ".count": len(value)} if prefix else {}
        for i, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}{i}."))
        return flat
    return {prefix.rstrip("."): value}


def part_one_changes(before: dict, after: dict) -> dict[str, list]:
    """`{path: [old, new]}` of what differs between two Part I dicts (lists by position; empty is None)."""
    old, new = _flatten(_plain(before)), _flatten(_plain(after))
    changes = {}
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        a, b = (None if a in ("", None) else a), (None if b in ("", None) else b)
        if a != b:
            changes[path] = [a, b]
    return changes


def _merged(current: dict, changes: dict) -> dict:
    """A partial Part I (`PATCH`) applied to the current one: a group (`consignor`, `arrival`...) is merged
    field by field, a list (`commodities`, `containers`, `accompanying_documents`) replaced whole."""
    part = copy.deepcopy(current)
    for key, value in changes.items():
        if key in part_one_schema.GROUPS and isinstance(value, dict):
            part.setdefault(key, {}).update(value)
        else:
            part[key] = value
    return part


def _matches(path: str, pattern: str) -> bool:
    keys, wanted = path.split("."), pattern.split(".")
    return len(keys) == len(wanted) and all(w in ("*", k) for k, w in zip(keys, wanted, strict=True))


def _own(actor, consignment: Consignment) -> None:
    if Role.IMPORTER not in user_roles(actor) or not hasattr(actor, "membership"):
        raise NotPermitted(_("Only a user of the operator company can amend its CHED."))
    if actor.membership.operator_id != consignment.operator_id:
        raise NotPermitted(_("This consignment belongs to another company."))


def checks_started(consignment: Consignment) -> bool:
    return consignment.status != S.SUBMITTED or DocumentaryCheck.objects.filter(consignment=consignment).exists()


def _prenotification_in_time(consignment: Consignment, arrival: datetime.datetime) -> bool:
    """Whether the pre-notification, given at submit, still came in time for the new arrival (2019/1013 art. 1).
    A ship early is no fault of the importer's: a late one is recorded for the officer, not refused."""
    approval = (
        BcpApproval.objects.in_force(timezone.localdate(arrival))
        .filter(bcp_id=consignment.bcp_id, ched_type_id=consignment.ched_type_id)
        .first()
    )
    short_notice = bool(approval and approval.short_notice)
    return consignment.submitted_at <= prenotification_deadline(arrival=arrival, short_notice=short_notice)


def _check_new_arrival(arrival, now) -> None:
    if arrival is None:
        raise PartOneInvalid({ARRIVAL: [_("This field is required.")]})
    if arrival <= now:
        raise PartOneInvalid({ARRIVAL: [_("The expected arrival must be in the future.")]})
    if arrival > now + datetime.timedelta(days=366):
        raise PartOneInvalid({ARRIVAL: [_("Pre-notify at most a year before arrival.")]})


@atomic_service
def consignment_amend(*, actor, consignment: Consignment, changes: dict) -> Consignment:
    """The importer amends Part I of a submitted CHED. `changes` is a partial Part I (the whole of it from the
    portal's form). Before the checks start (no documentary check yet), any field but the CHED type and the
    BCP may change, under the submit's rules; after, only the expected arrival (until the goods are recorded
    at the post, and before the decision): any other change needs a replacement CHED (409). A new arrival
    moves the deadlines counted from it. Audited with each changed field, old and new."""
    _own(actor, consignment)
    locked = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    if locked.status == S.DRAFT:
        raise TransitionNotAllowed(_("This CHED is a draft: edit it and submit it instead."))
    current = consignment_part_one(locked)
    after = _merged(current, changes)
    diff = part_one_changes(current, after)
    if not diff:
        return locked
    now = timezone.now()
    if set(diff) == {ARRIVAL}:
        return _arrival_move(actor=actor, consignment=locked, arrival=part_one_schema.get(after, _arrival()), now=now)
    if checks_started(locked):
        raise TransitionNotAllowed(
            _(
                "The BCP has started its checks on %(ref)s (%(status)s): its Part I can no longer be amended, only "
                "its expected arrival moved. For any other change, submit a replacement CHED."
            )
            % {"ref": locked.reference, "status": locked.get_status_display().lower()}
        )
    fixed = [path for path in diff if path in FIXED]
    if fixed:
        raise PartOneInvalid({path: [_("This cannot change once the CHED is submitted.")] for path in fixed})
    planned = [path for path in diff if any(_matches(path, p) for p in PLANNED_FROM)]
    if planned:
        raise TransitionNotAllowed(
            _(
                "The checks of %(ref)s were planned from its commodities and their origin (%(fields)s): changing "
                "them needs a replacement CHED."
            )
            % {"ref": locked.reference, "fields": ", ".join(planned)}
        )
    check = PartOneCheck(after, now=now, arrival_rules=False)
    errors = check.run(complete=True)
    if errors:
        raise PartOneInvalid(errors)
    arrival = part_one_schema.get(after, _arrival())
    data = {"changes": diff}
    if ARRIVAL in diff:
        _check_new_arrival(arrival, now)
        data["prenotification_in_time"] = _prenotification_in_time(locked, arrival)
    part_one_write(locked, check)
    # what is stored, not what was sent: the catalogue fills what a line leaves empty (`part_one_write`)
    data["changes"] = part_one_changes(current, consignment_part_one(locked))
    if not data["changes"]:
        return locked
    audit_record(actor=actor, action=AuditAction.CONSIGNMENT_AMENDED, consignment=locked, data=data)
    traces_exchange_queue(consignment=locked, kinds=[TracesEvent.AMENDED])
    if ARRIVAL in diff:
        arrival_changed(locked)
    return locked


def _arrival():
    return part_one_schema.BY_PATH[ARRIVAL]


def _arrival_move(*, actor, consignment: Consignment, arrival, now) -> Consignment:
    if consignment.status not in ARRIVAL_MOVABLE:
        raise TransitionNotAllowed(_("This consignment is already decided: its expected arrival can no longer move."))
    if consignment.arrived_at is not None:
        raise TransitionNotAllowed(
            _("The goods were recorded at the post at %(time)s: the expected arrival can no longer move.")
            % {"time": timezone.localtime(consignment.arrived_at).strftime("%d/%m/%Y %H:%M")}
        )
    _check_new_arrival(arrival, now)
    previous = consignment.expected_arrival
    consignment.expected_arrival = arrival
    consignment.save(update_fields=["expected_arrival", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.ARRIVAL_MOVED,
        consignment=consignment,
        data={
            "changes": {ARRIVAL: [_plain(previous), _plain(arrival)]},
            "prenotification_in_time": _prenotification_in_time(consignment, arrival),
        },
    )
    traces_exchange_queue(consignment=consignment, kinds=[TracesEvent.AMENDED])
    arrival_changed(consignment)  # the documentary check's deadline counts from the arrival
    return consignment
