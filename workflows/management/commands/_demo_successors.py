"""The demo's CHEDs that follow other CHEDs: a consignment split by the officer (one part accepted, the other refused
and destroyed) and a CHED replaced by its importer once the checks had started (issue 20)."""

from decimal import Decimal

from inspection.models import AuditEvent, Consignment, ConsignmentStatus
from inspection.selectors import consignment_part_one
from inspection.services.replacements import consignment_replace
from inspection.services.split import consignment_split

from ._demo_flow import decide

S = ConsignmentStatus


def _split_parts(consignment: Consignment) -> list[dict] | None:
    """Two parts: the lines shared between them, or the one line's quantities seven tenths and three tenths."""
    lines = list(consignment.lines.order_by("pk"))
    if len(lines) >= 2:
        return [{"lines": [{"line": 1}]}, {"lines": [{"line": n} for n in range(2, len(lines) + 1)]}]
    line = lines[0]
    if (line.packages or 0) < 2 or line.number_of_animals is not None or not line.net_weight_kg:
        return None
    weight = (line.net_weight_kg * Decimal("0.7")).quantize(Decimal("0.001"))
    packages = max(1, round(line.packages * 0.7))
    return [
        {"lines": [{"line": 1, "net_weight_kg": weight, "packages": packages}]},
        {"lines": [{"line": 1, "net_weight_kg": line.net_weight_kg - weight, "packages": line.packages - packages}]},
    ]


def split_demo(importer, users: dict) -> str:
    """Split one of the importer's consignments awaiting their decision; the first part is accepted, the second
    refused, countersigned and destroyed. Once (a second run finds the split done)."""
    done = AuditEvent.objects.filter(action="consignment.split", consignment__operator=importer.membership.operator)
    if not done.exists():
        for candidate in Consignment.objects.filter(
            operator=importer.membership.operator, status=S.AWAITING_DECISION, succession=""
        ).order_by("pk"):
            parts = _split_parts(candidate)
            if parts is None or candidate.samples.filter(status="awaiting").exists():
                continue
            accepted, refused = consignment_split(actor=users["officer"], consignment=candidate, parts=parts)
            decide(accepted, users, refuse=False, until="accepted")
            decide(refused, users, refuse=True, until="closed")
            break
        else:
            return ""
    parent = done.first().consignment
    parts = ", ".join(parent.subsequent.values_list("reference", flat=True))
    return f". Split consignment: {parent.reference} (parts {parts})"


def replacement_demo(importer) -> str:
    """Replace one of the importer's CHEDs under checks (documentary check done, goods not yet there): the vessel
    was mistyped. Once."""
    done = AuditEvent.objects.filter(action="consignment.replaced", consignment__operator=importer.membership.operator)
    if not done.exists():
        old = (
            Consignment.objects.filter(operator=importer.membership.operator, status=S.CHECKING, succession="")
            .order_by("pk")
            .first()
        )
        if old is None:
            return ""
        part = consignment_part_one(old)
        part["arrival"] = {**part["arrival"], "transport_id": f"{part['arrival']['transport_id']} (corrigé)"[:100]}
        consignment_replace(actor=importer, consignment=old, part_one=part)
    old = done.first().consignment
    return f". Replaced CHED: {old.reference} by {old.subsequent.get().reference}"
