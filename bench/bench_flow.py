"""Consignments per second through the whole inspection flow (driven from code, no PDF), on SQLite and
PostgreSQL, next to a floor: the same services writing the same records, with a plain status field and
audit rows but no workflow engine. Also the SQL queries of each step.

    .venv/bin/python bench/bench_flow.py [--consignments 60]

Path measured: submit -> plan -> documentary check -> identity check -> physical check -> decision ->
certificate job (run in-process, as the worker would) -> end. A step's queries are those of claiming and
completing its task (`workflows.steps.task_complete_as`), or of running the job from its reference, on a
consignment after the warm-up; finding the task is the task list's work and is not counted.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import run_per_backend, setup_django, table  # noqa: E402


def child(url: str, consignments: int) -> dict:
    setup_django(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import pif.urls  # noqa: F401
    from inspection.models import Commodity
    from inspection.roles import Role
    from inspection.services import certificates
    from inspection.services.certificates import certificate_issue
    from inspection.services.checks import check_plan_record, documentary_check_record, identity_check_record
    from inspection.services.consignments import consignment_create
    from inspection.services.decisions import decision_record
    from inspection.services.sampling import physical_check_record
    from tests.factories import UserFactory, importer_factory, part_one
    from workflows.engine import flow_job_run
    from workflows.flows import InspectionFlow
    from workflows.steps import open_task, task_complete_as

    # No PDF (as the issue asks): both sides store a placeholder; rendering is measured in bench_certificates.py.
    certificates.certificate_pdf = lambda **kwargs: b"%PDF-1.7 placeholder"
    certificates.signer_name = lambda: "bench"

    Commodity.objects.filter(cn_code="08045000").update(identity_rate=100, physical_rate=100)
    importer = importer_factory("bench-importer")
    inspector = UserFactory(username="bench-inspector", roles=[Role.INSPECTOR])
    officer = UserFactory(username="bench-officer", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])

    def steps(c):
        docs = {d.pk: (True, True) for d in c.documents.all()}
        return [
            (
                "documentary_check",
                inspector,
                lambda: documentary_check_record(actor=inspector, consignment=c, verdicts=docs, result="satisfactory"),
            ),
            (
                "identity_check",
                inspector,
                lambda: identity_check_record(
                    actor=inspector,
                    consignment=c,
                    seals_as_declared=True,
                    goods_as_declared=True,
                    result="satisfactory",
                ),
            ),
            (
                "physical_check",
                inspector,
                lambda: physical_check_record(actor=inspector, consignment=c, result="satisfactory"),
            ),
            (
                "decide",
                officer,
                lambda: decision_record(actor=officer, consignment=c, code="acceptable_for_internal_market"),
            ),
        ]

    def with_flow(counts=None):
        c = consignment_create(actor=importer, part_one=part_one())
        for name, user, record in steps(c):
            task = open_task(c, getattr(InspectionFlow, name))  # the task list's work, not the step's
            with CaptureQueriesContext(connection) as q:
                task_complete_as(user=user, task=task, record=record, consignment=c)
            if counts is not None:
                counts[name] = len(q)
        job = InspectionFlow.task_class.objects.get(
            process__artifact_object_id=c.pk, flow_task=InspectionFlow.issue_certificate
        )
        ref = job.flow_task.activation_class(job).ref()  # what the worker receives
        with CaptureQueriesContext(connection) as q:
            flow_job_run.run(ref)
        if counts is not None:
            counts["issue_certificate"] = len(q)

    def floor():
        c = consignment_create(actor=importer, part_one=part_one())
        check_plan_record(consignment=c)
        for _name, _user, record in steps(c):
            record()
        certificate_issue(consignment=c)

    counts: dict = {}
    for _ in range(3):
        with_flow()  # warm-up (first use of the content types, translations, ...)
    with_flow(counts)  # the queries of a step in steady state
    started = time.perf_counter()
    for _ in range(consignments):
        with_flow()
    flow_rate = consignments / (time.perf_counter() - started)

    real_run = InspectionFlow.submit.run
    InspectionFlow.submit.run = lambda **kwargs: None  # the floor: no workflow engine at all
    try:
        for _ in range(3):
            floor()
        started = time.perf_counter()
        for _ in range(consignments):
            floor()
        floor_rate = consignments / (time.perf_counter() - started)
    finally:
        InspectionFlow.submit.run = real_run
    return {
        "flow_per_s": round(flow_rate, 1),
        "floor_per_s": round(floor_rate, 1),
        "ratio": round(flow_rate / floor_rate, 2),
        "queries": counts,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--consignments", type=int, default=60)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.consignments)))
        return
    rows = run_per_backend(__file__, "--consignments", str(args.consignments))
    print("Consignments through the whole flow vs a floor without workflow engine")
    print(table(rows, ["backend", "flow_per_s", "floor_per_s", "ratio"]))
    print("\nSQL queries per step (flow, including the task claim, lock and routing)")
    steps = list(rows[0]["queries"])
    print(table([{"backend": r["backend"], **r["queries"]} for r in rows], ["backend", *steps]))


if __name__ == "__main__":
    main()
