"""The importer portal: server-rendered pages over the same services as the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspection.downloads import document_response
from inspection.errors import DomainError, DomainInvalid, NotFound
from inspection.filters import ConsignmentFilter
from inspection.models import ChedType, Commodity, DocumentType
from inspection.roles import Role, is_staff_user, user_roles
from inspection.selectors import (
    consignment_decision,
    consignment_ephyto_unmapped,
    consignment_part_one,
    consignment_with_part_one,
    consignments_visible_to,
)
from inspection.services.api_tokens import api_token_create, api_token_revoke
from inspection.services.commodity_import import (
    commodity_lines_import,
    commodity_template_csv,
    commodity_template_xlsx,
)
from inspection.services.consignments import (
    consignment_cancel,
    consignment_clone,
    consignment_create,
    consignment_update_draft,
)
from inspection.services.documents import OPEN_STATUSES, document_remove, document_upload, documents_removable
from inspection.services.ephyto import ephyto_import
from inspection.services.notifications import notification_choices_update, webhook_configure
from inspection.services.part_one import part_one_checklist
from inspection.timeline import importer_timeline

from .forms import (
    ApiTokenForm,
    CommodityLinesImportForm,
    DocumentUploadForm,
    EphytoImportForm,
    NotificationChoicesForm,
    PartOneForms,
    WebhookForm,
)


def _is_importer(user) -> bool:
    return Role.IMPORTER in user_roles(user)


def _visible(request, reference):
    return get_object_or_404(consignment_with_part_one(consignments_visible_to(request.user)), reference=reference)


@login_required
def home(request):
    """Staff start from the day at their post (arrivals and tasks); importers from their consignments."""
    if is_staff_user(request.user):
        return redirect("today")
    return redirect("portal:consignment-list")


@login_required
def consignment_list(request):
    qs = consignments_visible_to(request.user).order_by("-created_at", "-id")
    filters = ConsignmentFilter(request.GET or None, queryset=qs)
    page = Paginator(filters.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/consignment_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "can_create": _is_importer(request.user),
            "ched_types": ChedType.objects.all(),
        },
    )


def _form_context(forms, ched_type_code: str, part: dict | None = None) -> dict:
    today = timezone.localdate()
    if part is None:
        part = forms.part_one() if forms.form.is_bound and forms.is_valid() else {"ched_type": ched_type_code}
    ched_type = ChedType.objects.filter(code=ched_type_code).first()
    required = []
    commodities = []
    if ched_type:
        required = [d.name for d in DocumentType.objects.in_force(today).filter(required_for=ched_type)]
        commodities = Commodity.objects.in_force(today).filter(ched_type=ched_type)
    return {
        "forms": forms,
        "ched_type": ched_type,
        "required_documents": required,
        "catalogue": commodities,
        "checklist": part_one_checklist(part, now=timezone.now()) if ched_type else [],
    }


def _save(request, forms, save):
    """Run `save(part_one)` and redirect, or put the service's errors back on the form."""
    if not forms.is_valid():
        return None
    try:
        consignment = save(forms.part_one())
    except DomainInvalid as exc:
        forms.attach_errors(exc.errors)
        return None
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    return consignment


@login_required
def consignment_new(request):
    if not _is_importer(request.user):
        raise Http404
    if request.method == "POST":
        forms = PartOneForms(request.POST)
        part = forms.part_one() if forms.is_valid() else None  # for the checklist, before errors are attached
        draft = "save_draft" in request.POST
        consignment = _save(
            request, forms, lambda typed: consignment_create(actor=request.user, part_one=typed, draft=draft)
        )
        if consignment:
            messages.success(
                request,
                (_("Draft %(ref)s saved.") if draft else _("Pre-notification %(ref)s submitted."))
                % {"ref": consignment.reference},
            )
            return redirect(consignment)
        ched_type = request.POST.get("ched_type", "")
    else:
        ched_type = request.GET.get("ched_type", "")
        part = {"ched_type": ched_type}
        forms = PartOneForms(part=part)
    return render(request, "portal/consignment_form.html", _form_context(forms, ched_type, part))


