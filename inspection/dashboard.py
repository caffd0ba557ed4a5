"""The supervisors' dashboard: how the post is doing over a period. Each figure is one aggregate query,
whatever the number of consignments; medians and percentiles too, computed by the database, which returns
only the ranks they need (bench/bench_dashboard.py)."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from django.db import connection
from django.db.models import Avg, BigIntegerField, Count, DateField, DateTimeField, F, Func, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.db.models.lookups import Range
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import CheckPlan, CommodityLine, Consignment, Decision, LabResult

LATE_STEPS = {"late_lab_result", "late_released_result", "follow_up_late", "documentary_check_late", "arrival_late"}
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


# SQLite plans without knowing how values spread (it is built without STAT4): it takes a period column's
# index even for a year of the table, then reads the rows in the index's order, several times slower than a
# scan. Past a quarter, SQLite's own idiom keeps it off the index: a unary `+`, which leaves the value as is.
# PostgreSQL chooses by its statistics.
LONG_PERIOD = timedelta(days=92)


def _in_period(field: str, period: Period):
    if connection.vendor == "sqlite" and period.end - period.start > LONG_PERIOD:
        return Range(Func(F(field), template="+%(expressions)s", output_field=DateTimeField()), period.bounds)
    return Q(**{f"{field}__range": period.bounds})


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _offsets(period: Period) -> list[tuple[datetime, int]]:
    """The UTC offsets (minutes) of the current time zone over the period: [(from, offset)], the first from the
    period's start. Found day by day (no time zone changes its offset twice within a day), each change pinned
    to the second."""
    tz = timezone.get_current_timezone()

    def offset(seconds: float) -> int:
        return int(datetime.fromtimestamp(seconds, tz).utcoffset().total_seconds() // 60)

    start, end = (int(bound.timestamp()) for bound in period.bounds)
    changes = [(start, offset(start))]
    for day in range(start, end, 86400):
        if offset(day + 86400) != changes[-1][1]:
            # In whole seconds, as time zones change: offset(low) is the old one, offset(high) the new.
            low, high = day, day + 86400
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high, offset(high)))
    return [(datetime.fromtimestamp(seconds, UTC), minutes) for seconds, minutes in changes]


def _local_date(model, field: str, period: Period):
    """The local date of a datetime column. PostgreSQL applies its own time zone rules (`TruncDate`). SQLite
    has none, and Django's stand-in calls Python once per row (most of the dashboard's time over a year): the
    offsets in force over the period are worked out here, and SQLite's `date()` applies them."""
    if connection.vendor != "sqlite":
        return TruncDate(field)
    column = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(field)}"
    changes = _offsets(period)
    sql, params = f"date({column}, %s)", [f"{changes[-1][1]:+d} minutes"]
    for (_, minutes), (until, _next) in reversed(list(zip(changes, changes[1:], strict=False))):
        moment = connection.ops.adapt_datetimefield_value(until)
        sql = f"CASE WHEN {column} < %s THEN date({column}, %s) ELSE {sql} END"
        params = [moment, f"{minutes:+d} minutes", *params]
    return RawSQL(sql, params, output_field=DateField())  # noqa: S611 (the column is ours, values are parameters)


def consignments_per_day(period: Period) -> list[dict]:
    """Submitted consignments per day, CHED type and BCP."""
    rows = (
        Consignment.objects.filter(_in_period("submitted_at", period))
        .annotate(day=_local_date(Consignment, "submitted_at", period))
        .values("day", "ched_type__code", "bcp__code")
        .annotate(n=Count("id"))
        .order_by("day", "ched_type__code", "bcp__code")
    )
    return [{"day": r["day"], "ched_type": r["ched_type__code"], "bcp": r["bcp__code"], "n": r["n"]} for r in rows]


class MicrosecondsBetween(Func):
    """`end - start` (two datetime columns) in whole microseconds, exactly as `timedelta` counts them, computed
    by the database (Django's own duration arithmetic on SQLite calls Python once per row)."""

    arity = 2  # start, end
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC): whole seconds by strftime, microseconds by substr.
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.source_expressions)

        def micro(column):
            return (
                f"(CAST(strftime('%%s', {column}) AS INTEGER) * 1000000"
                f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
            )

        return f"({micro(end)} - {micro(start)})", [*end_params, *end_params, *start_params, *start_params]

    def as_postgresql(self, compiler, connection, **extra_context):
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.source_expressions)
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS bigint)", [*end_params, *start_params]


