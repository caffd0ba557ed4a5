"""The importer's consignment list, in the portal (`GET /consignments/`) and the API
(`GET /api/v1/consignments/`), for a company with 5,000 consignments and for one with 50, among 100,000
consignments in all (bulk-inserted, not the demo): p95 time per page and SQL queries per page, on SQLite and
PostgreSQL. The target is a constant query count and a p95 ratio (5,000 / 50) of at most 1.5.

    .venv/bin/python bench/bench_importer_list.py [--consignments 100000] [--large 5000] [--small 50] [--requests 40]
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

PAGES = {"portal": "/consignments/", "api": "/api/v1/consignments/"}
OTHER_COMPANIES = 50


def generate(total: int, large: int, small: int) -> tuple:
    """Two importers (companies of `large` and `small` consignments) and other companies for the rest, all
    interleaved over a year, so that the companies' rows are scattered through the table as in real life."""
    from django.db.models import F
    from django.utils import timezone

    from inspection.models import Bcp, ChedType, Consignment
    from tests.factories import importer_factory

    rng = random.Random(5)
    big, few = importer_factory("bench-big"), importer_factory("bench-few")
    others = [importer_factory(f"bench-other-{n}") for n in range(OTHER_COMPANIES)]
    owners = [big] * large + [few] * small
    owners += [others[n % OTHER_COMPANIES] for n in range(total - len(owners))]
    rng.shuffle(owners)
    types, bcps = list(ChedType.objects.all()), list(Bcp.objects.all())
    statuses = ["draft", "submitted", "checking", "awaiting_decision", "accepted", "refused", "closed"]
    now = timezone.now()
    for start in range(0, total, 5000):
        batch = []
        for n in range(start, min(total, start + 5000)):
            owner = owners[n]
            # the n-th is created the n-th: newest last, as the table would fill up
            submitted = now - timedelta(minutes=(total - n) * 5)
            batch.append(
                Consignment(
                    reference=f"BENCH.{n:07d}",
                    ched_type=rng.choice(types),
                    status=rng.choice(statuses),
                    operator_id=owner.membership.operator_id,
                    created_by=owner,
                    bcp=rng.choice(bcps),
                    consignor_name="Exportadora del Caribe",
                    country_of_origin=rng.choice(["DO", "CR", "BR", "CO"]),
                    expected_arrival=submitted + timedelta(days=rng.randrange(1, 10)),
                    submitted_at=submitted,
                )
            )
        Consignment.objects.bulk_create(batch)
    Consignment.objects.update(created_at=F("submitted_at"))  # auto_now_add stamped them all with now
    return big, few


def measure(client, page: str, requests: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(page)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    count = len(queries)  # now: the next request empties the log this reads from
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(page)
        times.append(time.perf_counter() - started)
    return percentile(times, 95) * 1000, count


def child(url: str, total: int, large: int, small: int, requests: int) -> dict:
    setup_django(url)
    from django.db import connection
    from django.test import Client

    import pif.urls  # noqa: F401

    big, few = generate(total, large, small)
    if connection.vendor == "postgresql":
        # VACUUM as autovacuum would have: the `created_at` update left a dead version of every row, which
        # kept the page's COUNT(*) from an index-only scan (it read 3,855 heap blocks for 5,000 rows)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    results = {}
    for name, page in PAGES.items():
        timings = {}
        # interleaved rounds, so that a burst of load on the shared machine falls on both sides
        for _ in range(2):
            for label, user in (("small", few), ("large", big)):
                client = Client()
                client.force_login(user)
                p95, queries = measure(client, page, requests // 2)
                timings.setdefault(label, []).append(p95)
                results[f"{name}_queries_{label}"] = queries
        for label in ("small", "large"):
            results[f"{name}_p95_ms_{label}"] = round(min(timings[label]), 1)
        results[f"{name}_ratio"] = round(results[f"{name}_p95_ms_large"] / results[f"{name}_p95_ms_small"], 2)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consignments", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--child")
    args = parser.parse_args()
    sizes = [str(args.consignments), str(args.large), str(args.small), str(args.requests)]
    if args.child:
        print(json.dumps(child(args.child, *map(int, sizes))))
        return
    rows = run_per_backend(
        __file__,
        *("--consignments", sizes[0], "--large", sizes[1], "--small", sizes[2], "--requests", sizes[3]),
    )
    print(f"Importer's list: {args.large:,} vs {args.small:,} of the company's, {args.consignments:,} in all")
    for name in PAGES:
        columns = ["backend", f"{name}_p95_ms_small", f"{name}_p95_ms_large", f"{name}_ratio"]
        print(table(rows, [*columns, f"{name}_queries_small", f"{name}_queries_large"]))


if __name__ == "__main__":
    main()