@login_required
def consignment_edit(request, reference):
    consignment = _visible(request, reference)
    if not _is_importer(request.user) or not consignment.is_draft:
        raise Http404
    code = consignment.ched_type.code
    if request.method == "POST":
        forms = PartOneForms(request.POST, fixed_ched_type=code)
        part = forms.part_one() if forms.is_valid() else None  # for the checklist, before errors are attached
        submit = "submit" in request.POST
        if _save(
            request,
            forms,
            lambda part: consignment_update_draft(
                actor=request.user, consignment=consignment, part_one=part, submit=submit
            ),
        ):
            messages.success(
                request,
                (_("Pre-notification %(ref)s submitted.") if submit else _("Draft %(ref)s saved."))
                % {"ref": consignment.reference},
            )
            return redirect(consignment)
    else:
        part = consignment_part_one(consignment)
        forms = PartOneForms(part=part, fixed_ched_type=code)
    context = _form_context(forms, code, part)
    context["consignment"] = consignment
    context["lines_form"] = CommodityLinesImportForm()
    return render(request, "portal/consignment_form.html", context)


@login_required
def consignment_detail(request, reference):
    consignment = _visible(request, reference)
    return render(
        request,
        "portal/consignment_detail.html",
        {
            "consignment": consignment,
            "part": consignment_part_one(consignment),
            "timeline": importer_timeline(consignment.audit_events.all()),
            "decision": consignment_decision(consignment),
            "certificates": consignment.certificates.all(),
            "is_staff": is_staff_user(request.user),
            "can_supervise": Role.SUPERVISOR in user_roles(request.user),
            "can_edit": consignment.is_draft and _is_importer(request.user),
            "can_clone": _is_importer(request.user),
            "upload_form": DocumentUploadForm() if _can_upload(request.user, consignment) else None,
            "can_remove_documents": _is_importer(request.user) and documents_removable(consignment),
            "upload_limit": filesizeformat(settings.PIF_UPLOAD_MAX_BYTES),
            "ephyto_unmapped": consignment_ephyto_unmapped(consignment) if consignment.is_draft else [],
        },
    )


def _can_upload(user, consignment) -> bool:
    return _is_importer(user) and consignment.status in OPEN_STATUSES


def _error_messages(request, exc: DomainError) -> None:
    for messages_ in getattr(exc, "errors", {"": [exc.message]}).values():
        for message in messages_:
            messages.error(request, message)


@login_required
@require_POST
def document_upload_view(request, reference):
    consignment = _visible(request, reference)
    if not _is_importer(request.user):
        raise Http404
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(consignment)
    try:
        document = document_upload(
            actor=request.user,
            consignment=consignment,
            document_type=form.cleaned_data["type"],
            file=form.cleaned_data["file"],
            reference=form.cleaned_data["reference"],
        )
    except DomainError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Document %(name)s uploaded.") % {"name": document.filename})
    return redirect(consignment)


@login_required
@require_POST
def document_remove_view(request, reference, document_id):
    consignment = _visible(request, reference)
    if not _is_importer(request.user):
        raise Http404
    try:
        document_remove(actor=request.user, consignment=consignment, document_id=document_id)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Document removed."))
    return redirect(consignment)


@login_required
def document_download(request, reference, document_id):
    return document_response(_visible(request, reference), document_id)


