"""The audit chain: `verify_audit` throughput over 1,000,000 chained events, on SQLite and PostgreSQL, in one
process and in the command's default number of worker processes (`min(4, cores)`).
The events are written by a bench data generator (bulk inserts of a correctly chained trail, not the demo).

    .venv/bin/python bench/bench_audit.py [--events 1000000]
"""

import argparse
import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Timer, run_per_backend, setup_django, table  # noqa: E402

COLUMNS = (
    "seq",
    "prev_hash",
    "event_hash",
    "occurred_at",
    "actor_id",
    "role",
    "action",
    "consignment_id",
    "data",
    "mac",
)
STEPS = [
    ("consignment.submitted", "importer", {"from": "draft", "to": "submitted"}),
    ("checks.planned", "system", {"rule": "catalogue rate", "identity_rate": 10, "physical_rate": 5}),
    ("documentary_check.recorded", "inspector", {"result": "satisfactory", "reason": "", "documents": 3}),
    ("physical_check.recorded", "inspector", {"result": "satisfactory", "samples": ["S1"], "findings": ""}),
    ("lab_result.recorded", "lab", {"sample": "S1", "conclusion": "satisfactory", "analytes": [["Pb", 0.01]]}),
    ("decision.recorded", "certifying_officer", {"from": "awaiting_decision", "to": "accepted", "code": "IM"}),
]


def chained_events(count: int, actor_ids: list[int]):
    """Rows of a valid chain, `count` long, as the database stores them (SQLite's text forms)."""
    from inspection.audit_chain import GENESIS, canonical_json, event_body, event_mac, event_seal, event_text
    from inspection.audit_key import audit_event_key

    key = audit_event_key()

    rng = random.Random(6)
    prev, moment = GENESIS, datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, count + 1):
        action, role, data = STEPS[seq % len(STEPS)]
        data = {**data, "draw": rng.random(), "consignment": f"CHEDPP.FR.2026.{seq // 6:07d}"}
        moment += timedelta(microseconds=rng.randrange(1, 5_000_000))
        data_text, t = canonical_json(data), moment.isoformat(timespec="microseconds")[:26]
        actor = None if role == "system" else rng.choice(actor_ids)
        text = event_text(
            seq=seq,
            prev_hash=prev,
            occurred_at=t + "Z",
            actor_id=actor,
            role=role,
            action=action,
            consignment_id=None,
            data_text=data_text,
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        body = event_body(
            occurred_at=t + "Z", actor_id=actor, role=role, action=action, consignment_id=None, data_text=data_text
        )
        mac = event_mac(event_seal(key, body), digest)
        yield seq, prev, digest, t.replace("T", " "), actor, role, action, None, data_text, mac
        prev = digest


def generate(count: int) -> float:
    """Bulk-insert a chain of `count` events (COPY on PostgreSQL, executemany on SQLite); returns seconds."""
    from django.db import connection, transaction

    from inspection.roles import Role
    from tests.factories import UserFactory

    actor_ids = [UserFactory(username=f"bench-{i}", roles=[Role.INSPECTOR]).pk for i in range(20)]
    rows = chained_events(count, actor_ids)
    with Timer() as timer, transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY inspection_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row[:3], row[3] + "+00", *row[4:]))
        else:
            placeholders = ", ".join("%s" for _ in COLUMNS)
            sql = f"INSERT INTO inspection_auditevent ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 10_000:
                    cursor.executemany(sql, batch)
                    batch = []
            cursor.executemany(sql, batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE inspection_auditevent")
    return timer.seconds


def child(url: str, events: int) -> dict:
    setup_django(url)
    from django.core.management import call_command

    from inspection.audit_verify import audit_chain_verify
    from inspection.management.commands.verify_audit import DEFAULT_WORKERS

    generated = generate(events)
    audit_chain_verify(chunk_size=20_000)  # warm the page cache, as a daily run on a live server finds it
    figures = {"events": events, "generate_s": round(generated, 1), "workers": DEFAULT_WORKERS}
    # One process and the command's default number of workers, interleaved so that both see the same load.
    runs = {1: [], DEFAULT_WORKERS: []}
    for _ in range(3):
        for workers in runs:
            with Timer() as timer:
                report = audit_chain_verify(chunk_size=20_000, workers=workers)
            assert report.intact and report.checked == events, report
            runs[workers].append(timer.seconds)
    for workers, label in [(1, "1"), (DEFAULT_WORKERS, "n")]:
        figures[f"verify_s_{label}"] = round(min(runs[workers]), 2)
        figures[f"events_per_s_{label}"] = round(events / min(runs[workers]))
        figures[f"median_events_per_s_{label}"] = round(events / sorted(runs[workers])[1])
    with Timer() as command:
        call_command("verify_audit", "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115
    figures["command_s"] = round(command.seconds, 2)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.events)))
        return
    started = time.perf_counter()
    rows = run_per_backend(__file__, "--events", str(args.events))
    print(f"verify_audit over {args.events:,} chained events ({time.perf_counter() - started:.0f} s in all)")
    print(
        table(
            rows,
            [
                "backend",
                "events",
                "generate_s",
                "verify_s_1",
                "events_per_s_1",
                "median_events_per_s_1",
                "workers",
                "verify_s_n",
                "events_per_s_n",
                "median_events_per_s_n",
                "command_s",
            ],
        )
    )


if __name__ == "__main__":
    main()
