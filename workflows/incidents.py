"""Incidents: flow jobs (the certificate job) that kept failing after their retries, or whose workers kept
dying while they ran them, and emails, webhook posts and ePhyto hub envelopes given up after
`PIF_DELIVERY_ATTEMPTS` attempts.
Supervisors see them with the error, and retry them once the cause is fixed (a signing key installed, a disk
freed, the SMTP server back); the page also lists the jobs running late that beat is sending again."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.audit import AuditAction, audit_record_about
from inspection.errors import DomainError
from inspection.models import Consignment, HubDelivery, Notification, TracesExchange, WebhookDelivery
from inspection.roles import Role, user_roles
from inspection.services.deliveries import DELIVERY_MODELS, deliveries_given_up, delivery_retry
from inspection.services.permissions import require_role

from .engine import stuck_jobs


def incidents() -> "models.QuerySet[Task]":  # noqa: F821
    return (
        Task.objects.filter(flow_task_type="JOB", status=STATUS.ERROR)
        .select_related("process")
        .prefetch_related("process__artifact")
        .order_by("-finished", "-pk")
    )


@transaction.atomic
def job_retry(*, actor, task: Task, reason: str = "") -> Task:
    """Run a failed job again: viewflow revives it as a new task, scheduled on commit. Audited."""
    require_role(actor, Role.SUPERVISOR)
    flow_class = task.flow_task.flow_class
    with flow_class.lock(task.process_id):
        task = Task.objects.select_related("process").get(pk=task.pk)
        activation = task.flow_task.activation_class(task)
        if task.status != STATUS.ERROR or not activation.revive.can_proceed():
            raise DomainError(_("This job is no longer failed: there is nothing to retry."))
        revived = activation.revive()
        audit_record_about(
            actor=actor,
            action=AuditAction.JOB_RETRIED,
            subject=task.process.artifact,
            data={
                "step": task.flow_task.name,
                "failed_task": task.pk,
                "new_task": revived.pk,
                "error": (task.data or {}).get("_exception", {}).get("title", ""),
                "reason": reason,
            },
        )
    return revived


def _subject(task) -> tuple[str, str] | None:
    """The reference and page of what a job is about: a consignment, or an export application."""
    artifact = task.process.artifact
    if artifact is None:
        return None
    name = "portal:consignment-detail" if isinstance(artifact, Consignment) else "portal:export-detail"
    return artifact.reference, reverse(name, args=[artifact.reference])


class RetryForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("What was fixed"), max_length=500, required=False)


@login_required
def incident_list(request):
    if Role.SUPERVISOR not in user_roles(request.user):
        raise Http404
    page = Paginator(incidents(), 25).get_page(request.GET.get("page"))
    rows = [
        (task, (task.data or {}).get("_exception", {}).get("title", ""), _subject(task)) for task in page.object_list
    ]
    stuck = stuck_jobs().select_related("process").prefetch_related("process__artifact").order_by("created")[:50]
    stuck = [(task, _subject(task)) for task in stuck]
    return render(
        request,
        "workflows/incidents.html",
        {"page": page, "rows": rows, "stuck": stuck, "deliveries": _deliveries_failed()},
    )


def _deliveries_failed(limit: int = 50) -> list[tuple[str, object]]:
    """(kind, row) of the given-up emails, webhook posts, hub envelopes and TRACES exchanges, the oldest first,
    `limit` of each."""
    emails = deliveries_given_up(Notification).select_related("consignment", "recipient").order_by("pk")[:limit]
    posts = (
        deliveries_given_up(WebhookDelivery)
        .select_related("consignment", "operator", "subscription")
        .order_by("pk")[:limit]
    )
    exchanges = deliveries_given_up(TracesExchange).select_related("consignment").order_by("pk")[:limit]
    envelopes = (
        deliveries_given_up(HubDelivery)
        .defer("content")
        .select_related("certificate__application")
        .order_by("pk")[:limit]
    )
    return (
        [("notification", row) for row in emails]
        + [("webhook", row) for row in posts]
        + [("hub", row) for row in envelopes]
        + [("traces", row) for row in exchanges]
    )


@login_required
@require_POST
def incident_delivery_retry(request, kind, pk):
    if Role.SUPERVISOR not in user_roles(request.user) or kind not in DELIVERY_MODELS:
        raise Http404
    form = RetryForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        delivery_retry(actor=request.user, kind=kind, pk=pk, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sent again: it leaves in a moment."))
    return redirect("incidents")


@login_required
@require_POST
def incident_retry(request, task_pk):
    if Role.SUPERVISOR not in user_roles(request.user):
        raise Http404
    task = get_object_or_404(incidents(), pk=task_pk)
    form = RetryForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        job_retry(actor=request.user, task=task, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Job retried: it runs again in a moment."))
    return redirect("incidents")
