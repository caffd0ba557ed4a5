"""The inspector's task queue (`/workflow/inspection/queue/`) with 100 and then 10,000 open tasks, on top of
100,000 closed ones: p95 time per page and the SQL queries per page, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_task_list.py [--requests 40]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import percentile, run_per_backend, setup_django, table  # noqa: E402


def child(url: str, requests: int) -> dict:
    setup_django(url)
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from viewflow.workflow.models import Task
    from viewflow.workflow.token import Token

    import pif.urls  # noqa: F401
    from inspection.models import Consignment
    from inspection.roles import Role
    from inspection.services.consignments import consignment_create
    from tests.factories import UserFactory, importer_factory, part_one
    from workflows.flows import InspectionFlow
    from workflows.models import InspectionProcess

    consignment = consignment_create(actor=importer_factory("bench-importer"), part_one=part_one())
    inspector = UserFactory(username="bench-inspector", roles=[Role.INSPECTOR])
    content_type = ContentType.objects.get_for_model(Consignment)

    def add_tasks(count: int, status: str, batch: int = 5000) -> None:
        for start in range(0, count, batch):
            n = min(batch, count - start)
            processes = InspectionProcess.objects.bulk_create(
                InspectionProcess(
                    flow_class=InspectionFlow, artifact_content_type=content_type, artifact_object_id=consignment.pk
                )
                for _ in range(n)
            )
            Task.objects.bulk_create(
                Task(
                    process=p,
                    flow_task=InspectionFlow.documentary_check,
                    flow_task_type="HUMAN",
                    status=status,
                    owner_permission="workflows.can_check",
                    token=Token("start"),
                )
                for p in processes
            )

    client = Client()
    client.force_login(inspector)

    def measure(url="/workflow/inspection/queue/") -> tuple[float, int]:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load in production
        client.get(url)  # warm-up
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        count = len(queries)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        return percentile(times, 95) * 1000, count

    add_tasks(100_000, "DONE")
    add_tasks(99, "NEW")  # + the one the real consignment has
    p95_small, queries_small = measure()
    today_small, today_queries_small = measure("/workflow/today/")
    add_tasks(9_900, "NEW")
    p95_large, queries_large = measure()
    today_large, today_queries_large = measure("/workflow/today/")
    return {
        "today_p95_ms_100_open": round(today_small, 1),
        "today_p95_ms_10000_open": round(today_large, 1),
        "today_queries": f"{today_queries_small}/{today_queries_large}",
        "p95_ms_100_open": round(p95_small, 1),
        "p95_ms_10000_open": round(p95_large, 1),
        "ratio": round(p95_large / p95_small, 2),
        "queries_100": queries_small,
        "queries_10000": queries_large,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.requests)))
        return
    rows = run_per_backend(__file__, "--requests", str(args.requests))
    print("Inspector queue page, 100 vs 10,000 open tasks (plus 100,000 closed)")
    print(table(rows, ["backend", "p95_ms_100_open", "p95_ms_10000_open", "ratio", "queries_100", "queries_10000"]))
    print("The inspector's day page (/workflow/today/: its queue is the first 30 by arrival), same data")
    print(table(rows, ["backend", "today_p95_ms_100_open", "today_p95_ms_10000_open", "today_queries"]))


if __name__ == "__main__":
    main()
