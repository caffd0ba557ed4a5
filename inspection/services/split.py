"""Splitting a consignment at the BCP: the certifying officer divides a checked consignment into parts that get
decisions of their own (part accepted, part refused and destroyed).

Implementing Regulation (EU) 2019/1715, Annex II: each part is a CHED whose box II.1 "Previous CHED" is the CHED
"used before a consignment is split", and the split CHED lists the parts in box II.24 "Subsequent CHED" ("after
splitting at the BCP"); I.31 gives a subsequent CHED the quantities of the previous one. The UK's IPAFFS models
the same (`splitConsignment`, `childNotification`, status `SPLIT_CONSIGNMENT`). How TRACES NT numbers the parts
was not read: ours are the parent's number and `.1`, `.2`... (docs/regulation.md, section 13)."""

from decimal import Decimal

from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.errors import DomainInvalid, PartOneInvalid, TransitionNotAllowed
from inspection.models import MAX_NUMBER_OF_ANIMALS, Consignment, ConsignmentStatus, Notification, Succession
from inspection.part_one_schema import MAX_WEIGHT_KG
from inspection.ports import inspection_lock, inspection_stop, start_decision
from inspection.roles import Step
from inspection.selectors import consignment_part_one, sample_result_pending
from inspection.services.notifications import notify
from inspection.services.part_one import PartOneCheck, part_one_write
from inspection.services.permissions import require_step
from inspection.services.traces import traces_split_queue
from inspection.services.transitions import consignment_transition

S = ConsignmentStatus
MAX_PARTS = 99
# What a line's quantity is in, and what of it each part takes (I.31): summed over the parts, exactly the line's.
QUANTITIES = ("net_weight_kg", "packages", "number_of_animals")
# The most a quantity may be: what its column holds (a weight of 12 digits, 3 of them decimals).
MAXIMUM = {
    "net_weight_kg": MAX_WEIGHT_KG,
    "packages": BaseDatabaseOperations.integer_field_ranges["PositiveIntegerField"][1],
    "number_of_animals": MAX_NUMBER_OF_ANIMALS,
}
GRAM = Decimal("0.001")
REFERENCE_MAX_LENGTH = Consignment._meta.get_field("reference").max_length


def _splittable(consignment: Consignment, parts: int) -> None:
    """Every check done, every laboratory result in and no decision yet: the officer splits on what the checks
    found. A part is not split again: its number would be the split consignment's with two suffixes, and its
    checks are another CHED's."""
    if consignment.status != S.AWAITING_DECISION:
        raise TransitionNotAllowed(
            _(
                "%(ref)s is %(status)s: a consignment is split once its checks are done and before its decision "
                "(awaiting decision)."
            )
            % {"ref": consignment.reference, "status": consignment.get_status_display().lower()}
        )
    if sample_result_pending(consignment):
        raise TransitionNotAllowed(
            _("A sample of %(ref)s still awaits its laboratory result: split it once every result is in.")
            % {"ref": consignment.reference}
        )
    if consignment.succession == Succession.SPLIT_PART:
        raise TransitionNotAllowed(
            _("%(ref)s is itself a part of a split consignment: a part is not split again.")
            % {"ref": consignment.reference}
        )
    if len(f"{consignment.reference}.{parts}") > REFERENCE_MAX_LENGTH:
        raise TransitionNotAllowed(
            _("The parts of %(ref)s would have numbers of more than %(max)s characters: it cannot be split.")
            % {"ref": consignment.reference, "max": REFERENCE_MAX_LENGTH}
        )


