"""Export applications: an exporter drafts, edits and submits what its phytosanitary certificate (ISPM 12) will
state; the post checks the consignment (documents, then inspection) and a certifying officer issues the
certificate or refuses it. Every step is atomic, checks who acts and writes its audit event."""

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django_countries import countries

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotPermitted, TransitionNotAllowed
from inspection.models import (
    Consignment,
    ExportApplication,
    ExportCheck,
    ExportKind,
    ExportLine,
    ExportSequence,
    ExportStatus,
    LabResult,
    Operator,
    PackageType,
    Sample,
    TransportMode,
)
from inspection.ports import start_export
from inspection.roles import Role, user_roles
from inspection.selectors import destination_requirements
from inspection.services.permissions import require_role

MAX_LINES = 100
HS_CODE = re.compile(r"^\d{6}(\d{2}){0,2}$")
EPPO_CODE = re.compile(r"^[0-9A-Z]{5,6}$")
UNLOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")

# The moves an application may make (`_transition` refuses any other).
MOVES = {
    ExportStatus.DRAFT: {ExportStatus.SUBMITTED, ExportStatus.CANCELLED},
    ExportStatus.SUBMITTED: {ExportStatus.CHECKING, ExportStatus.REFUSED},
    ExportStatus.CHECKING: {ExportStatus.ISSUED, ExportStatus.REFUSED},
}


def exporter_operator(actor) -> Operator:
    """The exporting company the actor works for; only its users apply for certificates."""
    if Role.EXPORTER not in user_roles(actor) or not hasattr(actor, "membership"):
        raise NotPermitted(_("Only a user of an exporting company can apply for a phytosanitary certificate."))
    return actor.membership.operator


