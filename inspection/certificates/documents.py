"""What goes on a certificate: the template context, built from the consignment and its decision, and the
HTML the templates in `templates/certificates/` make of it. Certificates are bilingual on one page: French
first, English in italics, whatever the reader's language (a certificate travels with the goods)."""

import dataclasses
import datetime

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from inspection import part_one_schema
from inspection.models import ArrivalConfirmation, Certificate, Consignment, Decision, FollowUp, Sample, Succession

from .boxes import BOXES, DECISION_BOXES, NATIONAL_MODELS, PURPOSE_BOXES, REGIME_BOXES

TEMPLATES = {
    Certificate.Kind.CHED: "certificates/ched.html",
    Certificate.Kind.REFUSAL: "certificates/refusal.html",
}


@dataclasses.dataclass(frozen=True)
class Bi:
    """A text in French and in English."""

    fr: str
    en: str

    def __str__(self):
        return self.fr if self.fr == self.en else f"{self.fr} / {self.en}"


def bi(value) -> Bi:
    """Both translations of a lazy string, a choice label or a country name."""
    with translation.override("fr"):
        fr = str(value() if callable(value) else value)
    with translation.override("en"):
        en = str(value() if callable(value) else value)
    return Bi(fr, en)


def named(entry) -> Bi | None:
    """Reference data (name_fr/name_en) as `Bi`."""
    return Bi(entry.name_fr, entry.name_en) if entry is not None else None


def verify_url(number: str, key: str) -> str:
    """The public check of one certificate: its number and its verification code, which the QR code and
    the printed text carry (the number alone shows nothing)."""
    return settings.SITE_URL.rstrip("/") + reverse("verify", kwargs={"number": number, "key": key})


def qr_data_uri(text: str) -> str:
    """The QR code as a PNG `data:` URL: WeasyPrint embeds a PNG faster than it draws an SVG's paths."""
    return segno.make(text, error="m").png_data_uri(scale=5, border=2)


# The boxes `ched.html` lays out by hand; every other box of `part_one_schema` is printed in the grid of
# "other boxes", under its number, so that a box added to the schema is printed without touching the template.
LAID_OUT = frozenset(
    {
        "ched_reference",
        "bcp",
        "consignor",
        "consignee",
        "place_of_destination",
        "accompanying_documents",
        "prior_notification",
        "country_of_origin",
        "means_of_transport",
        *REGIME_BOXES,
        "description",
        "establishment_of_origin",
        "total_weight",
    }
)


def _printable(instance, field: part_one_schema.PartOneField):
    """A schema field's stored value as the PDF prints it: countries and choices in both languages."""
    value = getattr(instance, field.column)
    if part_one_schema.is_empty(value):
        return None
    if field.kind == "country":
        return Bi(*(_country_name(value, language) for language in ("fr", "en")))
    if field.kind == "choice":
        return bi(getattr(instance, f"get_{field.column}_display"))
    if field.kind == "datetime":
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    return value


def _country_name(country, language: str) -> str:
    with translation.override(language):
        return f"{country.name} ({country.code})"


def part_one_boxes(consignment: Consignment) -> dict[str, list]:
    """The values of each box of the schema this CHED type's model has, for the consignment (not its lines):
    `{"place_of_destination": ["Entrepôt frigorifique du Lamentin", "ZI ...", Bi("France (FR)", ...)]}`."""
    ched_type = consignment.ched_type.code
    boxes: dict[str, list] = {name: [] for name in part_one_schema.boxes_for(ched_type)}
    for field in part_one_schema.stored_fields():
        if field.applies_to(ched_type) and (value := _printable(consignment, field)) is not None:
            boxes[field.box].append(value)
    return boxes


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(value) if value else None


def _check(record) -> dict | None:
    if record is None:
        return None
    return {"result": bi(record.get_result_display), "reason": record.reason, "recorded_at": _local(record.recorded_at)}


# The consignment's relations a certificate prints (`certificate_context` and the templates): a caller that
# reads the consignment anyway reads them with it.
PRINTED_RELATIONS = (
    "ched_type",
    "bcp",
    "purpose",
    "operator",
    "previous",
    "check_plan",
    "documentary_check",
    "identity_check",
    "physical_check",
    "follow_up__inspector",
)


