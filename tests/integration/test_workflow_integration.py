"""The inspection flow on PostgreSQL with a real Celery worker: the certificate job runs in the worker, and
two inspectors racing for one task cannot both win."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import Commodity, Notification
from inspection.roles import Role
from inspection.services.checks import documentary_check_record
from inspection.services.consignments import consignment_create
from inspection.services.decisions import decision_record
from tests.factories import UserFactory, goods_arrived, importer_factory, part_one
from tests.integration.conftest import wait_for
from workflows.flows import InspectionFlow
from workflows.models import InspectionProcess
from workflows.steps import open_task, task_complete_as

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _submitted():
    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=0)
    return consignment_create(actor=importer_factory("flowing"), part_one=part_one())


def _documentary_check_done(consignment, inspector):
    task_complete_as(
        user=inspector,
        task=open_task(consignment, InspectionFlow.documentary_check),
        record=lambda: documentary_check_record(
            actor=inspector,
            consignment=consignment,
            verdicts={d.pk: (True, True) for d in consignment.documents.all()},
            result="satisfactory",
        ),
    )


def test_the_worker_runs_the_certificate_job_and_the_flow_ends(celery_worker):
    consignment = _submitted()
    inspector = UserFactory(username="ines-it", roles=[Role.INSPECTOR])
    officer = UserFactory(username="olivier-it", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    _documentary_check_done(consignment, inspector)
    task_complete_as(
        user=officer,
        task=open_task(consignment, InspectionFlow.decide),
        record=lambda: decision_record(actor=officer, consignment=consignment, code="acceptable_for_internal_market"),
    )

    process = wait_for(
        lambda: InspectionProcess.objects.filter(artifact_object_id=consignment.pk, status="DONE").first(), timeout=60
    )

    assert process is not None, "the worker did not run the certificate job"
    job = Task.objects.get(process=process, flow_task=InspectionFlow.issue_certificate)
    assert job.status == STATUS.DONE
    assert Notification.objects.filter(consignment=consignment, kind="decided").exists()


def test_two_inspectors_claiming_one_task_exactly_one_wins():
    consignment = _submitted()
    task = open_task(consignment, InspectionFlow.documentary_check)
    inspectors = [UserFactory(username=f"racer-{i}", roles=[Role.INSPECTOR]) for i in range(2)]
    barrier = threading.Barrier(2)
    answers = {}

    def claim(user):
        client = Client()
        client.force_login(user)
        barrier.wait()
        answers[user.username] = client.post(task.reverse("assign")).status_code
        connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in inspectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers.values()) == [302, 403], answers
    task.refresh_from_db()
    assert task.owner.username in answers and answers[task.owner.username] == 302


def test_a_task_read_under_the_lock_is_the_one_the_lock_holder_committed():
    """The lock and the task are read in one statement (`workflows.engine.task_locked`). A reader that waits for
    the lock must then get the task as the holder left it, not as it was when the reader's statement began:
    PostgreSQL re-reads only the rows the statement locks, so the task row is locked with the process."""
    import time

    from viewflow.workflow.lock import SelectForUpdateLock

    from workflows.engine.locking import TaskReadingLock

    consignment = _submitted()
    task = open_task(consignment, InspectionFlow.documentary_check)
    holder = UserFactory(username="holder", roles=[Role.INSPECTOR])
    locked, done, seen = threading.Event(), threading.Event(), {}

    def hold_and_claim():
        with transaction.atomic():
            InspectionProcess.objects.select_for_update().get(pk=task.process_id)
            Task.objects.filter(pk=task.pk).update(status=STATUS.ASSIGNED, owner=holder)
            locked.set()
            done.wait(5)
            time.sleep(0.3)  # the reader's statement is waiting for the lock meanwhile
        connection.close()

    def read_under_the_lock():
        locked.wait(5)
        with transaction.atomic():
            done.set()
            waiting = SelectForUpdateLock(nowait=False)  # waits for the lock inside its statement
            read = TaskReadingLock(task.pk).read(InspectionFlow, task.process_id, select_for_update=waiting)
            seen["status"], seen["owner"] = read.status, read.owner_id
        connection.close()

    threads = [threading.Thread(target=hold_and_claim), threading.Thread(target=read_under_the_lock)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"status": STATUS.ASSIGNED, "owner": holder.pk}


def test_beat_fires_a_due_lab_deadline_and_the_supervisors_get_a_task(celery_worker):
    from django.utils import timezone

    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=100)
    consignment = consignment_create(actor=importer_factory("late-lab"), part_one=part_one())
    inspector = UserFactory(username="ines-beat", roles=[Role.INSPECTOR])
    _documentary_check_done(consignment, inspector)
    from inspection.services.checks import identity_check_record
    from inspection.services.sampling import physical_check_record

    goods_arrived(consignment, inspector)
    task_complete_as(  # a physical check brings the identity check
        user=inspector,
        task=open_task(consignment, InspectionFlow.identity_check),
        record=lambda: identity_check_record(
            actor=inspector,
            consignment=consignment,
            seals_as_declared=True,
            goods_as_declared=True,
            result="satisfactory",
        ),
    )

    task_complete_as(
        user=inspector,
        task=open_task(consignment, InspectionFlow.physical_check),
        record=lambda: physical_check_record(
            actor=inspector,
            consignment=consignment,
            result="satisfactory",
            samples=[
                {
                    "analysis": "PEST_IDENTIFICATION",
                    "laboratory": "LTA972",
                    "reason": "random",
                    "conservation": "chilled",
                    "detained": True,
                }
            ],
        ),
    )
    Task.objects.filter(
        process__artifact_object_id=consignment.pk,
        status=STATUS.SCHEDULED,
        previous__flow_task=InspectionFlow.lab_result,
    ).update(scheduled=timezone.now())

    escalation = wait_for(lambda: open_task(consignment, InspectionFlow.late_lab_result), timeout=30)

    assert escalation is not None, "beat did not fire the due lab deadline"
    assert consignment.samples.get().status == "late"


def test_the_demo_runs_its_paths_on_postgres_and_the_worker_issues_every_certificate(celery_worker):
    from django.core.management import call_command
    from django.test import override_settings

    from inspection.models import Consignment

    with override_settings(DEBUG=True):
        call_command("demo", consignments=10, verbosity=0)
    statuses = set(Consignment.objects.values_list("status", flat=True))
    assert {"submitted", "accepted", "awaiting_decision", "awaiting_countersign", "closed"} <= statuses

    def all_jobs_done():
        jobs = Task.objects.filter(flow_task_type="JOB")
        return jobs.exists() and not jobs.exclude(status=STATUS.DONE).exists()

    assert wait_for(all_jobs_done, timeout=90), list(
        Task.objects.filter(flow_task_type="JOB").values_list("status", flat=True)
    )
