"""Issuing the phytosanitary certificate of an export application (ISPM 12): the signed PDF and its ePhyto
XML, from the same data, stored with their SHA-256 and audited in one transaction."""

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.certificates.documents import person_name
from inspection.certificates.ephyto_xml import ephyto_xml
from inspection.certificates.phyto import phyto_context, phyto_html
from inspection.certificates.render import render_pdf
from inspection.certificates.signing import sign_pdf, signer_name
from inspection.errors import DomainError, DomainInvalid, TransitionNotAllowed
from inspection.models import ExportApplication, ExportStatus, PhytosanitaryCertificate
from inspection.models.certificates import certificate_verify_key
from inspection.roles import Role
from inspection.services.exports import export_audit, export_may_issue, issue_transition
from inspection.services.files import file_store
from inspection.services.hub import hub_delivery_enqueue
from inspection.services.permissions import require_role

SIGNING_REASON = "Certificat phytosanitaire (NIMP 12) / Phytosanitary certificate (ISPM 12)"


class PhytoCertificateError(DomainError):
    """A replacement or withdrawal that can't be done, with the reason for the user."""


def phyto_pdf(
    *, application: ExportApplication, number: str, verify_key: str, issued_at, officer: str, replaces=None
) -> bytes:
    """Render and sign the certificate; nothing is stored."""
    context = phyto_context(
        application=application,
        number=number,
        verify_key=verify_key,
        issued_at=issued_at,
        signer=signer_name(),
        officer=officer,
        replaces=replaces,
    )
    return sign_pdf(render_pdf(phyto_html(context)), reason=SIGNING_REASON)


@atomic_service
def phyto_certificate_issue(*, actor, application: ExportApplication) -> PhytosanitaryCertificate:
    """A certifying officer issues the certificate once the documentary check and the inspection are both
    satisfactory (ISPM 12: the certifying statement rests on them; ISPM 7). The PDF and the ePhyto XML carry
    the same number and data."""
    require_role(actor, Role.CERTIFYING_OFFICER)
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    if application.status != ExportStatus.CHECKING:
        raise TransitionNotAllowed(
            _("This application is %(status)s: no certificate can be issued.")
            % {"status": application.get_status_display().lower()}
        )
    export_may_issue(application)
    certificate = _certificate_make(application=application, officer=person_name(actor))
    issue_transition(
        actor=actor,
        application=application,
        data={
            "number": certificate.number,
            "sha256": certificate.sha256,
            "ephyto_sha256": certificate.ephyto_sha256,
            "size": certificate.size,
            "signer": certificate.signer,
        },
    )
    hub_delivery_enqueue(certificate=certificate, kind="issued")
    return certificate


def _certificate_make(
    *, application: ExportApplication, officer: str, replaces: PhytosanitaryCertificate | None = None
) -> PhytosanitaryCertificate:
    """Number, render, sign and store one certificate (the application row locked by the caller). Rendered
    before the first write: the audit append serialises writers until commit."""
    earlier = PhytosanitaryCertificate.objects.filter(application=application).count()
    number = f"{application.reference}-P{earlier + 1}"
    verify_key = certificate_verify_key()
    issued_at = timezone.now()
    pdf = phyto_pdf(
        application=application,
        number=number,
        verify_key=verify_key,
        issued_at=issued_at,
        officer=officer,
        replaces=replaces,
    )
    xml = ephyto_xml(application=application, number=number, issued_at=issued_at, officer=officer, replaces=replaces)
    folder = f"phyto/{issued_at:%Y/%m}/{uuid.uuid4().hex}"
    storage = storages["private"]
    return PhytosanitaryCertificate.objects.create(
        number=number,
        kind=application.kind,
        application=application,
        file=file_store(storage=storage, name=f"{folder}.pdf", content=ContentFile(pdf)),
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        ephyto=file_store(storage=storage, name=f"{folder}.xml", content=ContentFile(xml)),
        ephyto_sha256=hashlib.sha256(xml).hexdigest(),
        verify_key=verify_key,
        signer=signer_name(),
        issued_at=issued_at,
        replaces=replaces,
    )


def _valid_certificate(
    actor, application: ExportApplication, reason: str
) -> tuple[ExportApplication, PhytosanitaryCertificate, str]:
    require_role(actor, Role.CERTIFYING_OFFICER, Role.SUPERVISOR)
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise DomainInvalid({"reason": [_("Give the reason.")]})
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    certificate = (
        PhytosanitaryCertificate.objects.select_for_update(no_key=True)
        .filter(application=application, status=PhytosanitaryCertificate.Status.VALID)
        .first()
    )
    if certificate is None:
        raise PhytoCertificateError(_("This application has no valid certificate."))
    return application, certificate, reason


# What a replacement may correct (ISPM 12 §1.3.1: e.g. a change of consignee or of point of entry).
REPLACEABLE = {
    "consignee_name": 200,
    "consignee_address": 1000,
    "point_of_entry": 100,
    "distinguishing_marks": 200,
    "additional_declarations": 2000,
}


@atomic_service
def phyto_certificate_replace(
    *, actor, application: ExportApplication, reason: str, changes: dict | None = None
) -> PhytosanitaryCertificate:
    """Replace the valid certificate with a new one (a new number, which states the number it replaces and
    cancels: ISPM 12 §1.3.1), after correcting what `changes` gives (`REPLACEABLE`). The old one reads
    replaced on the verify page. A certifying officer or a supervisor."""
    application, old, reason = _valid_certificate(actor, application, reason)
    changes = changes if isinstance(changes, dict) else {}
    errors = {}
    for name, value in changes.items():
        if name not in REPLACEABLE:
            errors[name] = [_("This cannot be corrected by a replacement.")]
        elif not isinstance(value, str) or not value.strip() or len(value) > REPLACEABLE[name]:
            errors[name] = [_("Text of at most %(n)s characters.") % {"n": REPLACEABLE[name]}]
    if errors:
        raise DomainInvalid(errors)
    for name, value in changes.items():
        setattr(application, name, value.strip())
    application.save()
    # one valid certificate per application (a constraint): retire the old one first
    old.status = PhytosanitaryCertificate.Status.REPLACED
    old.revoked_at = timezone.now()
    old.revoked_by = actor
    old.revocation_reason = reason
    old.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
    new = _certificate_make(application=application, officer=person_name(actor), replaces=old)
    export_audit(
        actor=actor,
        action=AuditAction.PHYTO_REPLACED,
        application=application,
        number=old.number,
        replaced_by=new.number,
        sha256=new.sha256,
        ephyto_sha256=new.ephyto_sha256,
        reason=reason,
        changes=changes,
    )
    hub_delivery_enqueue(certificate=old, kind="replaced")
    hub_delivery_enqueue(certificate=new, kind="issued")
    return new


@atomic_service
def phyto_certificate_withdraw(*, actor, application: ExportApplication, reason: str) -> PhytosanitaryCertificate:
    """Withdraw the valid certificate (issued in error, consignment not shipped, fraud suspected): it reads
    revoked on the verify page. A certifying officer or a supervisor."""
    application, certificate, reason = _valid_certificate(actor, application, reason)
    certificate.status = PhytosanitaryCertificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor
    certificate.revocation_reason = reason
    certificate.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
    export_audit(
        actor=actor,
        action=AuditAction.PHYTO_WITHDRAWN,
        application=application,
        number=certificate.number,
        reason=reason,
    )
    hub_delivery_enqueue(certificate=certificate, kind="withdrawn")
    return certificate
