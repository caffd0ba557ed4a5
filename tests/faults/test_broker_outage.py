"""The broker (Redis, without persistence) killed during submits, decisions and running certificate jobs, then
restarted empty: every API write either failed with nothing stored or succeeded, and every notification and
job is delivered once the broker is back (the outbox's sweeper and beat's job resend)."""

import threading
import time
import uuid

import requests
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import Consignment, Notification
from inspection.selectors import decision_in_force
from inspection.services.consignments import consignment_create
from tests.factories import part_one
from tests.faults.conftest import figure, wait_for
from tests.faults.flows import certificate_problems, decided
from workflows.flows import InspectionFlow
from workflows.management.commands._demo_flow import drive

BEFORE, DURING, OUTAGE, DEADLINE = 12, 6, 8.0, 180


def test_broker_killed_during_submits_decisions_and_jobs(stack, people):
    first = decided(people, BEFORE)  # their certificate jobs queued: the worker starts on them
    jobs = Task.objects.filter(flow_task=InspectionFlow.issue_certificate)
    assert wait_for(lambda: jobs.filter(status=STATUS.STARTED).exists(), timeout=60, interval=0.1)
    # submitted now, decided while the broker is down
    waiting = [consignment_create(actor=people["importer"], part_one=part_one()) for _ in range(DURING)]

    stop, submits = threading.Event(), {}

    def submitter(n):
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {people['token']}", "Accept-Language": "en"})
        i = 0
        while not stop.is_set():
            marker = f"BROKER-{n}-{i}-{uuid.uuid4().hex[:8]}"
            body = part_one(as_json=True)
            body["arrival"]["transport_document"] = marker
            try:
                response = session.post(
                    f"{stack.url}/api/v1/consignments/",
                    json=body,
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                    timeout=60,
                )
                submits[marker] = response.status_code
            except requests.RequestException as exc:
                submits[marker] = type(exc).__name__
            i += 1
            time.sleep(0.1)

    decisions = {}

    def decider():
        try:
            for consignment in waiting:
                try:
                    drive(consignment, "accepted", people)
                    decisions[consignment.reference] = "ok"
                except Exception as exc:  # recorded: a decision may fail, never half-written
                    decisions[consignment.reference] = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            connection.close()

    submitters = [threading.Thread(target=submitter, args=(n,)) for n in range(2)]
    for thread in submitters:
        thread.start()
    time.sleep(1)
    stack.redis.kill()  # with everything queued in it: no persistence
    down = time.monotonic()
    decision_thread = threading.Thread(target=decider)
    decision_thread.start()
    time.sleep(OUTAGE)
    decision_thread.join(timeout=120)
    stack.redis_start()
    back = time.monotonic()
    time.sleep(2)
    stop.set()
    for thread in submitters:
        thread.join()
    figure("broker down", f"{back - down:.1f} s")

    # every API write: succeeded (one consignment) or failed with nothing stored
    stored = {m: Consignment.objects.filter(transport_document=m).count() for m in submits}
    half = {m: (code, stored[m]) for m, code in submits.items() if (code == 201) != (stored[m] == 1) or stored[m] > 1}
    failed = [code for code in submits.values() if code != 201]
    figure("API submits during the outage (answered 201 / failed)", f"{len(submits) - len(failed)} / {len(failed)}")
    assert half == {}, "a submit answered a failure though it was stored, or stored twice"
    # every decision: recorded (its effects follow) or failed with nothing stored
    decided_now = [c for c in waiting if decision_in_force(c) is not None]
    figure("decisions during the outage (recorded / failed)", f"{len(decided_now)} / {len(waiting) - len(decided_now)}")
    for consignment in waiting:
        assert (decisions.get(consignment.reference) == "ok") == (decision_in_force(consignment) is not None), (
            consignment.reference,
            decisions.get(consignment.reference),
        )

    # after the broker's return: every job done, every notification sent
    mine = [*first, *decided_now]
    own_jobs = jobs.filter(process__artifact_object_id__in=[c.pk for c in mine])
    notifications = Notification.objects.all()
    delivered = wait_for(
        lambda: (
            own_jobs.exclude(status=STATUS.DONE).count() == 0
            and not notifications.filter(sent_at__isnull=True).exists()
        ),
        timeout=DEADLINE,
        interval=1,
    )
    figure("every job done and notification sent, seconds after the broker returned", f"{time.monotonic() - back:.1f}")
    figure("jobs not done", own_jobs.exclude(status=STATUS.DONE).count())
    figure("notifications not sent", notifications.filter(sent_at__isnull=True).count())
    assert delivered
    assert certificate_problems(mine) == []