def _quantity(value, field: str) -> Decimal | int | None:
    """A quantity given as a number or its text: a weight in kg to the gram, or a whole count; at most what
    its column holds (`MAXIMUM`); None when not given. A `ValueError` saying what is wrong otherwise (not a
    number, infinite, too large, too precise)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(_("Give a number."))
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(_("Give a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Give a number."))
    if number > MAXIMUM[field]:
        raise ValueError(_("Give at most %(max)s.") % {"max": MAXIMUM[field]})
    if field == "net_weight_kg":
        if number != number.quantize(GRAM):
            raise ValueError(_("Give the weight to the gram (3 decimals at most)."))
        return number
    if number != number.to_integral_value():
        raise ValueError(_("Give a whole number."))
    return int(number)


def split_in_two(consignment: Consignment, taken: dict[int, dict]) -> list[dict]:
    """The `parts` of a split in two (the staff's split page): the second part takes what `taken` gives of each
    line (`{line number from 1: {quantity field: number or text}}`), the first keeps the rest, in Decimal; a
    line taken whole goes to the second part only, a line not named stays whole in the first. What is wrong in
    `taken` is left for `split_plan` to name."""
    first, second = [], []
    for n, line in enumerate(consignment_part_one(consignment)["commodities"], start=1):
        given = {field: value for field, value in (taken.get(n) or {}).items() if value not in (None, "")}
        if not given:
            first.append({"line": n})
            continue
        second.append({"line": n, **given})
        declared = {field: _quantity(line[field], field) for field in QUANTITIES if line.get(field) is not None}
        try:
            parsed = {field: _quantity(value, field) for field, value in given.items()}
        except ValueError:
            first.append({"line": n})  # the second part's quantity is refused by `split_plan`
            continue
        if any(parsed.get(field) != value for field, value in declared.items()):
            first.append({"line": n, **{f: value - parsed[f] for f, value in declared.items() if f in parsed}})
    return [{"lines": first}, {"lines": second}]


def split_plan(consignment: Consignment, parts: list[dict]) -> list[list[dict]]:
    """Each part's commodity lines (Part I dicts) from `parts` (`[{"lines": [{"line": 1, "net_weight_kg": ...}]}]`,
    lines numbered from 1 as in Part I), or a `DomainInvalid` naming the field. A line a part names without a
    quantity goes to it whole; a line's quantities, summed over the parts, must be exactly the line's: never more
    (the goods are not there), never less (every kilogram of a split consignment has its decision)."""
    lines = consignment_part_one(consignment)["commodities"]
    errors: dict[str, list[str]] = {}
    if not 2 <= len(parts) <= MAX_PARTS:
        raise DomainInvalid({"parts": [_("Split into 2 to %(max)s parts.") % {"max": MAX_PARTS}]})
    totals = [dict.fromkeys(QUANTITIES, 0) for _line in lines]
    planned: list[list[dict]] = []
    for p, part in enumerate(parts):
        items = part.get("lines") or []
        if not items:
            errors[f"parts.{p}.lines"] = [_("A part takes at least one commodity line.")]
        seen = set()
        part_lines = []
        for i, item in enumerate(items):
            path = f"parts.{p}.lines.{i}"
            number = item.get("line")
            if not isinstance(number, int) or not 1 <= number <= len(lines):
                errors[f"{path}.line"] = [
                    _("The consignment has commodity lines 1 to %(count)s.") % {"count": len(lines)}
                ]
                continue
            if number in seen:
                errors[f"{path}.line"] = [_("Line %(line)s is twice in this part.") % {"line": number}]
                continue
            seen.add(number)
            source = lines[number - 1]
            line = dict(source)
            for field in QUANTITIES:
                declared = _quantity(source.get(field), field)
                try:
                    given = _quantity(item.get(field), field)
                except ValueError as exc:
                    errors[f"{path}.{field}"] = [str(exc)]
                    continue
                if given is None:
                    given = declared
                elif declared is None:
                    errors[f"{path}.{field}"] = [_("Line %(line)s declares no such quantity.") % {"line": number}]
                    continue
                elif given <= 0:
                    errors[f"{path}.{field}"] = [_("Give a quantity above zero.")]
                    continue
                line[field] = given
                if given is not None:
                    totals[number - 1][field] += given
            part_lines.append(line)
        planned.append(part_lines)
    if errors:
        raise DomainInvalid(errors)
    for n, source in enumerate(lines, start=1):
        for field in QUANTITIES:
            declared = _quantity(source.get(field), field)
            if declared is None or totals[n - 1][field] == declared:
                continue
            message = (
                _("The parts take %(total)s of line %(line)s's %(field)s, more than its %(declared)s.")
                if totals[n - 1][field] > declared
                else _(
                    "The parts take %(total)s of line %(line)s's %(field)s, less than its %(declared)s: all of it "
                    "needs a decision."
                )
            )
            errors.setdefault("parts", []).append(
                message % {"total": totals[n - 1][field], "line": n, "field": field, "declared": declared}
            )
    if errors:
        raise DomainInvalid(errors)
    return planned


def _share(total, part_net, whole_net):
    """A part's share of a total the lines do not carry (the gross weight, I.34), by its net weight."""
    if total in (None, "") or not whole_net:
        return total
    return (Decimal(str(total)) * part_net / whole_net).quantize(Decimal("0.001"))


