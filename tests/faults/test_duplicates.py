"""Held already, kept held with real processes: the same job message delivered several times issues one
certificate, and 20 inspectors claiming one task at once over HTTP leave exactly one owner."""

import secrets
import threading
import time

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import Notification
from inspection.roles import Role
from inspection.services.consignments import consignment_create
from tests.factories import UserFactory, part_one
from tests.faults.conftest import figure, wait_for
from tests.faults.flows import certificate_problems, decided
from workflows.engine import flow_job_run
from workflows.flows import InspectionFlow
from workflows.steps import open_task

DUPLICATED, COPIES, CLAIMERS = 10, 3, 20


def test_job_messages_delivered_several_times_issue_one_certificate(stack, people):
    consignments = decided(people, DUPLICATED)
    jobs = Task.objects.filter(
        process__artifact_object_id__in=[c.pk for c in consignments], flow_task=InspectionFlow.issue_certificate
    )
    for job in jobs:  # the decision's commit sent one; the broker delivers it again, and again
        for _ in range(COPIES - 1):
            flow_job_run.apply_async(args=[job.flow_task.activation_class(job).ref()], task_id=job.external_task_id)
    began = time.monotonic()
    assert wait_for(lambda: jobs.filter(status=STATUS.DONE).count() == DUPLICATED, timeout=120, interval=0.5)
    figure(f"{DUPLICATED} jobs delivered {COPIES} times each, all done in", f"{time.monotonic() - began:.1f} s")
    assert certificate_problems(consignments) == []
    certified = Notification.objects.filter(consignment__in=consignments, kind="certified")
    assert certified.count() == certified.values("consignment", "recipient").distinct().count()


def _logged_in(stack, user) -> requests.Session:
    """A browser session of `user` on the web server (made in the session store, as a login would)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the one a password login goes through
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = secrets.token_hex(16)
    session = requests.Session()
    session.cookies.set("sessionid", store.session_key)
    session.cookies.set("csrftoken", csrf)
    session.headers.update({"X-CSRFToken": csrf, "Referer": stack.url + "/"})
    return session


def test_twenty_inspectors_claim_one_task_at_once_and_one_wins(stack, people):
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)

    consignment = consignment_create(actor=people["importer"], part_one=part_one())
    task = open_task(consignment, InspectionFlow.documentary_check)
    inspectors = [UserFactory(username=f"faults-claim-{i}", roles=[Role.INSPECTOR]) for i in range(CLAIMERS)]
    sessions = {user.username: _logged_in(stack, user) for user in inspectors}
    barrier = threading.Barrier(CLAIMERS)
    answers = {}

    def claim(username):
        barrier.wait()
        answers[username] = (
            sessions[username].post(stack.url + task.reverse("assign"), allow_redirects=False, timeout=60).status_code
        )

    threads = [threading.Thread(target=claim, args=(name,)) for name in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [name for name, code in answers.items() if code == 302]
    figure(f"{CLAIMERS}-way claim answers", sorted(answers.values()))
    assert len(winners) == 1, answers
    assert all(code in (302, 403) for code in answers.values()), answers
    task.refresh_from_db()
    assert task.owner.username == winners[0]