def certificate_context(
    *,
    kind: str,
    consignment: Consignment,
    decision: Decision | None,
    number: str,
    verify_key: str,
    issued_at: datetime.datetime | None,
    signer: str,
    preview: bool = False,
) -> dict:
    """Everything a certificate template prints. `decision` is None in a staff preview before the decision."""
    # the part of a split consignment was checked as the consignment was (II.1 names it): its II.3-II.6 are those
    checked = consignment.previous if consignment.succession == Succession.SPLIT_PART else consignment
    samples = list(
        Sample.objects.filter(consignment=checked).select_related("analysis", "laboratory", "result").order_by("number")
    )
    # A reverse one-to-one that does not exist raises an AttributeError subclass: getattr's default applies.
    plan = getattr(checked, "check_plan", None)
    documentary = getattr(checked, "documentary_check", None)
    identity = getattr(checked, "identity_check", None)
    physical = getattr(checked, "physical_check", None)
    follow_up = getattr(consignment, "follow_up", None)
    ched_type = NATIONAL_MODELS.get(consignment.ched_type.code, consignment.ched_type.code)
    lines = list(consignment.lines.select_related("package_type").order_by("pk"))
    # the boxes the model of this CHED type has (`{% if "region_of_origin" in boxes %}`)
    boxes = {name for name, entry in BOXES.items() if entry.applies_to(ched_type)}
    boxed = part_one_boxes(consignment)
    return {
        "kind": kind,
        "number": number,
        "preview": preview,
        "verify_url": verify_url(number, verify_key),
        "qr": qr_data_uri(verify_url(number, verify_key)),
        "issued_at": _local(issued_at),
        "signer": signer,
        "place": settings.PIF_SIGNING_LOCATION,
        "c": consignment,
        # I.2 (II.2, III.2) is the code TRACES NT assigns; the service does not transmit to it (docs/regulation.md,
        # section 1): our own number is the competent authority's local reference, I.3. I.2 prints TRACES NT's
        # number once staff recorded it (`consignment_traces_reference_set`), and says it is not assigned before.
        "traces_reference": Bi(consignment.traces_reference, consignment.traces_reference)
        if consignment.traces_reference
        else TRACES_NOT_ASSIGNED,
        "ched_type": named(consignment.ched_type),
        # a national entry is not a CHED: its own title, its legal basis, no CHED box numbers
        "national": not consignment.ched_type.is_ched,
        "legal_basis": consignment.ched_type.legal_basis,
        "bcp": named(consignment.bcp),
        "purpose": named(consignment.purpose),
        "origin": bi(lambda: consignment.country_of_origin.name) if consignment.country_of_origin else None,
        "consignor_country": bi(lambda: consignment.consignor_country.name) if consignment.consignor_country else None,
        "consignee_country": bi(lambda: consignment.consignee_country.name) if consignment.consignee_country else None,
        "transport_mode": bi(consignment.get_transport_mode_display) if consignment.transport_mode else None,
        "expected_arrival": _local(consignment.expected_arrival),
        "boxes": boxes,
        "purpose_box": PURPOSE_BOXES.get(consignment.purpose.code) if consignment.purpose else None,
        # I.20-I.26: every regime box of the model, the one the purpose chose with the purpose and its details
        "regime_boxes": _regime_boxes(consignment, boxes, boxed),
        "counts_animals": ched_type == "CHED-A",
        "part_one": boxed,
        "other_boxes": [{"name": name, "values": values} for name, values in boxed.items() if name not in LAID_OUT],
        # I.15, a box of every model, as a column of the lines (each line may come from its own establishment)
        "with_establishments": "establishment_of_origin" in boxes,
        "lines": [{"line": line, "package_type": named(line.package_type)} for line in lines],
        "totals": {
            "packages": sum(line.packages or 0 for line in lines),
            "animals": sum(line.number_of_animals or 0 for line in lines),
            "net_weight_kg": sum(line.net_weight_kg or 0 for line in lines),
            "gross_weight_kg": consignment.total_gross_weight_kg,
        },
        "containers": list(consignment.containers.order_by("pk")),
        "documents": [
            {"document": document, "type": named(document.document_type)}
            for document in consignment.documents.select_related("document_type").order_by("pk")
        ],
        "documentary": _check(documentary),
        "identity": _check(identity),
        "identity_record": identity,
        "physical": _check(physical),
        "physical_record": physical,
        "plan": plan,
        "samples": [
            {
                "sample": sample,
                "analysis": named(sample.analysis),
                "laboratory": named(sample.laboratory),
                "reason": bi(sample.get_reason_display),
                "conclusion": bi(result.get_conclusion_display)
                if (result := getattr(sample, "result", None))
                else None,
                "status": bi(sample.get_status_display),
            }
            for sample in samples
        ],
        "decision": _decision(decision),
        "follow_up": _follow_up(follow_up),
    }


