"""The inspector's home on the tablet: today's and tomorrow's arrivals at their post with what each needs,
their own tasks and the queue, sorted by arrival, then the export applications' tasks (oldest first); one tap
claims a task and opens its form.

The page costs the same whatever the number of open tasks: the arrivals are those of two days at one post,
and the lists show their first `LIST_SIZE` rows (the full, paged lists are the workflow's inbox and queue)."""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.status import STATUS

from inspection.errors import DomainError, DomainInvalid
from inspection.models import Bcp, Consignment, ConsignmentStatus, ExportApplication, StaffPost
from inspection.roles import is_staff_user
from inspection.services.consignments import OPEN_FOR_ARRIVED, consignment_arrival_record

from .flows import ExportFlow, InspectionFlow
from .task_lists import _human_nodes, inbox_tasks, queue_tasks

LIST_SIZE = 30
# a replaced or split CHED is no longer expected: its replacement or its parts are
NOT_EXPECTED = [
    ConsignmentStatus.DRAFT,
    ConsignmentStatus.CANCELLED,
    ConsignmentStatus.REPLACED,
    ConsignmentStatus.SPLIT,
]


@dataclass
class Row:
    """A consignment with its open tasks, each with the tap it offers this user."""

    consignment: Consignment
    tasks: list = field(default_factory=list)


def _task_action(task, user) -> dict:
    if task.owner_id == user.pk:
        return {
            "task": task,
            "action": "open",
            "url": task.flow_task.reverse("execute", args=[task.process_id, task.pk]),
        }
    if task.flow_task.can_assign(user, task):  # the assign view's own rule (permissions cached on the user)
        # straight on to the form once claimed (viewflow's "back"), not through the task's index page
        execute = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
        assign = task.flow_task.reverse("assign", args=[task.process_id, task.pk])
        return {"task": task, "action": "claim", "url": f"{assign}?{urlencode({'back': execute})}"}
    return {"task": task, "action": None, "url": None}


def _arrival_window(day: datetime.date):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=2)


def _by_arrival(tasks):
    arrival = Consignment.objects.filter(pk=OuterRef("process__artifact_object_id")).values("expected_arrival")
    return (
        tasks.select_related("process")
        .annotate(arrival=Subquery(arrival))
        .order_by(F("arrival").asc(nulls_last=True), "created", "pk")
    )


@login_required
def today(request):
    if not is_staff_user(request.user):
        raise PermissionDenied
    user = request.user
    bcps = list(Bcp.objects.order_by("code"))
    post = StaffPost.objects.filter(user=user).values_list("bcp_id", flat=True).first()
    chosen = request.GET.get("bcp")
    bcp = next((b for b in bcps if b.code == chosen), None) or next((b for b in bcps if b.pk == post), None)
    bcp = bcp or (bcps[0] if bcps else None)

    day = timezone.localdate()
    start, end = _arrival_window(day)
    arrivals = list(
        Consignment.objects.filter(bcp=bcp, expected_arrival__gte=start, expected_arrival__lt=end)
        .exclude(status__in=NOT_EXPECTED)
        .select_related("check_plan")
        .annotate(sample_count=Count("samples"))
        .order_by("expected_arrival", "pk")
    )
    flow = InspectionFlow
    human = _human_nodes(flow)
    open_tasks = flow.task_class._default_manager.filter(
        flow_task__in=human, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    ).select_related("owner", "process")
    mine = list(_by_arrival(inbox_tasks(flow, user))[:LIST_SIZE])
    queue = list(_by_arrival(queue_tasks(flow, user))[:LIST_SIZE])
    arrival_tasks = list(
        open_tasks.filter(process__artifact_object_id__in=[c.pk for c in arrivals]).order_by("created", "pk")
    )

    listed = {t.process.artifact_object_id for t in (*mine, *queue)} - {c.pk for c in arrivals}
    consignments = {c.pk: c for c in arrivals}
    consignments |= Consignment.objects.in_bulk(listed)

    rows = {c.pk: Row(c) for c in arrivals}
    for task in arrival_tasks:
        rows[task.process.artifact_object_id].tasks.append(_task_action(task, user))

    def listing(tasks):
        return [(consignments.get(t.process.artifact_object_id), _task_action(t, user)) for t in tasks]

    export_mine, export_queue = (
        list(tasks(ExportFlow, user).select_related("process").order_by("created", "pk")[:LIST_SIZE])
        for tasks in (inbox_tasks, queue_tasks)
    )
    applications = ExportApplication.objects.in_bulk(
        {t.process.artifact_object_id for t in (*export_mine, *export_queue)}
    )

    def export_listing(tasks):
        return [(applications.get(t.process.artifact_object_id), _task_action(t, user)) for t in tasks]

    # the forms the user can still send: drafts.js drops this tablet's drafts of any other (done or taken)
    open_forms = [
        t.flow_task.reverse("execute", args=[t.process_id, t.pk])
        for each_flow in (flow, ExportFlow)
        for t in inbox_tasks(each_flow, user).only("pk", "process_id", "flow_task")
    ]
    tomorrow = day + datetime.timedelta(days=1)
    return render(
        request,
        "workflows/today.html",
        {
            "bcp": bcp,
            "bcps": bcps,
            "day": day,
            "tomorrow": tomorrow,
            "arrivals_today": [r for r in rows.values() if timezone.localdate(r.consignment.expected_arrival) == day],
            "arrivals_tomorrow": [
                r for r in rows.values() if timezone.localdate(r.consignment.expected_arrival) == tomorrow
            ],
            "mine": listing(mine),
            "queue": listing(queue),
            "export_mine": export_listing(export_mine),
            "export_queue": export_listing(export_queue),
            "list_size": LIST_SIZE,
            "open_forms": open_forms,
            "open_for_arrived": OPEN_FOR_ARRIVED,
        },
    )


@login_required
@require_POST
def arrival_record(request, pk):
    """The "Goods arrived" button of an arrival of the day: the goods are at the post now."""
    if not is_staff_user(request.user):
        raise PermissionDenied
    expected = Consignment.objects.exclude(status__in=NOT_EXPECTED).select_related("bcp")
    consignment = get_object_or_404(expected, pk=pk)
    try:
        consignment_arrival_record(actor=request.user, consignment=consignment, arrived_at=timezone.now())
    except DomainInvalid as exc:
        messages.error(request, " ".join(m for field in exc.errors.values() for m in field))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Arrival of %(reference)s recorded: its checks can start.") % {"reference": consignment.reference},
        )
    back = reverse("today")  # to the post of the consignment, whichever the user's own post
    return redirect(f"{back}?{urlencode({'bcp': consignment.bcp.code})}" if consignment.bcp_id else back)
