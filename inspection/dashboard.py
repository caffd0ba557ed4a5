"""The supervisors' dashboard: how the post is doing over a period. Each figure is one aggregate query,
whatever the number of consignments (medians and percentiles are taken in Python over one column)."""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import CheckPlan, CommodityLine, Consignment, Decision, LabResult

LATE_STEPS = {"late_lab_result", "late_released_result", "follow_up_late", "documentary_check_late"}
AGE_BUCKETS = [(timedelta(days=1), "< 1 d"), (timedelta(days=3), "1–3 d"), (None, "> 3 d")]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def consignments_per_day(period: Period) -> list[dict]:
    """Submitted consignments per day, CHED type and BCP."""
    rows = (
        Consignment.objects.filter(submitted_at__range=period.bounds)
        .annotate(day=TruncDate("submitted_at"))
        .values("day", "ched_type__code", "bcp__code")
        .annotate(n=Count("id"))
        .order_by("day", "ched_type__code", "bcp__code")
    )
    return [{"day": r["day"], "ched_type": r["ched_type__code"], "bcp": r["bcp__code"], "n": r["n"]} for r in rows]


def lead_times(period: Period) -> dict:
    """Hours from the expected arrival to the decision in force, for decisions taken in the period."""
    pairs = Decision.objects.filter(decided_at__range=period.bounds, superseded=False).values_list(
        "decided_at", "consignment__expected_arrival"
    )
    hours = [(decided - arrival).total_seconds() / 3600 for decided, arrival in pairs if arrival is not None]
    return {
        "n": len(hours),
        "median_h": round(statistics.median(hours), 1) if hours else None,
        "p90_h": round(percentile(hours, 90), 1) if hours else None,
    }


def physical_check_share(period: Period) -> list[dict]:
    """Per CHED type: consignments planned, share selected for a physical check, mean planned rate."""
    rows = (
        CheckPlan.objects.filter(planned_at__range=period.bounds)
        .values("consignment__ched_type__code")
        .annotate(n=Count("id"), selected=Count("id", filter=Q(physical_selected=True)), planned=Avg("physical_rate"))
        .order_by("consignment__ched_type__code")
    )
    return [
        {
            "ched_type": r["consignment__ched_type__code"],
            "n": r["n"],
            "selected_pct": _rate(r["selected"], r["n"]),
            "planned_pct": round(r["planned"], 1),
        }
        for r in rows
    ]


def refusal_rates(period: Period) -> dict:
    """Refusal rate of the decisions in force taken in the period, by origin and by commodity (CN code of
    each commodity line: a consignment of two lines counts for both)."""
    decisions = Decision.objects.filter(decided_at__range=period.bounds, superseded=False)
    by_origin = (
        decisions.values("consignment__country_of_origin")
        .annotate(n=Count("id"), refused=Count("id", filter=Q(code__acceptable=False)))
        .order_by("consignment__country_of_origin")
    )
    by_commodity = (
        CommodityLine.objects.filter(consignment__decisions__in=decisions)
        .values("cn_code")
        .annotate(
            n=Count("consignment__decisions"),
            refused=Count("consignment__decisions", filter=Q(consignment__decisions__code__acceptable=False)),
        )
        .order_by("cn_code")
    )
    return {
        "origin": [
            {
                "key": r["consignment__country_of_origin"],
                "n": r["n"],
                "refused": r["refused"],
                "pct": _rate(r["refused"], r["n"]),
            }
            for r in by_origin
        ],
        "commodity": [
            {"key": r["cn_code"], "n": r["n"], "refused": r["refused"], "pct": _rate(r["refused"], r["n"])}
            for r in by_commodity
        ],
    }


def lab_turnaround(period: Period) -> list[dict]:
    """Days from sampling to the lab result, by analysis, for results received in the period."""
    days = defaultdict(list)
    rows = LabResult.objects.filter(received_at__range=period.bounds).values_list(
        "sample__analysis__code", "sample__taken_at", "received_at", "late"
    )
    late = Counter()
    for analysis, taken, received, was_late in rows:
        days[analysis].append((received - taken).total_seconds() / 86400)
        late[analysis] += was_late
    return [
        {
            "analysis": analysis,
            "n": len(values),
            "median_d": round(statistics.median(values), 1),
            "p90_d": round(percentile(values, 90), 1),
            "late": late[analysis],
        }
        for analysis, values in sorted(days.items())
    ]


def open_tasks(now: datetime | None = None) -> dict:
    """Open human tasks by step and age, the late ones (escalations), and each owner's workload."""
    now = now or timezone.now()
    rows = Task.objects.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED], flow_task_type="HUMAN").values_list(
        "flow_task", "created", "owner__username"
    )
    by_step: dict[str, Counter] = defaultdict(Counter)
    workload, late = Counter(), Counter()
    for flow_task, created, owner in rows:
        step = flow_task.name
        age = now - created
        bucket = next(label for limit, label in AGE_BUCKETS if limit is None or age < limit)
        by_step[str(flow_task.task_title)][bucket] += 1
        if owner:
            workload[owner] += 1
        if step in LATE_STEPS:
            late[str(flow_task.task_title)] += 1
    return {
        "buckets": [label for _, label in AGE_BUCKETS],
        "by_step": [
            {"step": step, "ages": [ages[label] for _, label in AGE_BUCKETS], "total": sum(ages.values())}
            for step, ages in sorted(by_step.items())
        ],
        "late": sorted(late.items()),
        "workload": sorted(workload.items(), key=lambda item: (-item[1], item[0])),
    }


def dashboard(period: Period) -> dict:
    return {
        "per_day": consignments_per_day(period),
        "lead_times": lead_times(period),
        "physical": physical_check_share(period),
        "refusals": refusal_rates(period),
        "lab": lab_turnaround(period),
        "tasks": open_tasks(),
    }