TRACES_NOT_ASSIGNED = Bi("non attribuée (DSCE non transmis à TRACES NT)", "not assigned (not transmitted to TRACES NT)")


def _regime_boxes(consignment: Consignment, boxes: set[str], boxed: dict[str, list]) -> list[dict]:
    chosen = PURPOSE_BOXES.get(consignment.purpose.code) if consignment.purpose else None
    return [
        {
            "name": name,
            "chosen": name == chosen,
            "values": [named(consignment.purpose), *boxed.get(name, [])] if name == chosen else boxed.get(name, []),
        }
        for name in REGIME_BOXES
        if name in boxes
    ]


def _decision(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "record": decision,
        "box": DECISION_BOXES[decision.code.code],
        "code": named(decision.code),
        "acceptable": decision.code.acceptable,
        "measure": named(decision.measure),
        "deadline": decision.measure_deadline,
        "reasons": [named(reason) for reason in decision.reasons.order_by("code")],
        "officer": person_name(decision.officer),
        "decided_at": _local(decision.decided_at),
        "countersigned_by": person_name(decision.countersigned_by) if decision.countersigned_by_id else None,
        "countersigned_at": _local(decision.countersigned_at),
        "exit_bcp": decision.exit_bcp,
        "destination_country": bi(lambda: decision.destination_country.name) if decision.destination_country else None,
        "destination": decision.destination,
        "warehouse": decision.warehouse,
        "control_point": decision.control_point,
        "control_point_code": decision.control_point_code,
        "next_bcp": decision.next_bcp,
        "onward_facility": decision.onward_facility,
    }


def _follow_up(follow_up: FollowUp | None) -> dict | None:
    if follow_up is None:
        return None
    return {
        "outcome": bi(follow_up.get_outcome_display),
        # the arrival confirmed by the receiving side: Part III completed by the place's authority (2019/1666)
        "by": _arrival_place(follow_up.consignment),
        "redispatched": follow_up.outcome == FollowUp.Outcome.REDISPATCHED,
        "evidence": follow_up.evidence,
        "inspector": person_name(follow_up.inspector),
        "recorded_at": _local(follow_up.recorded_at),
    }


def _arrival_place(consignment: Consignment) -> str:
    confirmation = ArrivalConfirmation.objects.filter(consignment=consignment).select_related("control_point").first()
    return f"{confirmation.control_point.name} ({confirmation.control_point.code})" if confirmation else ""


def person_name(user) -> str:
    """How a certificate names a person: full name, else the username."""
    return user.get_full_name() or user.get_username()


def certificate_html(context: dict) -> str:
    """The certificate as HTML: the PDF's source, and the preview staff see before signing. Rendered in the
    post's language (`LANGUAGE_CODE`) whoever asks, so that numbers and dates read the same in the preview and
    in the PDF the worker signs (the labels print both languages)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(TEMPLATES[context["kind"]], context)


def label_html(sample: Sample) -> str:
    """A sample label (100 × 62 mm, label-printer size) with the sample number as a QR code."""
    return render_to_string(
        "certificates/label.html",
        {
            "sample": sample,
            "qr": qr_data_uri(sample.number),
            "analysis": named(sample.analysis),
            "laboratory": named(sample.laboratory),
            "conservation": bi(sample.get_conservation_display),
            "reason": bi(sample.get_reason_display),
            "taken_at": _local(sample.taken_at),
        },
    )
