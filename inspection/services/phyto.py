"""Issuing the phytosanitary certificate of an export application (ISPM 12): the signed PDF and its ePhyto
XML, from the same data, stored with their SHA-256 and audited in one transaction."""

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.certificates.ephyto_xml import ephyto_xml
from inspection.certificates.phyto import phyto_context, phyto_html
from inspection.certificates.render import render_pdf
from inspection.certificates.signing import sign_pdf, signer_name
from inspection.errors import TransitionNotAllowed
from inspection.models import ExportApplication, ExportStatus, PhytosanitaryCertificate
from inspection.models.certificates import certificate_verify_key
from inspection.roles import Role
from inspection.services.exports import export_may_issue, issue_transition
from inspection.services.files import file_store
from inspection.services.permissions import require_role

SIGNING_REASON = "Certificat phytosanitaire (NIMP 12) / Phytosanitary certificate (ISPM 12)"


def officer_name(user) -> str:
    return user.get_full_name() or user.get_username()


def phyto_pdf(*, application: ExportApplication, number: str, verify_key: str, issued_at, officer: str) -> bytes:
    """Render and sign the certificate; nothing is stored."""
    context = phyto_context(
        application=application,
        number=number,
        verify_key=verify_key,
        issued_at=issued_at,
        signer=signer_name(),
        officer=officer,
    )
    return sign_pdf(render_pdf(phyto_html(context)), reason=SIGNING_REASON)


@atomic_service
def phyto_certificate_issue(*, actor, application: ExportApplication) -> PhytosanitaryCertificate:
    """A certifying officer issues the certificate once the documentary check and the inspection are both
    satisfactory (ISPM 12: the certifying statement rests on them; ISPM 7). The PDF and the ePhyto XML carry
    the same number and data."""
    require_role(actor, Role.CERTIFYING_OFFICER)
    application = ExportApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != ExportStatus.CHECKING:
        raise TransitionNotAllowed(
            _("This application is %(status)s: no certificate can be issued.")
            % {"status": application.get_status_display().lower()}
        )
    export_may_issue(application)
    earlier = PhytosanitaryCertificate.objects.filter(application=application).count()
    number = f"{application.reference}-P{earlier + 1}"
    verify_key = certificate_verify_key()
    issued_at = timezone.now()
    officer = officer_name(actor)
    # Render before the first write: the audit append serialises writers until commit.
    pdf = phyto_pdf(application=application, number=number, verify_key=verify_key, issued_at=issued_at, officer=officer)
    xml = ephyto_xml(application=application, number=number, issued_at=issued_at, officer=officer)
    folder = f"phyto/{issued_at:%Y/%m}/{uuid.uuid4().hex}"
    storage = storages["private"]
    certificate = PhytosanitaryCertificate.objects.create(
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
    )
    issue_transition(
        actor=actor,
        application=application,
        data={
            "number": number,
            "sha256": certificate.sha256,
            "ephyto_sha256": certificate.ephyto_sha256,
            "size": certificate.size,
            "signer": certificate.signer,
        },
    )
    return certificate
