"""Certificates: issue the signed PDFs of a decision, and revoke or replace them (supervisors)."""

import hashlib
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.certificates.documents import (
    PRINTED_RELATIONS,
    bi,
    certificate_context,
    certificate_html,
    verify_url,
)
from inspection.certificates.render import render_pdf
from inspection.certificates.signing import sign_pdf, signer_name
from inspection.errors import DomainError
from inspection.models import Certificate, Consignment, Decision, NotificationKind
from inspection.models.certificates import certificate_verify_key
from inspection.roles import Role
from inspection.selectors import decision_in_force
from inspection.services.files import file_store
from inspection.services.notifications import notify_all
from inspection.services.permissions import require_role

SIGNING_REASONS = {
    Certificate.Kind.CHED: "Décision du poste de contrôle frontalier (DSCE partie II) / BCP decision (CHED Part II)",
    Certificate.Kind.REFUSAL: "Notification de refus / Notice of refusal",
}
NUMBER_SUFFIX = {Certificate.Kind.CHED: "C", Certificate.Kind.REFUSAL: "R"}


class CertificateError(DomainError):
    """A revocation or replacement that can't be done, with the reason for the user."""


def certificate_kinds(decision: Decision) -> list[str]:
    """A CHED for every decision; a refusal notice as well when the consignment is refused."""
    return [Certificate.Kind.CHED] if decision.acceptable else [Certificate.Kind.CHED, Certificate.Kind.REFUSAL]


def certificate_pdf(
    *, kind: str, consignment: Consignment, decision: Decision, number: str, verify_key: str, issued_at
) -> bytes:
    """Render and sign one certificate. Pure apart from reading the consignment: nothing is stored."""
    context = certificate_context(
        kind=kind,
        consignment=consignment,
        decision=decision,
        number=number,
        verify_key=verify_key,
        issued_at=issued_at,
        signer=signer_name(),
    )
    return sign_pdf(render_pdf(certificate_html(context)), reason=SIGNING_REASONS[kind])


@atomic_service
def certificate_issue(*, consignment: Consignment) -> list[Certificate]:
    """Issue the certificates of the decision in force, and tell the operator's users. Run by the flow's
    Celery job. Idempotent: the consignment row is locked, and a decision is issued once per kind, so a
    doubled job issues one certificate with one number. After a recall (which withdrew the certificates of
    the decision before), the new decision gets new ones. Returns the certificates issued now."""
    # Locked (the consignment's row only), with what the certificates print: one read instead of nine.
    locked = Consignment.objects.select_for_update(of=("self",), no_key=True).select_related(*PRINTED_RELATIONS)
    consignment = locked.get(pk=consignment.pk)
    decision = decision_in_force(consignment)
    if decision is None:
        return []
    # every certificate of the consignment, locked: those of this decision say what is issued already
    earlier = _certificates_locked(consignment)
    kinds = [
        kind
        for kind in certificate_kinds(decision)
        if not any(c.decision_id == decision.pk and c.kind == kind for c in earlier)
    ]
    # Render everything before the first write: the audit append serialises writers until commit, so
    # nothing slow may come after it.
    drafts = [
        _certificate_render(
            consignment=consignment, decision=decision, kind=kind, earlier=[c for c in earlier if c.kind == kind]
        )
        for kind in kinds
    ]
    issued = [_certificate_store(draft) for draft in drafts]
    if issued:
        notify_all(
            consignment=consignment,
            events=[(NotificationKind.DECIDED, {}), (NotificationKind.CERTIFIED, _certified(issued))],
        )
    return issued


def certificate_part_three_render(*, consignment: Consignment) -> dict | None:
    """Render the CHED of the decision in force again once Part III (the follow-up) is recorded, inside the
    follow-up's transaction and before its audit event (rendering is slow: nothing slow after the first
    audit write). None when no CHED was issued yet: the certificate job, when it runs, prints Part III itself.
    `certificate_part_three_store` stores it after the follow-up's event."""
    decision = decision_in_force(consignment)
    if decision is None:
        return None
    earlier = [c for c in _certificates_locked(consignment) if c.kind == Certificate.Kind.CHED]
    if not any(c.decision_id == decision.pk and c.status == Certificate.Status.VALID for c in earlier):
        return None
    return _certificate_render(consignment=consignment, decision=decision, kind=Certificate.Kind.CHED, earlier=earlier)


def certificate_part_three_store(draft: dict, *, actor) -> Certificate:
    """Store the CHED re-issued with Part III: a new number, the one it replaces reads replaced (same as a
    supervisor's replacement), and the company is told."""
    new = _certificate_store(draft, actor=actor, reason="Part III recorded")
    notify_all(consignment=draft["consignment"], events=[(NotificationKind.CERTIFIED, _certified([new]))])
    return new


def _certified(certificates: list[Certificate]) -> dict:
    """What the company's users (who chose to hear of it) are told of the certificates: the links to the
    signed PDFs and to their public checks (with the verification code printed on each)."""
    listed = []
    for cert in certificates:
        kind = bi(cert.get_kind_display)
        url = settings.SITE_URL.rstrip("/") + reverse("certificate-pdf", kwargs={"number": cert.number})
        listed.append(
            {
                "number": cert.number,
                "kind": cert.kind,
                "kind_fr": kind.fr,
                "kind_en": kind.en,
                "url": url,
                "verify_url": verify_url(cert.number, cert.verify_key),
            }
        )
    return {"certificates": listed}


def _certificates_locked(consignment: Consignment) -> list[Certificate]:
    return list(Certificate.objects.select_for_update(no_key=True).filter(consignment=consignment).order_by("pk"))