def _reference_allocate(year: int) -> str:
    """`PHYTO.FR.<year>.<7 digits>`: unique and gap-free, as CHED references (the counter row locked in the
    caller's transaction)."""
    sequence, _created = ExportSequence.objects.select_for_update(no_key=True).get_or_create(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"PHYTO.{settings.PIF_COUNTRY}.{year}.{sequence.last:07d}"


def export_audit(*, actor, action: str, application: ExportApplication, **data) -> None:
    """An export application's audit event: not a consignment's, so it names the application in its data."""
    audit_record(actor=actor, action=action, consignment=None, data={"export": application.reference, **data})


def _move(application: ExportApplication, to: str, *, fields=("submitted_at", "decided_at", "decided_by")) -> None:
    """The one place an application's status changes: only along `MOVES`."""
    if to not in MOVES.get(application.status, set()):
        raise TransitionNotAllowed(
            _("This application is %(status)s: it cannot move to %(to)s.")
            % {"status": application.get_status_display().lower(), "to": ExportStatus(to).label.lower()}
        )
    application.status = to
    application.save(update_fields=["status", "updated_at", *fields])


def _transition(*, actor, application: ExportApplication, to: str, action: str, data: dict | None = None) -> None:
    _move(application, to)
    export_audit(actor=actor, action=action, application=application, status=to, **(data or {}))


# --- the application and its rules -----------------------------------------------------------------------


class _Reader:
    """Reads the application's JSON into model values, collecting every error under its dotted path."""

    def __init__(self, data, *, complete: bool):
        self.errors: dict[str, list[str]] = {}
        self.complete = complete
        self.data = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.error("", _("The application must be a JSON object."))

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def group(self, name: str) -> dict:
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            self.error(name, _("Must be an object."))
            return {}
        return value

    def text(self, source: dict, key: str, path: str, *, max_length: int, required: bool = False) -> str:
        value = source.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(path, _("Must be text."))
            return ""
        value = value.strip()
        if len(value) > max_length:
            self.error(path, _("At most %(n)s characters.") % {"n": max_length})
        elif required and self.complete and not value:
            self.error(path, _("This field is required."))
        return value

    def country(self, source: dict, key: str, path: str, *, required: bool = False) -> str:
        value = self.text(source, key, path, max_length=2, required=required).upper()
        if value and value not in countries:
            self.error(path, _("“%(code)s” is not an ISO 3166 country code.") % {"code": value})
            return ""
        return value


def _line_read(reader: _Reader, row, n: int, package_types: set[str]) -> ExportLine | None:
    path = f"lines.{n}"
    if not isinstance(row, dict):
        reader.error(path, _("Must be an object."))
        return None
    line = ExportLine(position=n + 1)
    line.description = reader.text(row, "description", f"{path}.description", max_length=300, required=True)
    line.hs_code = reader.text(row, "hs_code", f"{path}.hs_code", max_length=10, required=True).replace(".", "")
    if line.hs_code and not HS_CODE.match(line.hs_code):
        reader.error(f"{path}.hs_code", _("An HS code has 6, 8 or 10 digits."))
    line.botanical_name = reader.text(row, "botanical_name", f"{path}.botanical_name", max_length=200, required=True)
    line.eppo_code = reader.text(row, "eppo_code", f"{path}.eppo_code", max_length=12).upper()
    if line.eppo_code and not EPPO_CODE.match(line.eppo_code):
        reader.error(f"{path}.eppo_code", _("An EPPO code has 5 or 6 letters or digits."))
    line.place_of_production = reader.text(
        row, "place_of_production", f"{path}.place_of_production", max_length=200, required=True
    )
    line.country_of_origin = reader.country(row, "country_of_origin", f"{path}.country_of_origin") or "MQ"
    line.package_type = reader.text(row, "package_type", f"{path}.package_type", max_length=10, required=True).upper()
    if line.package_type and line.package_type not in package_types:
        reader.error(
            f"{path}.package_type", _("“%(code)s” is not a package type of the list.") % {"code": line.package_type}
        )
    weight = row.get("net_weight_kg")
    try:
        line.net_weight_kg = Decimal(str(weight)).quantize(Decimal("0.001")) if weight not in (None, "") else None
        if line.net_weight_kg is not None and not (0 < line.net_weight_kg < Decimal("1e9")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        reader.error(f"{path}.net_weight_kg", _("A positive weight in kg, such as 1250.5."))
        line.net_weight_kg = None
    packages = row.get("packages")
    if packages in (None, ""):
        line.packages = None
    elif isinstance(packages, bool) or not isinstance(packages, int) or not 0 < packages < 10**7:
        reader.error(f"{path}.packages", _("A whole number of packages, at least 1."))
        line.packages = None
    else:
        line.packages = packages
    if reader.complete:
        for name in ("net_weight_kg", "packages"):
            if getattr(line, name) is None and f"{path}.{name}" not in reader.errors:
                reader.error(f"{path}.{name}", _("This field is required."))
    return line


def _read(data, *, complete: bool, operator: Operator, kind: str | None = None) -> tuple[dict, list[ExportLine]]:
    """The model values and lines of an application, or `DomainInvalid` with every error. `complete`: the
    rules of a submit (every box ISPM 12 prints is filled)."""
    reader = _Reader(data, complete=complete)
    d = reader.data
    values: dict = {}
    kind = kind or d.get("kind") or ExportKind.EXPORT
    if kind not in ExportKind.values:
        reader.error("kind", _("“export” or “reexport”."))
    values["kind"] = kind
    consignor, consignee = reader.group("consignor"), reader.group("consignee")
    values["consignor_name"] = reader.text(consignor, "name", "consignor.name", max_length=200) or operator.name
    values["consignor_address"] = (
        reader.text(consignor, "address", "consignor.address", max_length=1000) or operator.address
    )
    values["consignee_name"] = reader.text(consignee, "name", "consignee.name", max_length=200, required=True)
    values["consignee_address"] = reader.text(consignee, "address", "consignee.address", max_length=1000, required=True)
    values["consignee_country"] = reader.country(consignee, "country", "consignee.country")
    destination = reader.group("destination")
    values["destination_country"] = reader.country(destination, "country", "destination.country", required=True)
    if values["destination_country"] in ("MQ",):
        reader.error("destination.country", _("Martinique is where the goods leave from, not their destination."))
    values["point_of_entry"] = reader.text(
        destination, "point_of_entry", "destination.point_of_entry", max_length=100, required=True
    )
    unlocode = reader.text(destination, "unlocode", "destination.unlocode", max_length=5).upper()
    if unlocode and not UNLOCODE.match(unlocode):
        reader.error("destination.unlocode", _("A UN/LOCODE has five letters, such as CAMTR."))
    values["point_of_entry_unlocode"] = unlocode
    conveyance = reader.group("conveyance")
    mode = reader.text(conveyance, "mode", "conveyance.mode", max_length=5, required=True)
    if mode and mode not in TransportMode.values:
        reader.error("conveyance.mode", _("“sea”, “air” or “road”."))
    values["transport_mode"] = mode
    values["transport_id"] = reader.text(conveyance, "id", "conveyance.id", max_length=100)
    values["distinguishing_marks"] = reader.text(d, "distinguishing_marks", "distinguishing_marks", max_length=200)
    treatment = reader.group("treatment")
    values["treatment"] = reader.text(treatment, "name", "treatment.name", max_length=200)
    values["treatment_chemical"] = reader.text(treatment, "chemical", "treatment.chemical", max_length=200)
    values["treatment_duration_temperature"] = reader.text(
        treatment, "duration_temperature", "treatment.duration_temperature", max_length=100
    )
    values["treatment_concentration"] = reader.text(
        treatment, "concentration", "treatment.concentration", max_length=100
    )
    values["treatment_information"] = reader.text(treatment, "information", "treatment.information", max_length=1000)
    raw_date = treatment.get("date")
    values["treatment_date"] = None
    if raw_date not in (None, ""):
        try:
            parsed = parse_date(raw_date) if isinstance(raw_date, str) else None
        except ValueError:  # well formed but no such day (2026-02-30)
            parsed = None
        if parsed is None:
            reader.error("treatment.date", _("A date, such as 2026-12-01."))
        elif parsed > timezone.localdate():
            reader.error("treatment.date", _("The treatment cannot be in the future."))
        values["treatment_date"] = parsed
    if (values["treatment_chemical"] or values["treatment_date"]) and not values["treatment"]:
        reader.error("treatment.name", _("Name the treatment its date or chemical belongs to."))
    values["additional_declarations"] = reader.text(
        d, "additional_declarations", "additional_declarations", max_length=2000
    )
    reexport = reader.group("reexport")
    values["original_certificate"] = reader.text(
        reexport, "original_certificate", "reexport.original_certificate", max_length=100
    )
    values["original_country"] = reader.country(reexport, "original_country", "reexport.original_country")
    values["ched_reference"] = reader.text(reexport, "ched_reference", "reexport.ched_reference", max_length=30)
    if kind == ExportKind.REEXPORT and complete:
        for name in ("original_certificate", "original_country", "ched_reference"):
            if not values[name] and f"reexport.{name}" not in reader.errors:
                reader.error(f"reexport.{name}", _("A re-export certificate states this (ISPM 12)."))
    if values["ched_reference"]:
        # the goods came in under a CHED-PP of the same company; another company's CHED is never named
        known = Consignment.objects.filter(
            reference=values["ched_reference"], operator=operator, ched_type__code="CHED-PP"
        ).exists()
        if not known:
            reader.error("reexport.ched_reference", _("No CHED-PP of your company has this reference."))

    rows = d.get("lines", [])
    lines: list[ExportLine] = []
    if not isinstance(rows, list):
        reader.error("lines", _("Must be a list."))
    elif len(rows) > MAX_LINES:
        reader.error("lines", _("At most %(n)s lines.") % {"n": MAX_LINES})
    else:
        package_types = set(PackageType.objects.in_force(timezone.localdate()).values_list("code", flat=True))
        lines = [line for n, row in enumerate(rows) if (line := _line_read(reader, row, n, package_types))]
        if complete and not rows:
            reader.error("lines", _("Describe at least one line of goods."))
    if reader.errors:
        raise DomainInvalid(reader.errors)
    return values, lines


def _write(application: ExportApplication, values: dict, lines: list[ExportLine]) -> None:
    for name, value in values.items():
        setattr(application, name, value)
    application.save()
    application.lines.all().delete()
    for line in lines:
        line.application = application
    ExportLine.objects.bulk_create(lines)


def _own_draft(actor, application: ExportApplication) -> Operator:
    operator = exporter_operator(actor)
    if operator.pk != application.operator_id:
        raise NotPermitted(_("This application belongs to another company."))
    if not application.is_draft:
        raise TransitionNotAllowed(
            _("Only a draft can be changed; this application is already %(status)s.")
            % {"status": application.get_status_display().lower()}
        )
    return operator


@atomic_service
def export_application_create(*, actor, application: dict, draft: bool = True) -> ExportApplication:
    """An exporter's new application, numbered; unless `draft`, submitted at once under the submit's rules
    (then, when a rule fails, nothing is stored, not even the number)."""
    operator = exporter_operator(actor)
    values, lines = _read(application, complete=not draft, operator=operator)
    created = ExportApplication(
        reference=_reference_allocate(timezone.localdate().year), operator=operator, created_by=actor
    )
    _write(created, values, lines)
    # what was stored (the fields read), never the body as sent: a name no field has is not evidence of anything
    export_audit(
        actor=actor,
        action=AuditAction.EXPORT_CREATED,
        application=created,
        application_data=export_application_data(created),
    )
    if not draft:
        _submit(actor=actor, application=created)
    return created


@atomic_service
def export_application_update(*, actor, application: ExportApplication, data: dict) -> ExportApplication:
    """Replace a draft's content (the kind, export or re-export, is fixed at creation)."""
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    operator = _own_draft(actor, application)
    values, lines = _read(data, complete=False, operator=operator, kind=application.kind)
    _write(application, values, lines)
    export_audit(
        actor=actor,
        action=AuditAction.EXPORT_DRAFT_UPDATED,
        application=application,
        application_data=export_application_data(application),
    )
    return application


def export_application_data(application: ExportApplication) -> dict:
    """The application as the API takes it (what `export_application_create` reads back)."""
    a = application
    return {
        "kind": a.kind,
        "consignor": {"name": a.consignor_name, "address": a.consignor_address},
        "consignee": {"name": a.consignee_name, "address": a.consignee_address, "country": str(a.consignee_country)},
        "destination": {
            "country": str(a.destination_country),
            "point_of_entry": a.point_of_entry,
            "unlocode": a.point_of_entry_unlocode,
        },
        "conveyance": {"mode": a.transport_mode, "id": a.transport_id},
        "distinguishing_marks": a.distinguishing_marks,
        "treatment": {
            "date": a.treatment_date.isoformat() if a.treatment_date else None,
            "name": a.treatment,
            "chemical": a.treatment_chemical,
            "duration_temperature": a.treatment_duration_temperature,
            "concentration": a.treatment_concentration,
            "information": a.treatment_information,
        },
        "additional_declarations": a.additional_declarations,
        "reexport": {
            "original_certificate": a.original_certificate,
            "original_country": str(a.original_country),
            "ched_reference": a.ched_reference,
        },
        "lines": [
            {
                "description": line.description,
                "hs_code": line.hs_code,
                "botanical_name": line.botanical_name,
                "eppo_code": line.eppo_code,
                "net_weight_kg": str(line.net_weight_kg),
                "packages": line.packages,
                "package_type": line.package_type,
                "place_of_production": line.place_of_production,
                "country_of_origin": str(line.country_of_origin),
            }
            for line in a.lines.all()
        ],
    }


@atomic_service
def export_application_submit(*, actor, application: ExportApplication) -> ExportApplication:
    """Submit a draft: every box the certificate prints must be filled (ISPM 12, Annex 1), the codes from
    the lists in force; a re-export names the original certificate and the CHED-PP the goods came in under."""
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    operator = _own_draft(actor, application)
    _read(export_application_data(application), complete=True, operator=operator, kind=application.kind)
    _submit(actor=actor, application=application)
    return application


def _submit(*, actor, application: ExportApplication) -> None:
    application.submitted_at = timezone.now()
    _transition(actor=actor, application=application, to=ExportStatus.SUBMITTED, action=AuditAction.EXPORT_SUBMITTED)
    start_export(application)  # the post's work on it (the export flow), in the same transaction


# --- the post's checks and decision -----------------------------------------------------------------------


@atomic_service
def export_check_record(
    *,
    actor,
    application: ExportApplication,
    kind: str,
    result: str,
    notes: str = "",
    requirements_met: list | None = None,
) -> ExportCheck:
    """An inspector records the documentary check (first) or the inspection of the consignment (ISPM 23).
    A check that is not satisfactory must say why; the certifying officer then refuses. A satisfactory
    documentary check confirms each requirement of the destination in force (`requirements_met`: their ids)."""
    require_role(actor, Role.INSPECTOR)
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    errors: dict[str, list[str]] = {}
    if kind not in ExportCheck.Kind.values:
        errors["kind"] = [_("“documentary” or “inspection”.")]
    if result not in ExportCheck.Result.values:
        errors["result"] = [_("“satisfactory” or “not_satisfactory”.")]
    notes = (notes or "").strip()[:2000]
    if result == ExportCheck.Result.NOT_SATISFACTORY and not notes:
        errors["notes"] = [_("Say what was not satisfactory.")]
    confirmed = []
    if kind == ExportCheck.Kind.DOCUMENTARY and result == ExportCheck.Result.SATISFACTORY:
        met = {str(x) for x in requirements_met} if isinstance(requirements_met, list) else set()
        for requirement in destination_requirements(application):
            if str(requirement.pk) not in met:
                errors.setdefault("requirements", []).append(
                    _("Confirm the destination's requirement: %(text)s") % {"text": requirement.text}
                )
            confirmed.append({"id": requirement.pk, "kind": requirement.kind, "text": requirement.text_en})
    if errors:
        raise DomainInvalid(errors)
    done = set(application.checks.values_list("kind", flat=True))
    if application.status not in (ExportStatus.SUBMITTED, ExportStatus.CHECKING) or kind in done:
        raise TransitionNotAllowed(_("This check cannot be recorded now for this application."))
    if kind == ExportCheck.Kind.INSPECTION and ExportCheck.Kind.DOCUMENTARY not in done:
        raise TransitionNotAllowed(_("The documentary check comes before the inspection."))
    check = ExportCheck.objects.create(
        application=application,
        kind=kind,
        result=result,
        notes=notes,
        inspector=actor,
        recorded_at=timezone.now(),
        requirements=confirmed,
    )
    if application.status == ExportStatus.SUBMITTED:
        _move(application, ExportStatus.CHECKING, fields=())  # the check's own event records it
    export_audit(actor=actor, action=AuditAction.EXPORT_CHECKED, application=application, kind=kind, result=result)
    return check


@atomic_service
def export_refuse(*, actor, application: ExportApplication, reason: str) -> ExportApplication:
    """A certifying officer refuses the certificate, with the reason the exporter reads."""
    require_role(actor, Role.CERTIFYING_OFFICER)
    reason = (reason or "").strip()
    if not reason:
        raise DomainInvalid({"reason": [_("Give the reason for refusing the certificate.")]})
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    application.refusal_reason = reason[:2000]
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["refusal_reason"])
    _transition(
        actor=actor,
        application=application,
        to=ExportStatus.REFUSED,
        action=AuditAction.EXPORT_REFUSED,
        data={"reason": application.refusal_reason},
    )
    return application


def export_may_issue(application: ExportApplication) -> None:
    """ISPM 12 certifies that the consignment was inspected and found free of quarantine pests: both checks
    recorded and satisfactory, and every sample's laboratory result received and satisfactory."""
    results = dict(application.checks.values_list("kind", "result"))
    if any(results.get(kind) != ExportCheck.Result.SATISFACTORY for kind in ExportCheck.Kind.values):
        raise TransitionNotAllowed(
            _("A certificate is issued only after a satisfactory documentary check and inspection.")
        )
    # every sample taken at the inspection came back satisfactory (ISPM 7: the certifying statement rests on it)
    samples = Sample.objects.filter(application=application).select_related("result")
    for sample in samples:
        result = getattr(sample, "result", None)  # none until the lab posts it
        if result is None and sample.status == Sample.Status.WAIVED:
            raise TransitionNotAllowed(
                _(
                    "The supervisors decided not to wait for the result of sample %(number)s: the certificate "
                    "can only be refused."
                )
                % {"number": sample.number}
            )
        if result is None:
            raise TransitionNotAllowed(
                _("Sample %(number)s awaits its laboratory result: no certificate before it.")
                % {"number": sample.number}
            )
        if result.conclusion != LabResult.Conclusion.SATISFACTORY:
            raise TransitionNotAllowed(
                _("The result of sample %(number)s is %(conclusion)s: the certificate can only be refused.")
                % {"number": sample.number, "conclusion": result.get_conclusion_display().lower()}
            )


def issue_transition(*, actor, application: ExportApplication, data: dict) -> None:
    """The application reads issued (called by `phyto_certificate_issue`, in its transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_transition runs in the issuing transaction")
    application.decided_at = timezone.now()
    application.decided_by = actor
    _transition(
        actor=actor, application=application, to=ExportStatus.ISSUED, action=AuditAction.PHYTO_ISSUED, data=data
    )
