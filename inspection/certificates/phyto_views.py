"""Downloads of an issued phytosanitary certificate: the signed PDF and its ePhyto XML, for the exporting
company's users and staff; anyone else gets a 404."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404

from inspection.models import PhytosanitaryCertificate
from inspection.selectors import export_applications_visible_to

from .views import _user_from_token


def _download(request, number: str, *, field: str, extension: str, content_type: str):
    user = _user_from_token(request)
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    certificate = get_object_or_404(
        PhytosanitaryCertificate.objects.filter(application__in=export_applications_visible_to(user)), number=number
    )
    response = FileResponse(
        getattr(certificate, field).open("rb"),
        as_attachment=True,
        filename=f"{certificate.number}.{extension}",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def phyto_pdf(request, number):
    return _download(request, number, field="file", extension="pdf", content_type="application/pdf")


def phyto_ephyto(request, number):
    return _download(request, number, field="ephyto", extension="xml", content_type="application/xml")