@atomic_service
def consignment_split(*, actor, consignment: Consignment, parts: list[dict]) -> list[Consignment]:
    """The certifying officer splits a consignment awaiting its decision into parts (`split_plan`), each a CHED
    numbered after it (`<number>.1`, `<number>.2`...) with Part I's other boxes as declared and the gross weight
    shared by net weight. The checks are not repeated: each part's are the split consignment's (its CHED
    printed as box II.1), and each part comes straight to its own decision, countersignature and certificate
    in its own inspection. The split consignment becomes "split" and its inspection is stopped. Audited on the
    consignment and on each part."""
    require_step(actor, Step.DECISION)
    inspection_lock(consignment)  # the flow lock first, as a task completion takes it
    parent = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    _splittable(parent, len(parts) if isinstance(parts, list) else 0)
    planned = split_plan(parent, parts)
    declared = consignment_part_one(parent)
    whole_net = sum((Decimal(str(line.get("net_weight_kg") or 0)) for line in declared["commodities"]), Decimal(0))
    created = []
    for n, lines in enumerate(planned, start=1):
        part_one = {**declared, "commodities": lines}
        part_net = sum((Decimal(str(line.get("net_weight_kg") or 0)) for line in lines), Decimal(0))
        part_one["total_gross_weight_kg"] = _share(declared.get("total_gross_weight_kg"), part_net, whole_net)
        check = PartOneCheck(part_one, now=timezone.now(), arrival_rules=False)
        errors = check.run(complete=True)
        if errors:
            raise PartOneInvalid(errors)
        part = Consignment(
            reference=f"{parent.reference}.{n}",
            ched_type=parent.ched_type,
            operator=parent.operator,
            created_by=parent.created_by,
            previous=parent,
            succession=Succession.SPLIT_PART,
            arrived_at=parent.arrived_at,
        )
        part_one_write(part, check)
        consignment_transition(
            consignment=part,
            to=S.SUBMITTED,
            actor=actor,
            action=AuditAction.CONSIGNMENT_SUBMITTED,
            fields={"submitted_at": parent.submitted_at},
        )
        consignment_transition(
            consignment=part,
            to=S.AWAITING_DECISION,
            actor=actor,
            action=AuditAction.CONSIGNMENT_SPLIT_PART,
            data={"split_from": parent.reference, "commodities": _audited(lines)},
        )
        created.append(part)
    consignment_transition(
        consignment=parent,
        to=S.SPLIT,
        actor=actor,
        action=AuditAction.CONSIGNMENT_SPLIT,
        data={"parts": {part.reference: _audited(lines) for part, lines in zip(created, planned, strict=True)}},
    )
    inspection_stop(parent)
    for part in created:
        start_decision(part)
    traces_split_queue(consignment=parent, parts=created)
    parts = [{"reference": part.reference, "url": settings.SITE_URL + part.get_absolute_url()} for part in created]
    notify(consignment=parent, kind=Notification.Kind.SPLIT, parts=parts)
    return created


def _audited(lines: list[dict]) -> list[dict]:
    return [
        {"cn_code": line.get("cn_code"), **{f: str(line[f]) for f in QUANTITIES if line.get(f) is not None}}
        for line in lines
    ]
