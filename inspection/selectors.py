"""Reads across relations. Every importer-facing read goes through `consignments_visible_to`."""

import datetime

from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from inspection import part_one_schema
from inspection.applicability import ARRIVAL_OUTCOMES
from inspection.models import (
    ArrivalConfirmation,
    AuditAction,
    CommodityLine,
    Consignment,
    ConsignmentStatus,
    Decision,
    IntensifiedControl,
    Sample,
)
from inspection.roles import Role, is_staff_user, user_roles

# A sample whose laboratory result is still to come: awaited, or late and still awaited.
RESULT_PENDING = (Sample.Status.AWAITING, Sample.Status.LATE)


def consignments_visible_to(user) -> QuerySet[Consignment]:
    """Staff see every consignment; an importer only its own company's; anyone else nothing."""
    qs = Consignment.objects.select_related("ched_type", "bcp", "operator", "purpose")
    if is_staff_user(user):
        return qs
    if Role.IMPORTER in user_roles(user) and hasattr(user, "membership"):
        return qs.filter(operator_id=user.membership.operator_id)
    return qs.none()


def sample_result_pending(consignment: Consignment) -> bool:
    """Whether a sample of the consignment still awaits its laboratory result (late or not). One query."""
    return consignment.samples.filter(status__in=RESULT_PENDING).exists()


def consignments_for_list(qs: QuerySet[Consignment]) -> QuerySet[Consignment]:
    """A list's rows with what an importer looks for first: the decision in force once decided
    (`decision_shown`) and the valid certificates (`valid_certificates`), in two more queries a page."""
    from inspection.models import Certificate

    return qs.prefetch_related(
        Prefetch(
            "decisions",
            queryset=Decision.objects.filter(superseded=False).select_related("code").order_by("id"),
            to_attr="decisions_in_force",
        ),
        Prefetch(
            "certificates",
            queryset=Certificate.objects.filter(status=Certificate.Status.VALID).order_by("id"),
            to_attr="valid_certificates",
        ),
    )


def consignment_with_part_one(qs: QuerySet[Consignment]) -> QuerySet[Consignment]:
    return qs.prefetch_related(
        "containers",
        Prefetch("lines", queryset=CommodityLine.objects.select_related("package_type")),
        "documents__document_type",
    )


def consignment_summary(pk: int) -> Consignment:
    """A consignment with everything the staff's summary beside a task form shows, in a fixed number of
    queries: Part I, the check plan, the samples with their results, the photos of the checks."""
    from inspection.models import Sample

    return (
        consignment_with_part_one(Consignment.objects.select_related("bcp", "check_plan"))
        .prefetch_related(
            Prefetch("samples", queryset=Sample.objects.select_related("analysis", "result")), "check_photos"
        )
        .get(pk=pk)
    )


def consignment_part_one(consignment: Consignment) -> dict:
    """Part I in the public contract's shape (docs/api.md), from what is stored: the fields of
    `inspection.part_one_schema`, and the reference codes, containers and documents."""
    part = {
        "ched_type": consignment.ched_type.code,
        "bcp": consignment.bcp.code if consignment.bcp else "",
        "purpose": consignment.purpose.code if consignment.purpose else "",
        **part_one_schema.read(consignment),
    }
    part["containers"] = [{"number": c.number, "seal": c.seal} for c in consignment.containers.all()]
    part["commodities"] = [
        {**part_one_schema.read(line), "package_type": line.package_type.code if line.package_type else ""}
        for line in consignment.lines.all()
    ]
    part["accompanying_documents"] = [
        {"type": d.document_type.code, "reference": d.reference} for d in consignment.documents.all()
    ]
    return part


def consignment_sps_xml(consignment: Consignment) -> bytes:
    """The CHED as UN/CEFACT SPS XML (`certificates/ched_xml.py`): Part I and, once decided, the decision in
    force (a refusal once countersigned, as the importer sees it)."""
    from inspection.certificates.ched_xml import ched_xml

    decision = decision_in_force(consignment) if consignment.status in DECIDED else None
    return ched_xml(consignment, part_one=consignment_part_one(consignment), decision=decision)


DECIDED = {ConsignmentStatus.ACCEPTED, ConsignmentStatus.REFUSED, ConsignmentStatus.CLOSED}


def decision_in_force(consignment: Consignment):
    """The consignment's latest decision not superseded by a recall, with what certificates print of it."""
    return (
        consignment.decisions.filter(superseded=False)
        .select_related("code", "measure", "officer", "countersigned_by")
        .last()
    )


