"""The supervisors' dashboard with 100,000 consignments spread over a year (bulk-inserted with their check
plans, commodity lines and decisions, not the demo): p95 time per page and SQL queries per page, for the
default period (the last 30 days) and for the whole year, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_dashboard.py [--consignments 100000] [--requests 20]
"""

import argparse
import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import percentile, run_per_backend, setup_django, table  # noqa: E402


def generate(count: int) -> None:
    from django.utils import timezone

    from inspection.models import (
        Bcp,
        CheckPlan,
        ChedType,
        CommodityLine,
        Consignment,
        Decision,
        DecisionCode,
    )
    from inspection.roles import Role
    from tests.factories import UserFactory, importer_factory

    rng = random.Random(6)
    importer = importer_factory("bench-importer")
    officer = UserFactory(username="bench-officer", roles=[Role.CERTIFYING_OFFICER])
    operator = importer.membership.operator
    types, bcps = list(ChedType.objects.all()), list(Bcp.objects.all())
    accept = DecisionCode.objects.get(code="acceptable_for_internal_market")
    refuse = DecisionCode.objects.get(code="non_acceptable")
    now = timezone.now()
    for start in range(0, count, 5000):
        batch = []
        for n in range(start, min(count, start + 5000)):
            arrival = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            batch.append(
                Consignment(
                    reference=f"BENCH.{n:07d}",
                    ched_type=rng.choice(types),
                    status="accepted",
                    operator=operator,
                    created_by=importer,
                    bcp=rng.choice(bcps),
                    country_of_origin=rng.choice(["DO", "CR", "BR", "CO"]),
                    expected_arrival=arrival,
                    submitted_at=arrival - timedelta(days=2),
                )
            )
        consignments = Consignment.objects.bulk_create(batch)
        CheckPlan.objects.bulk_create(
            CheckPlan(
                consignment=c,
                rule="catalogue",
                identity_rate=10,
                physical_rate=rng.choice([5, 10, 50]),
                identity_draw=rng.random(),
                physical_draw=rng.random(),
                identity_selected=False,
                physical_selected=rng.random() < 0.1,
                planned_at=c.submitted_at,
            )
            for c in consignments
        )
        CommodityLine.objects.bulk_create(
            CommodityLine(consignment=c, cn_code=rng.choice(["08045000", "07099310", "02023090"])) for c in consignments
        )
        Decision.objects.bulk_create(
            Decision(
                consignment=c,
                code=refuse if rng.random() < 0.03 else accept,
                officer=officer,
                decided_at=c.expected_arrival + timedelta(hours=rng.randrange(1, 72)),
            )
            for c in consignments
        )


def child(url: str, consignments: int, requests: int) -> dict:
    setup_django(url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    import pif.urls  # noqa: F401
    from inspection.roles import Role
    from tests.factories import UserFactory

    generate(consignments)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    client.force_login(UserFactory(username="bench-supervisor", roles=[Role.SUPERVISOR]))
    today = timezone.localdate()
    results = {}
    for label, query in [("30_days", ""), ("year", f"?start={today - timedelta(days=365)}&end={today}")]:
        page = f"/supervision/dashboard/{query}"
        client.get(page)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        count = len(queries)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(page)
            times.append(time.perf_counter() - started)
        results[f"p95_ms_{label}"] = round(percentile(times, 95) * 1000, 1)
        results[f"queries_{label}"] = count
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consignments", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.consignments, args.requests)))
        return
    rows = run_per_backend(__file__, "--consignments", str(args.consignments), "--requests", str(args.requests))
    print(f"Supervisors' dashboard with {args.consignments:,} consignments over a year")
    print(table(rows, ["backend", "p95_ms_30_days", "queries_30_days", "p95_ms_year", "queries_year"]))


if __name__ == "__main__":
    main()
