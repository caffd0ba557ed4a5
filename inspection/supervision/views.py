"""Supervisors' pages. Each view authorises (supervisors and administrators only), validates, calls one
selector or service, and renders. Importers and labs get a 404 (they never learn a consignment exists);
inspectors and officers a 403: the trail names colleagues and is the supervisors' oversight tool, and what
an inspector needs of a consignment is beside each task already."""

import csv
import json
from datetime import UTC, timedelta
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task

from inspection.audit_verify import audit_trail_verify
from inspection.dashboard import Period, dashboard
from inspection.errors import DomainError, DomainInvalid, NotPermitted
from inspection.models import AuditAction, AuditEvent, Consignment, IntensifiedControl
from inspection.roles import Role, is_staff_user, user_roles
from inspection.selectors import consignment_trail, intensified_controls_in_view
from inspection.services.intensified import intensified_control_withdraw
from inspection.services.tasks import task_reassign, task_unassign
from inspection.supervision.filters import AuditEventFilter

CSV_HEADER = ["position", "id", "time (UTC)", "consignment", "actor", "role", "action", "data", "hash", "previous hash"]


def supervisor_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_roles(request.user) & {Role.SUPERVISOR, Role.ADMIN}:
            if not is_staff_user(request.user):
                raise Http404
            return render(request, "supervision/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


class _Echo:
    def write(self, value):
        return value


def _csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events:
        yield writer.writerow(
            [
                event.seq,
                event.pk,
                event.occurred_at.astimezone(UTC).isoformat(),
                event.consignment.reference if event.consignment_id else "",
                event.actor.get_username() if event.actor_id else "",
                event.role,
                event.action,
                json.dumps(event.data, ensure_ascii=False, sort_keys=True),
                event.event_hash,
                event.prev_hash,
            ]
        )


def _consignment(reference) -> Consignment:
    return get_object_or_404(Consignment.objects.select_related("ched_type", "bcp", "operator"), reference=reference)


def _trail_context(consignment: Consignment) -> dict:
    """The trail as its page and its PDF show it: each event with its label and the photos of its check."""
    context = {"consignment": consignment, **consignment_trail(consignment)}
    for event in context["events"]:
        event.label = AuditAction.label_of(event.action)
        event.photos = context["check_photos"].get(event.action, [])
    return context


@supervisor_required
def trail(request, reference):
    return render(request, "supervision/trail.html", _trail_context(_consignment(reference)))


@supervisor_required
@require_POST
def trail_verify(request, reference):
    consignment = _consignment(reference)
    faults = audit_trail_verify(consignment=consignment)
    if faults:
        for fault in faults:
            messages.error(request, fault.message)
    else:
        messages.success(request, _("This trail is intact: every event matches its hash and its links in the chain."))
    return redirect("supervision:trail", reference=reference)


@supervisor_required
def trail_pdf(request, reference):
    """The trail as a PDF (the certificates' WeasyPrint machinery), with the result of the chain check."""
    from django.template.loader import render_to_string
    from django.utils import timezone

    from inspection.certificates.render import render_pdf

    consignment = _consignment(reference)
    context = {
        **_trail_context(consignment),
        "faults": audit_trail_verify(consignment=consignment),
        "certificates": list(consignment.certificates.order_by("pk")),
        "exported_at": timezone.localtime(),
        "exported_by": request.user.get_full_name() or request.user.get_username(),
    }
    response = HttpResponse(
        render_pdf(render_to_string("certificates/trail.html", context)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="trail-{consignment.reference}.pdf"'
    return response


@supervisor_required
def trail_csv(request, reference):
    consignment = _consignment(reference)
    events = AuditEvent.objects.filter(consignment=consignment).select_related("actor", "consignment").order_by("id")
    response = HttpResponse("".join(_csv_rows(events)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trail-{consignment.reference}.csv"'
    return response


def _search(request):
    qs = AuditEvent.objects.select_related("actor", "consignment").order_by("-id")
    return AuditEventFilter(request.GET or None, queryset=qs)


@supervisor_required
def audit_search(request):
    filters = _search(request)
    if filters.is_bound and not filters.is_valid():
        page = Paginator(AuditEvent.objects.none(), 50).get_page(1)
    else:
        page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    for event in page:
        event.label = AuditAction.label_of(event.action)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "supervision/audit_search.html", {"filters": filters, "page": page, "query": query.urlencode()}
    )


@supervisor_required
def audit_export(request):
    filters = _search(request)
    if filters.is_bound and not filters.is_valid():
        return HttpResponse(_("Invalid filters."), status=400, content_type="text/plain; charset=utf-8")
    events = filters.qs.order_by("id").iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(gettext_lazy("The start of the period is after its end."))
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 366:
            raise forms.ValidationError(gettext_lazy("Choose a period of one year at most."))
        return data


@supervisor_required
def intensified_control_list(request):
    """The intensified controls in force, and those ended lately, with their counts and what opened them."""
    return render(request, "supervision/intensified_controls.html", intensified_controls_in_view())


@supervisor_required
@require_POST
def intensified_control_withdraw_view(request, pk):
    """End an open intensified control early, with the supervisor's reason (`intensified_control_withdraw`). A
    refused withdrawal shows the list again with the message: 400 for bad input, 403 for the wrong role."""
    control = get_object_or_404(IntensifiedControl, pk=pk)
    try:
        intensified_control_withdraw(actor=request.user, control=control, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        text = " ".join(m for ms in exc.errors.values() for m in ms) if isinstance(exc, DomainInvalid) else exc.message
        messages.error(request, text)
        status = 403 if isinstance(exc, NotPermitted) else 400
        return render(request, "supervision/intensified_controls.html", intensified_controls_in_view(), status=status)
    messages.success(request, _("The intensified controls were withdrawn."))
    return redirect("supervision:intensified-controls")


@supervisor_required
def dashboard_view(request):
    today = timezone.localdate()
    form = PeriodForm(request.GET or {"start": today - timedelta(days=29), "end": today})
    if not form.is_valid():
        return render(request, "supervision/dashboard.html", {"form": form}, status=400)
    period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
    figures = dashboard(period)
    most = max((row["n"] for row in figures["per_day"]), default=0)
    for row in figures["per_day"]:
        row["width"] = round(100 * row["n"] / most) if most else 0
    return render(request, "supervision/dashboard.html", {"form": form, "period": period, **figures})


class ReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(label=gettext_lazy("Give it to"), queryset=None, required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = [Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR]
        self.fields["to_user"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name__in=staff).distinct().order_by("username")
        )


@supervisor_required
def task_reassign_view(request, task_pk):
    task = get_object_or_404(Task.objects.select_related("owner", "process"), pk=task_pk, flow_task_type="HUMAN")
    form = ReassignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if "unassign" in request.POST:
                task_unassign(actor=request.user, task_id=task.pk, reason=form.cleaned_data["reason"])
                messages.success(request, _("The task is back in the queue."))
            else:
                if form.cleaned_data["to_user"] is None:
                    raise DomainError(_("Choose who gets the task."))
                to_user = form.cleaned_data["to_user"]
                task_reassign(actor=request.user, task_id=task.pk, to_user=to_user, reason=form.cleaned_data["reason"])
                messages.success(request, _("The task was given to %(user)s.") % {"user": to_user.get_username()})
            return redirect("supervision:task-reassign", task_pk=task.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
    status = 400 if request.method == "POST" else 200
    artifact = task.process.artifact  # a consignment, or an export application
    is_consignment = isinstance(artifact, Consignment)
    context = {
        "task": task,
        "form": form,
        "consignment": artifact if is_consignment else None,
        "application": None if is_consignment else artifact,
    }
    return render(request, "supervision/task_reassign.html", context, status=status)