def _certificate_render(*, consignment: Consignment, decision: Decision, kind: str, earlier: list) -> dict:
    """Number, render and sign one certificate; nothing written yet (the consignment row is locked).
    `earlier`: the consignment's certificates of `kind`, locked (`_certificates_locked`)."""
    number = f"{consignment.reference}-{NUMBER_SUFFIX[kind]}{len(earlier) + 1}"
    verify_key = certificate_verify_key()
    issued_at = timezone.now()
    pdf = certificate_pdf(
        kind=kind,
        consignment=consignment,
        decision=decision,
        number=number,
        verify_key=verify_key,
        issued_at=issued_at,
    )
    return {
        "consignment": consignment,
        "decision": decision,
        "kind": kind,
        "number": number,
        "verify_key": verify_key,
        "issued_at": issued_at,
        "pdf": pdf,
        "replaced": [old for old in earlier if old.status == Certificate.Status.VALID],
    }


def _certificate_store(draft: dict, *, actor=None, reason: str = "new decision") -> Certificate:
    """Store a rendered certificate, its row and its audit event; the valid one of its kind it replaces
    reads replaced."""
    consignment, decision, pdf, replaced = draft["consignment"], draft["decision"], draft["pdf"], draft["replaced"]
    # removed again if the transaction rolls back (`file_store`)
    name = file_store(
        storage=storages["private"],
        name=f"certificates/{draft['issued_at']:%Y/%m}/{uuid.uuid4().hex}.pdf",
        content=ContentFile(pdf),
    )
    # One valid certificate per decision and kind (a constraint): retire the old one first.
    Certificate.objects.filter(pk__in=[old.pk for old in replaced]).update(status=Certificate.Status.REPLACED)
    certificate = Certificate.objects.create(
        number=draft["number"],
        verify_key=draft["verify_key"],
        kind=draft["kind"],
        consignment=consignment,
        decision=decision,
        file=name,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        signer=signer_name(),
        issued_at=draft["issued_at"],
    )
    audit_record(
        actor=None,
        action=AuditAction.CERTIFICATE_ISSUED,
        consignment=consignment,
        data={
            "number": certificate.number,
            "kind": certificate.kind,
            "sha256": certificate.sha256,
            "size": certificate.size,
            "decision_id": decision.pk,
            "decision": decision.code.code,
            "acceptable": decision.acceptable,
            "signer": certificate.signer,
        },
    )
    for old in replaced:
        _certificate_replace(old, by=certificate, reason=reason, actor=actor)
    return certificate


def _certificate_replace(old: Certificate, *, by: Certificate, reason: str, actor=None) -> None:
    old.status = Certificate.Status.REPLACED
    old.replaced_by = by
    old.revoked_at = timezone.now()
    old.revoked_by = actor
    old.revocation_reason = reason
    old.save(update_fields=["status", "replaced_by", "revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.CERTIFICATE_REPLACED,
        consignment=old.consignment,
        data={"number": old.number, "replaced_by": by.number, "reason": reason},
    )


def certificates_withdraw(*, consignment: Consignment, reason: str) -> int:
    """A recall supersedes the decision: its certificates stop being valid at once (they read revoked, with
    the reason), before the new decision issues new ones. Runs in the recall's transaction."""
    valid = Certificate.objects.select_for_update(no_key=True).filter(
        consignment=consignment, status=Certificate.Status.VALID
    )
    withdrawn = 0
    for certificate in valid:
        _certificate_withdraw(certificate, actor=None, reason=reason)
        withdrawn += 1
    return withdrawn


def _certificate_withdraw(certificate: Certificate, *, actor, reason: str) -> None:
    """Mark a valid certificate revoked, with who and why, and audit it."""
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor
    certificate.revocation_reason = reason
    certificate.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.CERTIFICATE_REVOKED,
        consignment=certificate.consignment,
        data={"number": certificate.number, "reason": reason},
    )


def _supervisor_acts_on(actor, certificate, reason, *, no_reason: str, not_valid: str) -> tuple[Certificate, str]:
    """What revoking and replacing both require: a supervisor, a reason, and a certificate still valid (its
    row locked). Returns the locked certificate and the reason, trimmed."""
    require_role(actor, Role.SUPERVISOR)
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(no_reason)
    certificate = Certificate.objects.select_for_update(no_key=True).get(pk=certificate.pk)
    if certificate.status != Certificate.Status.VALID:
        raise CertificateError(not_valid)
    return certificate, reason


@atomic_service
def certificate_revoke(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """A supervisor withdraws a certificate (issued in error, fraud suspected): it then reads as revoked."""
    certificate, reason = _supervisor_acts_on(
        actor,
        certificate,
        reason,
        no_reason=_("Give the reason for revoking the certificate."),
        not_valid=_("Only a valid certificate can be revoked."),
    )
    _certificate_withdraw(certificate, actor=actor, reason=reason)
    return certificate


@atomic_service
def certificate_reissue(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """A supervisor replaces a certificate with a fresh one from the decision in force (for instance after
    Part I was corrected): a new number, the old one reads as replaced."""
    certificate, reason = _supervisor_acts_on(
        actor,
        certificate,
        reason,
        no_reason=_("Give the reason for replacing the certificate."),
        not_valid=_("Only a valid certificate can be replaced."),
    )
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=certificate.consignment_id)
    decision = decision_in_force(consignment)
    if decision is None:
        raise CertificateError(_("This consignment has no decision in force."))
    earlier = [c for c in _certificates_locked(consignment) if c.kind == certificate.kind]
    draft = _certificate_render(consignment=consignment, decision=decision, kind=certificate.kind, earlier=earlier)
    new = _certificate_store(draft, actor=actor, reason=reason)
    notify_all(consignment=consignment, events=[(NotificationKind.CERTIFIED, _certified([new]))])
    return new