def decisions_calling_for_follow_up() -> QuerySet[Decision]:
    """The decisions in force (not superseded by a recall or a refusal sent back) that call for a
    follow-up, Part III (Regulation (EU) 2017/625, arts. 66-72): a refusal once a supervisor countersigned
    it, or goods accepted to travel on under control (`ARRIVAL_OUTCOMES`: channelled, transfer to a control
    point, onward transportation). The one rule of the flow's gateway and of the reminders."""
    refused = Q(code__acceptable=False, countersigned_at__isnull=False)
    return Decision.objects.filter(refused | Q(code__code__in=ARRIVAL_OUTCOMES), superseded=False)


def follow_up_needed(consignment: Consignment) -> bool:
    """Whether the consignment's decision in force calls for a follow-up (`decisions_calling_for_follow_up`),
    in one query. With none in force (recalled meanwhile) it does not: the new decision's path follows up."""
    in_force = consignment.decisions.filter(superseded=False).order_by("-id").values("pk")[:1]
    return decisions_calling_for_follow_up().filter(pk=Subquery(in_force)).exists()


def consignment_decision(consignment: Consignment) -> dict | None:
    """The decision in force, as the importer may see it: none while it is pending (a refusal is pending
    until a supervisor countersigns it)."""
    if consignment.status not in DECIDED:
        return None
    decision = (
        consignment.decisions.filter(superseded=False)
        .select_related("code", "measure", "arrival_point")
        .prefetch_related("reasons")
        .last()
    )
    if decision is None:
        return None
    point = decision.arrival_point
    return {
        "code": decision.code.code,
        "label": decision.code.name,
        "acceptable": decision.acceptable,
        "measure": decision.measure.code if decision.measure else None,
        "measure_deadline": decision.measure_deadline,
        "reasons": [reason.code for reason in decision.reasons.all()],
        "decided_at": decision.decided_at,
        "exit_bcp": decision.exit_bcp,
        "destination_country": decision.destination_country.code or "",
        "destination": decision.destination,
        "warehouse": decision.warehouse,
        "control_point": decision.control_point,
        "control_point_code": decision.control_point_code,
        "next_bcp": decision.next_bcp,
        "onward_facility": decision.onward_facility,
        "arrival_point": (
            {"code": point.code, "name": point.name, "address": point.address, "kind": point.kind} if point else None
        ),
        "arrival": arrival_confirmed(consignment) if point else None,
    }


def arrival_confirmed(consignment: Consignment) -> dict | None:
    """The receiving side's confirmation of the goods' arrival at the decision's control point (Part III), as
    the company may see it: not who confirmed."""
    confirmation = ArrivalConfirmation.objects.filter(consignment=consignment).first()
    if confirmation is None:
        return None
    return {
        "arrived": confirmation.arrived,
        "arrived_on": confirmation.arrived_on,
        "seals_intact": confirmation.seals_intact,
        "confirmed_at": confirmation.confirmed_at,
    }


def consignment_fees(consignment: Consignment):
    """The decision in force with its fee statement, as its importer may see it: once the decision is in force."""
    if consignment.status not in DECIDED:
        return None
    return fees_visible_to(None, consignments=Consignment.objects.filter(pk=consignment.pk)).first()


def fees_visible_to(user, *, consignments=None):
    """The fee statements (decisions not superseded, with their fees) of the consignments `user` may see (staff:
    all; an importer: the company's, once decided), newest first. `consignments`: instead of the user's."""
    if consignments is None:
        consignments = consignments_visible_to(user)
        if not is_staff_user(user):
            consignments = consignments.filter(status__in=DECIDED)
    return (
        Decision.objects.filter(consignment__in=consignments, superseded=False, fee_total_eur__isnull=False)
        .select_related("consignment__ched_type")
        .order_by("-decided_at", "-id")
    )


def consignment_ephyto_unmapped(consignment: Consignment) -> list[str]:
    """What the ePhyto import of this consignment could not map (empty when it was not imported)."""
    event = consignment.audit_events.filter(action=AuditAction.CONSIGNMENT_EPHYTO_IMPORTED).order_by("-id").first()
    return list(event.data.get("unmapped", [])) if event else []


