"""Uploaded documents go back out only through here: to someone who may see the consignment, as an
attachment that a browser never renders in the site's origin. Check photos, re-encoded by us, are the one
exception: shown inline, to staff only."""

import os

from django.http import FileResponse, Http404

from inspection.models import AccompanyingDocument, CheckPhoto, Consignment, LabResult


def document_response(consignment: Consignment, document_id: int) -> FileResponse:
    """The file of one of `consignment`'s documents (the caller has checked that the user may see it)."""
    document = AccompanyingDocument.objects.filter(consignment=consignment, pk=document_id).exclude(file="").first()
    if document is None:
        raise Http404
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.filename or f"document-{document.pk}",
        content_type=document.content_type or "application/octet-stream",
    )
    return _locked_down(response)


def check_photo_response(photo: CheckPhoto) -> FileResponse:
    """A check photo, inline (the caller has checked that the user is staff). Not cached: BCP tablets are
    shared."""
    extension = os.path.splitext(photo.file.name)[1]  # given by the photo service from the format it stored
    response = FileResponse(
        photo.file.open("rb"), filename=f"photo-{photo.pk}{extension}", content_type=photo.content_type
    )
    return _locked_down(response)


def lab_report_response(result: LabResult) -> FileResponse:
    """A lab result's report, as an attachment (the caller has checked that the user is staff)."""
    if not result.report:
        raise Http404
    response = FileResponse(
        result.report.open("rb"),
        as_attachment=True,
        filename=f"lab-report-{result.sample.number}.pdf",
        content_type="application/pdf",
    )
    return _locked_down(response)


def _locked_down(response: FileResponse) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