@login_required
@require_POST
def consignment_cancel_view(request, reference):
    consignment = _visible(request, reference)
    try:
        consignment_cancel(actor=request.user, consignment=consignment, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Draft %(ref)s cancelled.") % {"ref": reference})
    return redirect(consignment)


@login_required
def ephyto_import_view(request):
    """Upload an ePhyto certificate; the draft's page then lists what could not be mapped."""
    if not _is_importer(request.user):
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


@login_required
@require_POST
def consignment_clone_view(request, reference):
    consignment = _visible(request, reference)
    if not _is_importer(request.user):
        raise Http404
    try:
        clone = consignment_clone(actor=request.user, consignment=consignment)
    except DomainError as exc:
        _error_messages(request, exc)
        return redirect(consignment)
    messages.success(
        request,
        _("Draft %(ref)s copied from %(source)s: fill in the arrival, transport, containers and document numbers.")
        % {"ref": clone.reference, "source": consignment.reference},
    )
    return redirect("portal:consignment-edit", reference=clone.reference)


@login_required
@require_POST
def commodities_import_view(request, reference):
    consignment = _visible(request, reference)
    if not _is_importer(request.user) or not consignment.is_draft:
        raise Http404
    form = CommodityLinesImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("portal:consignment-edit", reference=reference)
    try:
        commodity_lines_import(
            actor=request.user,
            consignment=consignment,
            file=form.cleaned_data["file"],
            replace=form.cleaned_data["replace"],
        )
    except DomainInvalid as exc:
        messages.error(request, _("Nothing was imported. Correct the file and upload it again:"))
        for path, errors in exc.errors.items():
            keys = path.split(".")
            where = (
                _("Row %(row)s, column %(column)s") % {"row": keys[1], "column": keys[2]}
                if keys[0] == "rows"
                else _("File")
            )
            for message in errors:
                messages.error(request, f"{where}: {message}")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Commodity lines imported."))
    return redirect("portal:consignment-edit", reference=reference)


@login_required
def commodity_template(request, extension):
    """The commodity lines template, as CSV or Excel."""
    if not _is_importer(request.user):
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


@login_required
@require_POST
def part_one_checklist_view(request):
    """The checklist for the Part I being typed (the form posts itself here as it changes); nothing is saved."""
    if not _is_importer(request.user):
        raise Http404
    code = request.GET.get("ched_type") or request.POST.get("ched_type", "")
    forms = PartOneForms(request.POST, fixed_ched_type=request.GET.get("ched_type") or None)
    context = _form_context(forms, code)
    return render(request, "portal/_checklist.html", {"checklist": context["checklist"]})


@login_required
def notification_settings(request):
    """Each user chooses which emails they get; the company's webhook is set by any of its users."""
    if not _is_importer(request.user) or not hasattr(request.user, "membership"):
        raise Http404
    membership = request.user.membership
    choices = NotificationChoicesForm(initial={"kinds": membership.notification_kinds})
    webhook = WebhookForm(initial={"webhook_url": membership.operator.webhook_url})
    if request.method == "POST":
        try:
            if "save_choices" in request.POST:
                choices = NotificationChoicesForm(request.POST)
                if choices.is_valid():
                    notification_choices_update(actor=request.user, kinds=choices.cleaned_data["kinds"])
                    messages.success(request, _("Your email choices are saved."))
                    return redirect("portal:notification-settings")
            else:
                webhook = WebhookForm(request.POST)
                if webhook.is_valid():
                    webhook_configure(
                        actor=request.user,
                        url=webhook.cleaned_data["webhook_url"],
                        new_secret=webhook.cleaned_data["new_secret"],
                    )
                    messages.success(request, _("The company's webhook is saved."))
                    return redirect("portal:notification-settings")
        except DomainInvalid as exc:
            for errors in exc.errors.values():
                webhook.add_error(None, " ".join(errors))
    membership.operator.refresh_from_db()
    return render(
        request,
        "portal/notification_settings.html",
        {"choices": choices, "webhook": webhook, "operator": membership.operator},
    )


@login_required
def api_tokens(request):
    """The user's API tokens: make one per system (its key is shown once), revoke any."""
    if not _is_importer(request.user):
        raise Http404
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainInvalid as exc:
            for errors in exc.errors.values():
                form.add_error("name", " ".join(errors))
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "portal/api_tokens.html",
        {"form": form, "new_key": new_key, "tokens": request.user.api_tokens.all()},
    )
    response["Cache-Control"] = "no-store"  # the page may show a key
    return response


@login_required
@require_POST
def api_token_revoke_view(request, token_id):
    token = get_object_or_404(request.user.api_tokens, pk=token_id)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("portal:api-tokens")
