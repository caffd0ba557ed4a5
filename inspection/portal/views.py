"""The importer portal: server-rendered pages over the same services as the API. Consignments here; their
files and imports in `documents.py`, the importer's account in `account.py`."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspection import part_one_schema
from inspection.errors import DomainInvalid
from inspection.filters import ConsignmentFilter
from inspection.models import ChedType, Commodity, DocumentType
from inspection.roles import Role, is_staff_user, user_roles
from inspection.selectors import (
    DECIDED,
    consignment_decision,
    consignment_ephyto_unmapped,
    consignment_part_one,
    consignments_for_list,
    consignments_visible_to,
    fees_visible_to,
)
from inspection.services.amendments import ARRIVAL_MOVABLE, consignment_amend
from inspection.services.consignments import (
    consignment_cancel,
    consignment_clone,
    consignment_create,
    consignment_update_draft,
)
from inspection.services.documents import OPEN_STATUSES, documents_removable
from inspection.services.part_one import part_one_checklist
from inspection.services.replacements import replacement_allowed
from inspection.timeline import importer_timeline

from .access import is_importer, visible_consignment
from .forms import CommodityLinesImportForm, DocumentUploadForm, PartOneForms
from .next_step import importer_next_step
from .refusals import refusal_shown


@login_required
def home(request):
    """Staff start from the day at their post (arrivals and tasks); importers from their consignments."""
    if is_staff_user(request.user):
        return redirect("today")
    if Role.EXPORTER in user_roles(request.user):
        return redirect("portal:export-list")
    return redirect("portal:consignment-list")


@login_required
def consignment_list(request):
    qs = consignments_for_list(consignments_visible_to(request.user)).order_by("-created_at", "-id")
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
            "can_create": is_importer(request.user),
            "ched_types": ChedType.objects.all(),
            # the filters stay folded on a phone unless one is in use
            "filtering": any(value for key, value in request.GET.items() if key != "page"),
            "decided": DECIDED,
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
        commodities = Commodity.objects.in_force(today).filter(ched_type_id=ched_type.catalogue_type_id)
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
    with refusal_shown(request):
        try:
            return save(forms.part_one())
        except DomainInvalid as exc:
            forms.attach_errors(exc.errors)
    return None


@login_required
def consignment_new(request):
    if not is_importer(request.user):
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
    consignment = visible_consignment(request, reference)
    amending = consignment.status in ARRIVAL_MOVABLE  # a submitted CHED (`services/amendments.py`)
    if not is_importer(request.user) or not (consignment.is_draft or amending):
        raise Http404
    code = consignment.ched_type.code
    if request.method == "POST":
        forms = PartOneForms(request.POST, fixed_ched_type=code)
        part = forms.part_one() if forms.is_valid() else None  # for the checklist, before errors are attached
        submit = "submit" in request.POST

        def save(part):
            if amending:
                return consignment_amend(actor=request.user, consignment=consignment, changes=part)
            return consignment_update_draft(actor=request.user, consignment=consignment, part_one=part, submit=submit)

        if amending:
            done = _("Pre-notification %(ref)s amended.")
        else:
            done = _("Pre-notification %(ref)s submitted.") if submit else _("Draft %(ref)s saved.")
        if _save(request, forms, save):
            messages.success(request, done % {"ref": consignment.reference})
            return redirect(consignment)
    else:
        part = consignment_part_one(consignment)
        forms = PartOneForms(part=part, fixed_ched_type=code)
    context = _form_context(forms, code, part)
    context["consignment"] = consignment
    context["amending"] = amending
    context["lines_form"] = None if amending else CommodityLinesImportForm()
    return render(request, "portal/consignment_form.html", context)


# The Part I fields the detail page lays out by hand; the other fields of the schema are listed under their box.
DETAIL_LAID_OUT = {"consignor", "consignee", "country_of_origin", "arrival"}


def _other_boxes(consignment) -> list[dict]:
    """The values of the schema's other boxes for this consignment, in box order, in the reader's language."""
    ched_type = consignment.ched_type.code
    rows = []
    for field in part_one_schema.stored_fields():
        if (field.group or field.path) in DETAIL_LAID_OUT or not field.applies_to(ched_type):
            continue
        value = getattr(consignment, field.column)
        if field.kind == "country":
            value = value.name
        elif field.kind == "choice":
            value = getattr(consignment, f"get_{field.column}_display")()
        elif field.kind == "datetime" and value:
            value = date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        if not part_one_schema.is_empty(value):
            rows.append({"number": field.number, "label": capfirst(field.label), "value": value})
    return sorted(rows, key=lambda row: [int(x) for x in row["number"].split(".")[1:]])


@login_required
def consignment_detail(request, reference):
    consignment = visible_consignment(request, reference)
    decision = consignment_decision(consignment)
    return render(
        request,
        "portal/consignment_detail.html",
        {
            "consignment": consignment,
            "part": consignment_part_one(consignment),
            "other_boxes": _other_boxes(consignment),
            "timeline": importer_timeline(consignment.audit_events.all()),
            "decision": decision,
            "next_step": importer_next_step(consignment, decision),
            "certificates": consignment.certificates.all(),
            "fees": fees_visible_to(request.user).filter(consignment=consignment).first(),
            "is_staff": is_staff_user(request.user),
            "can_supervise": Role.SUPERVISOR in user_roles(request.user),
            "can_edit": consignment.is_draft and is_importer(request.user),
            "can_amend": consignment.status in ARRIVAL_MOVABLE and is_importer(request.user),
            "can_clone": is_importer(request.user),
            "can_replace": replacement_allowed(request.user, consignment),
            "upload_form": DocumentUploadForm() if _can_upload(request.user, consignment) else None,
            "can_remove_documents": is_importer(request.user) and documents_removable(consignment),
            "upload_limit": filesizeformat(settings.PIF_UPLOAD_MAX_BYTES),
            "ephyto_unmapped": consignment_ephyto_unmapped(consignment) if consignment.is_draft else [],
        },
    )


def _can_upload(user, consignment) -> bool:
    return is_importer(user) and consignment.status in OPEN_STATUSES


@login_required
@require_POST
def consignment_cancel_view(request, reference):
    consignment = visible_consignment(request, reference)
    with refusal_shown(request) as refused:
        consignment_cancel(actor=request.user, consignment=consignment, reason=request.POST.get("reason", "")[:500])
    if not refused:
        messages.success(request, _("Draft %(ref)s cancelled.") % {"ref": reference})
    return redirect(consignment)


@login_required
@require_POST
def consignment_clone_view(request, reference):
    consignment = visible_consignment(request, reference)
    if not is_importer(request.user):
        raise Http404
    with refusal_shown(request) as refused:
        clone = consignment_clone(actor=request.user, consignment=consignment)
    if refused:
        return redirect(consignment)
    messages.success(
        request,
        _("Draft %(ref)s copied from %(source)s: fill in the arrival, transport, containers and document numbers.")
        % {"ref": clone.reference, "source": consignment.reference},
    )
    return redirect("portal:consignment-edit", reference=clone.reference)


@login_required
@require_POST
def part_one_checklist_view(request):
    """The checklist for the Part I being typed (the form posts itself here as it changes); nothing is saved."""
    if not is_importer(request.user):
        raise Http404
    code = request.GET.get("ched_type") or request.POST.get("ched_type", "")
    forms = PartOneForms(request.POST, fixed_ched_type=request.GET.get("ched_type") or None)
    context = _form_context(forms, code)
    return render(request, "portal/_checklist.html", {"checklist": context["checklist"]})
