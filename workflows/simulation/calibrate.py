"""Scenario figures fitted to what happened at the post over a period (`simulate --calibrate FROM..TO`), so that
a scenario can start from the post's own history: the arrival rate and mix from the audit trail's submissions,
each step's time from the flow's task records (a person's claim to their completion), the lab turnaround from
samples and results, the shares of unsatisfactory checks and results from the checks recorded. A figure with
fewer than `MINIMUM` observations is left out: the scenario's default stands."""

import datetime
import statistics

from django.db.models import Count
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditAction, AuditEvent, DocumentaryCheck, IdentityCheck, LabResult, PhysicalCheck
from inspection.working_days import non_working_days

from ..engine.graph import flow_graph

MINIMUM = 5


def _span(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        timezone.make_aware(datetime.datetime.combine(start, datetime.time())),
        timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time())),
    )


def _working_days(start: datetime.date, end: datetime.date) -> int:
    closed = non_working_days(start, end)
    days = (start + datetime.timedelta(days=i) for i in range((end - start).days + 1))
    return sum(1 for day in days if day.weekday() < 5 and day not in closed)


def _unsatisfactory(model, since, until) -> tuple[float, int] | None:
    results = list(model.objects.filter(recorded_at__range=(since, until)).values_list("result", flat=True))
    if len(results) < MINIMUM:
        return None
    return sum(r != "satisfactory" for r in results) / len(results), len(results)


def calibrated(start: datetime.date, end: datetime.date) -> tuple[dict, dict]:
    """The scenario keys fitted over [start, end] (local dates), and how many observations each rests on."""
    from workflows.flows import InspectionFlow

    since, until = _span(start, end)
    scenario: dict = {"start": end.isoformat()}
    observed: dict = {}
    submissions = AuditEvent.objects.filter(
        action=AuditAction.CONSIGNMENT_SUBMITTED, occurred_at__gte=since, occurred_at__lt=until
    )
    count = submissions.count()
    working = _working_days(start, end)
    observed["submissions"] = count
    if count >= MINIMUM and working:
        mix = submissions.values("consignment__ched_type__code").annotate(n=Count("pk")).order_by()
        scenario["arrivals"] = {
            "per_day": round(count / working, 2),
            "working_days_only": True,
            "mix": {row["consignment__ched_type__code"]: row["n"] for row in mix},
        }

    service: dict = {}
    for node in flow_graph(InspectionFlow).values():
        if node.kind != "task":
            continue
        rows = Task.objects.filter(
            flow_task=getattr(InspectionFlow, node.name),
            status=STATUS.DONE,
            started__isnull=False,
            finished__gte=since,
            finished__lt=until,
        ).values_list("started", "finished")
        minutes = [(finished - started).total_seconds() / 60 for started, finished in rows]
        observed[f"service_minutes.{node.step}"] = observed.get(f"service_minutes.{node.step}", 0) + len(minutes)
        if len(minutes) >= MINIMUM:
            service.setdefault(node.step, []).extend(minutes)
    if service:
        scenario["service_minutes"] = {
            str(step): {"mean": round(max(0.1, statistics.fmean(values)), 2), "distribution": "lognormal"}
            for step, values in service.items()
        }

    turnaround = [
        (received - taken).total_seconds() / 3600
        for received, taken in LabResult.objects.filter(received_at__range=(since, until)).values_list(
            "received_at", "sample__taken_at"
        )
    ]
    observed["lab_turnaround_hours"] = len(turnaround)
    if len(turnaround) >= MINIMUM:
        scenario["lab_turnaround_hours"] = {
            "mean": round(max(0.1, statistics.fmean(turnaround)), 2),
            "distribution": "lognormal",
        }

    shares = {}
    for name, model in (
        ("documentary_unsatisfactory", DocumentaryCheck),
        ("identity_unsatisfactory", IdentityCheck),
        ("physical_unsatisfactory", PhysicalCheck),
    ):
        share = _unsatisfactory(model, since, until)
        observed[f"shares.{name}"] = share[1] if share else 0
        if share:
            shares[name] = round(share[0], 4)
    if shares:
        scenario["shares"] = shares
    return scenario, observed