def consignment_trail(consignment: Consignment) -> dict:
    """Everything a supervisor reads in a consignment's decision trail, in a fixed number of queries: the audit
    events with their actors, the check plan (rule, rates, draws), the samples and lab results, the decisions,
    and the check photos by the action of the check's event (`check_photos`)."""
    from inspection.models import AuditEvent, CheckPhoto, CheckPlan, Decision, Sample

    check_photos = {}
    for photo in CheckPhoto.objects.filter(consignment=consignment).order_by("id"):
        check_photos.setdefault(f"{photo.step}_check.recorded", []).append(photo)
    return {
        "check_photos": check_photos,
        "events": list(AuditEvent.objects.filter(consignment=consignment).select_related("actor").order_by("id")),
        "plan": CheckPlan.objects.filter(consignment=consignment).first(),
        "samples": list(
            Sample.objects.filter(consignment=consignment)
            .select_related("analysis", "laboratory", "taken_by", "result")
            .order_by("number")
        ),
        "decisions": list(
            Decision.objects.filter(consignment=consignment)
            .select_related("code", "measure", "officer", "countersigned_by")
            .prefetch_related("reasons")
            .order_by("id")
        ),
    }


# Ended intensified controls stay on the supervisors' page this long.
INTENSIFIED_ENDED_SHOWN_DAYS = 90


def intensified_controls_in_view() -> dict:
    """The intensified controls in force (`open`, newest first) and those ended in the last
    `INTENSIFIED_ENDED_SHOWN_DAYS` days (`ended`, latest first), with their CHED type and the consignment that
    opened them: one query."""
    since = timezone.now() - datetime.timedelta(days=INTENSIFIED_ENDED_SHOWN_DAYS)
    controls = list(
        IntensifiedControl.objects.select_related("ched_type", "cause_consignment", "withdrawn_by").filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=since)
        )
    )
    return {
        "open": [c for c in controls if c.ended_at is None],
        "ended": sorted((c for c in controls if c.ended_at is not None), key=lambda c: c.ended_at, reverse=True),
        "ended_shown_days": INTENSIFIED_ENDED_SHOWN_DAYS,
    }


def export_applications_visible_to(user):
    """Staff see every export application; an exporter only its own company's; anyone else nothing."""
    from inspection.models import ExportApplication

    qs = ExportApplication.objects.select_related("operator")
    if is_staff_user(user):
        return qs.order_by("-created_at", "-id")
    if Role.EXPORTER in user_roles(user) and hasattr(user, "membership"):
        return qs.filter(operator_id=user.membership.operator_id).order_by("-created_at", "-id")
    return qs.none()


def destination_requirements(application) -> list:
    """The destination's requirements in force today for the application's commodities (a requirement with no
    HS code applies to every commodity; `DestinationRequirement.covers`)."""
    from inspection.models import DestinationRequirement

    if not application.destination_country:
        return []
    hs_codes = [line.hs_code for line in application.lines.all()]
    found = DestinationRequirement.objects.in_force(timezone.localdate()).filter(
        destination_country=application.destination_country
    )
    return [r for r in found if any(r.covers(code) for code in hs_codes or [""])]


def consignment_amendments(consignment: Consignment) -> list[dict]:
    """What the importer changed in Part I after submitting it, oldest first, for the officer: each amendment
    (or moved arrival) with its fields, old and new (`services/amendments.py`)."""
    from inspection.models import AuditAction, AuditEvent

    events = AuditEvent.objects.filter(
        consignment=consignment, action__in=[AuditAction.CONSIGNMENT_AMENDED, AuditAction.ARRIVAL_MOVED]
    ).order_by("id")
    return [
        {
            "at": event.occurred_at,
            "label": AuditAction.label_of(event.action),
            "late_prenotification": event.data.get("prenotification_in_time") is False,
            "changes": [(path, old, new) for path, (old, new) in event.data.get("changes", {}).items()],
        }
        for event in events
    ]


def consignment_lineage(consignment: Consignment) -> dict:
    """The CHEDs a CHED follows from or is followed by (2019/1715 Annex II, boxes II.1 and II.24): the one it
    replaces or was split from, the one that replaced it, and its parts. Numbers only; every one of them is the
    same company's (a replacement and the parts keep the operator)."""
    from inspection.models import Succession

    previous = consignment.previous.reference if consignment.previous_id else None
    # only a replaced or split CHED is followed by others: no query for the others
    followed = consignment.status in (ConsignmentStatus.REPLACED, ConsignmentStatus.SPLIT)
    subsequent = consignment.subsequent.order_by("pk").values_list("reference", "succession") if followed else []
    return {
        "replaces": previous if consignment.succession == Succession.REPLACEMENT else None,
        "split_from": previous if consignment.succession == Succession.SPLIT_PART else None,
        "replaced_by": next((ref for ref, kind in subsequent if kind == Succession.REPLACEMENT), None),
        "parts": [ref for ref, kind in subsequent if kind == Succession.SPLIT_PART],
    }