def _middle_ranks(queryset, unit: float, partition: bool = False) -> list[tuple]:
    """Over `queryset.values(value=<integer>)` (and `key=` and `was_late=` when `partition`): (key, n, late,
    median, 90th percentile) per key, in `unit`s, exactly as `statistics.median` and the nearest-rank
    `percentile` over the sorted values in Python would give them. The database numbers the values in order
    and returns only the two middle ranks and the 90th percentile's rank (ceil(0.9 n), in integers) of each
    key: a few rows whatever the period."""
    inner, params = queryset.query.sql_with_params()
    key, over = ('"key"', 'PARTITION BY "key"') if partition else ("NULL", "")
    late = 'SUM(CASE WHEN "was_late" THEN 1 ELSE 0 END) OVER (PARTITION BY "key")' if partition else "0"
    sql = f"""
        SELECT figure_key, n, late_n, rn, "value" FROM (
            SELECT {key} AS figure_key, "value", {late} AS late_n,
                   ROW_NUMBER() OVER ({over} ORDER BY "value") AS rn, COUNT(*) OVER ({over}) AS n
            FROM ({inner}) AS period_rows
        ) AS ranked
        WHERE rn = (n + 1) / 2 OR rn = n / 2 + 1 OR rn = (9 * n + 9) / 10
        ORDER BY figure_key, rn"""  # noqa: S608 (our own SQL around a queryset's, whose values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    figures = []
    for key, ranked in groupby(rows, key=lambda row: row[0]):
        ranked = list(ranked)
        n, late_n = ranked[0][1], ranked[0][2]
        by_rank = {rn: value / 10**6 / unit for *_, rn, value in ranked}  # as timedelta.total_seconds() / unit
        low, high = by_rank[(n + 1) // 2], by_rank[n // 2 + 1]
        figures.append((key, n, late_n, low if n % 2 else (low + high) / 2, by_rank[(9 * n + 9) // 10]))
    return figures


def lead_times(period: Period) -> dict:
    """Hours from the goods' recorded arrival at the post (`arrived_at`) to the decision in force, for
    decisions taken in the period; `without_arrival`: those decided with no arrival recorded, left out.

    Not from the expected arrival, not even as a fallback: that is the importer's forecast, set days ahead
    and moved by the vessel's schedule, and a consignment decided on its documents alone (no identity or
    physical check) may be decided before its goods come. Either made the figure negative and measured the
    forecast's error rather than the post's work. From the recorded arrival it is never negative: the
    arrival is recorded no later than when it is entered (`consignment_arrival_record`), before any
    identity or physical check (which refuse without it), and cannot be recorded once decided."""
    decisions = Decision.objects.filter(_in_period("decided_at", period), superseded=False)
    timed = decisions.filter(consignment__arrived_at__isnull=False).values(
        value=MicrosecondsBetween("consignment__arrived_at", "decided_at")
    )
    [(_, n, _, median, p90)] = _middle_ranks(timed, 3600) or [(None, 0, 0, None, None)]
    return {
        "n": n,
        "median_h": round(median, 1) if n else None,
        "p90_h": round(p90, 1) if n else None,
        "without_arrival": decisions.filter(consignment__arrived_at__isnull=True).count(),
    }


def physical_check_share(period: Period) -> list[dict]:
    """Per CHED type: consignments planned, share selected for a physical check, mean planned rate."""
    rows = (
        CheckPlan.objects.filter(_in_period("planned_at", period))
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
    decisions = Decision.objects.filter(_in_period("decided_at", period), superseded=False)
    by_origin = (
        decisions.values("consignment__country_of_origin")
        .annotate(n=Count("id"), refused=Count("id", filter=Q(code__acceptable=False)))
        .order_by("consignment__country_of_origin")
    )
    # One join from each commodity line to the decisions in force of the period (the conditions in one
    # `filter` share it, and the counts below count over it).
    by_commodity = (
        CommodityLine.objects.filter(
            _in_period("consignment__decisions__decided_at", period), consignment__decisions__superseded=False
        )
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
    results = LabResult.objects.filter(_in_period("received_at", period)).values(
        key=F("sample__analysis__code"),
        value=MicrosecondsBetween("sample__taken_at", "received_at"),
        was_late=F("late"),
    )
    return [
        {"analysis": analysis, "n": n, "median_d": round(median, 1), "p90_d": round(p90, 1), "late": late}
        for analysis, n, late, median, p90 in _middle_ranks(results, 86400, partition=True)
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
