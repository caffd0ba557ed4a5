"""The importer portal's files: accompanying documents, an ePhyto certificate imported as a draft, and a
draft's commodity lines from a CSV or Excel file."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspection.downloads import document_response
from inspection.errors import DomainError
from inspection.services.commodity_import import (
    commodity_lines_import,
    commodity_template_csv,
    commodity_template_xlsx,
)
from inspection.services.documents import document_remove, document_upload
from inspection.services.ephyto import ephyto_import

from .access import is_importer, visible_consignment
from .forms import CommodityLinesImportForm, DocumentUploadForm, EphytoImportForm
from .refusals import refusal_shown


def _form_errors_shown(request, form) -> None:
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)


@login_required
@require_POST
def document_upload_view(request, reference):
    consignment = visible_consignment(request, reference)
    if not is_importer(request.user):
        raise Http404
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors_shown(request, form)
        return redirect(consignment)
    with refusal_shown(request) as refused:
        document = document_upload(
            actor=request.user,
            consignment=consignment,
            document_type=form.cleaned_data["type"],
            file=form.cleaned_data["file"],
            reference=form.cleaned_data["reference"],
        )
    if not refused:
        messages.success(request, _("Document %(name)s uploaded.") % {"name": document.filename})
    return redirect(consignment)


@login_required
@require_POST
def document_remove_view(request, reference, document_id):
    consignment = visible_consignment(request, reference)
    if not is_importer(request.user):
        raise Http404
    with refusal_shown(request) as refused:
        document_remove(actor=request.user, consignment=consignment, document_id=document_id)
    if not refused:
        messages.success(request, _("Document removed."))
    return redirect(consignment)


@login_required
def document_download(request, reference, document_id):
    return document_response(visible_consignment(request, reference), document_id)


@login_required
def ephyto_import_view(request):
    """Upload an ePhyto certificate; the draft's page then lists what could not be mapped."""
    if not is_importer(request.user):
        raise Http404
    form = EphytoImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            consignment, unmapped = ephyto_import(actor=request.user, file=form.cleaned_data["file"])
        except DomainError as exc:
            for message in sum(getattr(exc, "errors", {"": [exc.message]}).values(), []):
                form.add_error("file", message)
        else:
            messages.success(
                request,
                _("Draft %(ref)s created from the ePhyto certificate. Check what could not be imported below.")
                % {"ref": consignment.reference}
                if unmapped
                else _("Draft %(ref)s created from the ePhyto certificate.") % {"ref": consignment.reference},
            )
            return redirect(consignment)
    return render(request, "portal/ephyto_import.html", {"form": form})


def _row_and_column(path: str) -> str:
    keys = path.split(".")
    if keys[0] == "rows":
        return _("Row %(row)s, column %(column)s") % {"row": keys[1], "column": keys[2]}
    return _("File")


@login_required
@require_POST
def commodities_import_view(request, reference):
    consignment = visible_consignment(request, reference)
    if not is_importer(request.user) or not consignment.is_draft:
        raise Http404
    form = CommodityLinesImportForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors_shown(request, form)
        return redirect("portal:consignment-edit", reference=reference)
    intro = _("Nothing was imported. Correct the file and upload it again:")
    with refusal_shown(request, intro=intro, where=_row_and_column) as refused:
        commodity_lines_import(
            actor=request.user,
            consignment=consignment,
            file=form.cleaned_data["file"],
            replace=form.cleaned_data["replace"],
        )
    if not refused:
        messages.success(request, _("Commodity lines imported."))
    return redirect("portal:consignment-edit", reference=reference)


@login_required
def commodity_template(request, extension):
    """The commodity lines template, as CSV or Excel."""
    if not is_importer(request.user):
        raise Http404
    if extension == "csv":
        response = HttpResponse(commodity_template_csv(), content_type="text/csv; charset=utf-8")
    elif extension == "xlsx":
        response = HttpResponse(
            commodity_template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="commodity-lines-template.{extension}"'
    return response
