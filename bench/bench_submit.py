"""Submits per second through the API (POST /api/v1/consignments/, the whole Django stack in-process),
on SQLite and PostgreSQL, with the SQL queries per submit.

    .venv/bin/python bench/bench_submit.py [--submits 300]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Timer, run_per_backend, setup_django, summary, table  # noqa: E402


def child(url: str, submits: int) -> dict:
    setup_django(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from tests.factories import importer_factory, part_one

    user = importer_factory("bench-importer")
    client = APIClient()
    client.force_authenticate(user)
    payload = part_one(as_json=True)
    for _ in range(10):  # warm-up
        assert client.post("/api/v1/consignments/", payload, format="json").status_code == 201
    with CaptureQueriesContext(connection) as queries:
        client.post("/api/v1/consignments/", payload, format="json")
    query_count = len(queries)  # now: the captured list is read lazily from a log later requests reset
    durations = []
    for _ in range(submits):
        with Timer() as t:
            response = client.post("/api/v1/consignments/", payload, format="json")
        assert response.status_code == 201, response.content
        durations.append(t.seconds)
    return {**summary(durations), "queries_per_submit": query_count}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.submits)))
        return
    rows = run_per_backend(__file__, "--submits", str(args.submits))
    print("Part I submits through the API (201 each, Part I with 1 line, 1 container, 1 document)")
    print(table(rows, ["backend", "n", "per_second", "median_ms", "p95_ms", "queries_per_submit"]))


if __name__ == "__main__":
    main()
