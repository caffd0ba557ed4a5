"""Certificate pages: the public check behind the QR code, downloads, the staff preview, and the
supervisors' revoke and replace actions. Thin: the work is in `inspection.services.certificates`."""

import hashlib
import hmac

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from inspection.api.authentication import ApiTokenAuthentication
from inspection.errors import DomainError
from inspection.models import Certificate, PhytosanitaryCertificate
from inspection.models.certificates import certificate_verify_key
from inspection.roles import Role, is_staff_user, user_roles
from inspection.selectors import consignments_visible_to, decision_in_force
from inspection.services.certificates import certificate_reissue, certificate_revoke

from .documents import certificate_context, certificate_html
from .phyto import phyto_facts

MAX_VERIFY_UPLOAD = 25 * 1024 * 1024


# Compared with when no certificate has the number, so that a miss takes as long as a wrong code.
_NO_KEY = certificate_verify_key()


@extend_schema(exclude=True)  # a public page, not part of the /api/v1/ contract
class VerifyView(APIView):
    """`/verify/<number>/<key>/`: anyone, no login, with the verification code printed on the certificate
    (its QR code carries the whole address). Says whether the certificate is valid, replaced or revoked, with
    its SHA-256; an uploaded PDF is compared byte for byte with the file issued. `?format=json` for machines.
    Shows only what is printed on the certificate itself.

    Without the right code the answer is the same whether the number exists or not (a 404 that says nothing
    of it): numbers are sequential and a `-R1` would tell that a consignment was refused. An upload of the
    exact file issued proves its holder has the certificate, and shows its state even without the code (the
    way to check a certificate printed before the codes existed)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verify"
    renderer_classes = [TemplateHTMLRenderer, JSONRenderer]
    parser_classes = [MultiPartParser, FormParser]
    template_name = "certificates/verify.html"

    def get(self, request, number, key=""):
        return self._answer(request, number, key)

    def post(self, request, number, key=""):
        upload = request.FILES.get("file")
        if upload is None:
            return self._answer(request, number, key, error=_("Choose the PDF file to check."), code=400)
        if upload.size > MAX_VERIFY_UPLOAD:
            return self._answer(request, number, key, error=_("This file is too large to be a certificate."), code=400)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        return self._answer(request, number, key, uploaded_sha256=digest.hexdigest())

    def _answer(self, request, number, key, *, error=None, code=200, uploaded_sha256=None):
        certificate = (
            Certificate.objects.select_related("consignment__bcp", "consignment__ched_type", "replaced_by")
            .filter(number=number)
            .first()
        )
        if certificate is None:  # a phytosanitary certificate (exports) is checked the same way
            certificate = PhytosanitaryCertificate.objects.select_related("application").filter(number=number).first()
        if not _may_see(certificate, key, uploaded_sha256):
            data = {
                "number": number,
                "found": False,
                "detail": error or _("No certificate matches this number and verification code."),
            }
            return Response(data, status=code if error else status.HTTP_404_NOT_FOUND)
        if isinstance(certificate, PhytosanitaryCertificate):
            data = phyto_facts(certificate)
        else:
            data = self._ched_facts(certificate)
        if uploaded_sha256 is not None:
            data["uploaded_sha256"] = uploaded_sha256
            data["uploaded_matches"] = uploaded_sha256 == certificate.sha256
        if error:
            data["detail"] = error
        if request.accepted_renderer.format == "html":
            replacement = getattr(certificate, "replaced_by", None)
            data["replaced_by_url"] = (
                reverse("verify", kwargs={"number": replacement.number, "key": replacement.verify_key})
                if replacement
                else None
            )
        return Response(data, status=code)

    @staticmethod
    def _ched_facts(certificate: Certificate) -> dict:
        return {
            "number": certificate.number,
            "found": True,
            "kind": certificate.kind,
            "kind_label": certificate.get_kind_display(),
            "status": certificate.status,
            "status_label": certificate.get_status_display(),
            "valid": certificate.status == Certificate.Status.VALID,
            "ched_reference": certificate.consignment.reference,
            "ched_type": certificate.consignment.ched_type.code,
            "bcp": certificate.consignment.bcp.code if certificate.consignment.bcp else None,
            "issued_at": certificate.issued_at,
            "signer": certificate.signer,
            "sha256": certificate.sha256,
            "replaced_by": certificate.replaced_by.number if certificate.replaced_by else None,
            "withdrawn_at": certificate.revoked_at,
        }


def _may_see(certificate: Certificate | PhytosanitaryCertificate | None, key: str, uploaded_sha256: str | None) -> bool:
    """The right verification code, or the exact file issued. Compared in constant time, and as much work
    whether the number exists or not."""
    expected = certificate.verify_key if certificate is not None and certificate.verify_key else _NO_KEY
    sha256 = certificate.sha256 if certificate is not None else "0" * 64
    right_key = hmac.compare_digest(expected.encode(), key.encode())
    right_file = uploaded_sha256 is not None and hmac.compare_digest(sha256.encode(), uploaded_sha256.encode())
    return certificate is not None and (right_key or right_file)


def _user_from_token(request):
    """Importers' systems download with their API token (`Authorization: Token …`, a portal-made token or
    the contract's login token) as well as browsers with a session."""
    if request.user.is_authenticated or not request.headers.get("Authorization", "").startswith("Token "):
        return request.user
    try:
        found = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return request.user
    return found[0] if found else request.user


def certificate_download(request, number):
    """The signed PDF, as an attachment: the company's users and staff only; anyone else gets a 404."""
    user = _user_from_token(request)
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    certificate = get_object_or_404(
        Certificate.objects.filter(consignment__in=consignments_visible_to(user)), number=number
    )
    response = FileResponse(
        certificate.file.open("rb"),
        as_attachment=True,
        filename=f"{certificate.number}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def certificate_preview(request, reference):
    """Staff: the CHED as it will be printed, from the same template as the PDF, before it is signed."""
    if not is_staff_user(request.user):
        raise Http404
    consignment = get_object_or_404(consignments_visible_to(request.user), reference=reference)
    decision = decision_in_force(consignment)
    kind = request.GET.get("kind", Certificate.Kind.CHED)
    if kind not in Certificate.Kind.values or (
        kind == Certificate.Kind.REFUSAL and (decision is None or decision.acceptable)
    ):
        kind = Certificate.Kind.CHED
    context = certificate_context(
        kind=kind,
        consignment=consignment,
        decision=decision,
        number=f"{consignment.reference}-…",
        verify_key="…",
        issued_at=None,
        signer="",
        preview=True,
    )
    context["html_preview"] = True
    return HttpResponse(certificate_html(context))


def _supervised_certificate(request, number) -> Certificate:
    if Role.SUPERVISOR not in user_roles(request.user):
        raise Http404
    return get_object_or_404(Certificate.objects.select_related("consignment"), number=number)


@login_required
@require_POST
def certificate_revoke_view(request, number):
    certificate = _supervised_certificate(request, number)
    try:
        certificate_revoke(actor=request.user, certificate=certificate, reason=request.POST.get("reason", "")[:1000])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Certificate %(number)s revoked.") % {"number": number})
    return redirect(certificate.consignment)


@login_required
@require_POST
def certificate_reissue_view(request, number):
    certificate = _supervised_certificate(request, number)
    try:
        new = certificate_reissue(
            actor=request.user, certificate=certificate, reason=request.POST.get("reason", "")[:1000]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Certificate %(old)s replaced by %(new)s.") % {"old": number, "new": new.number})
    return redirect(certificate.consignment)
