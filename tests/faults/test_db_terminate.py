"""Database connections terminated (`pg_terminate_backend`) while importers submit over HTTP with an
Idempotency-Key, retrying what failed with the same key: every write either failed with nothing stored or
succeeded, and a retry never makes a second consignment."""

import random
import threading
import time
import uuid

import psycopg
import requests
from django.db import connection

from inspection.models import Consignment
from tests.factories import part_one
from tests.faults.conftest import figure
from workflows.models import InspectionProcess as Process

CLIENTS, SUBMITS_EACH, TRIES = 4, 10, 10


def _backends_killer(stack, stop: threading.Event, spare: int, killed: list):
    """Every 3 to 5 s, terminate every connection to the suite's database (the web server's, the worker's, beat's)
    but this test's own."""
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as admin:
        while not stop.is_set():
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [spare],
            ).fetchall()
            killed.append(len(rows))
            stop.wait(random.uniform(3.0, 5.0))


def test_submits_while_database_connections_are_terminated(stack, people):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        mine = cursor.fetchone()[0]
    before = Consignment.objects.count()
    results: dict[str, list] = {}
    stop, killed = threading.Event(), []

    def client(n):
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {people['token']}", "Accept-Language": "en"})
        for i in range(SUBMITS_EACH):
            marker = f"FAULT-{n}-{i}-{uuid.uuid4().hex[:8]}"
            body = part_one(as_json=True)
            body["arrival"]["transport_document"] = marker
            key = str(uuid.uuid4())
            answers = results.setdefault(marker, [])
            for _ in range(TRIES):  # the client's retries, with the same key and body
                try:
                    response = session.post(
                        f"{stack.url}/api/v1/consignments/", json=body, headers={"Idempotency-Key": key}, timeout=60
                    )
                except requests.RequestException as exc:
                    answers.append((type(exc).__name__, False))
                else:
                    answers.append((response.status_code, response.headers.get("Idempotent-Replayed") == "true"))
                    if response.status_code < 500:
                        break
                time.sleep(0.3)

    killer = threading.Thread(target=_backends_killer, args=(stack, stop, mine, killed))
    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    began = time.monotonic()
    killer.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    stop.set()
    killer.join()
    elapsed = time.monotonic() - began

    answers = [a for tries in results.values() for a in tries]
    failed = [a for a in answers if a[0] == "ConnectionError" or (isinstance(a[0], int) and a[0] >= 500)]
    # a failure whose retry replays the first answer: the failed attempt had committed (a 5xx after a commit)
    after_commit = [m for m, tries in results.items() if len(tries) > 1 and tries[-1][1]]
    counts = {m: Consignment.objects.filter(transport_document=m).count() for m in results}
    figure("submits (with retries)", f"{len(results)} ({len(answers)} requests) in {elapsed:.1f} s")
    figure("connections terminated", sum(killed))
    figure("failed answers (5xx or connection error)", len(failed))
    figure("failed answers whose write had committed (replayed on retry)", len(after_commit))
    figure("final answers", sorted({str(tries[-1]) for tries in results.values()}))

    assert sum(killed) > 0, "no connection was terminated"
    assert all(tries[-1][0] == 201 for tries in results.values()), {m: t for m, t in results.items() if t[-1][0] != 201}
    assert [m for m, n in counts.items() if n != 1] == [], "a submit made no consignment, or two"
    assert Consignment.objects.count() == before + len(results)
    # nothing half-written: each consignment's flow started
    submitted = Consignment.objects.filter(transport_document__in=list(results))
    started = Process.objects.filter(artifact_object_id__in=submitted.values("pk"))
    assert started.count() == len(results)
    assert after_commit == [], "a write answered 5xx after its commit"
