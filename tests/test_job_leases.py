"""Flow jobs with a lease (issue 15): a job whose worker died while running it is sent again by beat once its lease
expires, whatever the broker does; one that keeps dying becomes an incident for the supervisors."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _submit
from workflows.engine import flow_job_run, flow_jobs_resend, stuck_jobs
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _decided(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    return consignment, Task.objects.get(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.issue_certificate
    )


def _worker_died(job, *, attempts, lease_left):
    """As a worker SIGKILLed while running the job leaves it: STARTED, its lease running out."""
    Task.objects.filter(pk=job.pk).update(
        status=STATUS.STARTED, scheduled=timezone.now() + lease_left, data={"attempts": attempts}
    )


def test_a_run_records_its_lease_and_attempt(importer, inspector, officer, settings):
    consignment, job = _decided(importer, inspector, officer)
    assert flow_job_run.run(job.flow_task.activation_class(job).ref()) == "done"
    job.refresh_from_db()
    assert job.status == STATUS.DONE and job.data["attempts"] == 1
    assert job.started < job.scheduled <= job.started + datetime.timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS)


def test_a_job_whose_worker_died_is_sent_again_and_done_once(importer, inspector, officer):
    consignment, job = _decided(importer, inspector, officer)
    _worker_died(job, attempts=1, lease_left=datetime.timedelta(minutes=2))
    assert flow_jobs_resend.run() == 0  # its lease still runs: the worker may be alive
    _worker_died(job, attempts=1, lease_left=datetime.timedelta(seconds=-1))
    assert list(stuck_jobs()) == [job]
    assert flow_jobs_resend.run() == 1

    ref = job.flow_task.activation_class(job).ref()
    assert flow_job_run.run(ref) == "done"  # the delivery beat sent
    assert flow_job_run.run(ref) == "already done"  # and the broker's own redelivery, later
    job.refresh_from_db()
    assert job.status == STATUS.DONE and job.data["attempts"] == 2
    assert consignment.certificates.filter(kind="ched", status="valid").count() == 1
    assert not stuck_jobs().exists()


def test_a_job_whose_workers_keep_dying_becomes_an_incident(importer, inspector, officer, supervisor, settings):
    consignment, job = _decided(importer, inspector, officer)
    _worker_died(job, attempts=settings.PIF_JOB_ATTEMPTS, lease_left=datetime.timedelta(seconds=-1))
    assert flow_jobs_resend.run() == 0
    job.refresh_from_db()
    assert job.status == STATUS.ERROR
    assert "without finishing" in job.data["_exception"]["title"]

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    page = client.get("/workflow/incidents/").content.decode()
    assert consignment.reference in page and "without finishing" in page


def test_a_job_never_picked_up_is_sent_again_and_listed_as_late(importer, inspector, officer, supervisor, settings):
    consignment, job = _decided(importer, inspector, officer)
    Task.objects.filter(pk=job.pk).update(
        created=timezone.now() - datetime.timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS + 1)
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    late = client.get("/workflow/incidents/").content.decode().split("Jobs running late")[1]
    assert consignment.reference in late
    assert flow_jobs_resend.run() == 1


def test_a_stuck_job_is_sent_again_once_per_lease_not_at_every_beat(importer, inspector, officer, settings):
    """Beat runs every minute; a job whose message waits behind a backlog must not get a delivery per beat (each
    would count an attempt and make an incident of a job nobody killed)."""
    consignment, job = _decided(importer, inspector, officer)
    _worker_died(job, attempts=1, lease_left=datetime.timedelta(seconds=-1))
    before = timezone.now()
    assert flow_jobs_resend.run() == 1
    job.refresh_from_db()
    assert job.status == STATUS.STARTED and job.data["attempts"] == 1  # sending counts no attempt
    assert job.scheduled >= before + datetime.timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS)
    assert flow_jobs_resend.run() == 0  # the next beats: the send has its lease
    assert flow_jobs_resend.run() == 0
    Task.objects.filter(pk=job.pk).update(scheduled=timezone.now() - datetime.timedelta(seconds=1))
    assert flow_jobs_resend.run() == 1  # a lease later, still not done: once more


def test_a_job_never_picked_up_is_sent_once_per_lease_and_counts_no_attempt(importer, inspector, officer, settings):
    consignment, job = _decided(importer, inspector, officer)
    # a job a supervisor retried carries the data of the failed one; a broker down at its commit left it SCHEDULED
    Task.objects.filter(pk=job.pk).update(
        created=timezone.now() - datetime.timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS + 1),
        data={"attempts": settings.PIF_JOB_ATTEMPTS},
    )
    assert flow_jobs_resend.run() == 1  # sent, never an incident: it never started
    assert flow_jobs_resend.run() == 0
    job.refresh_from_db()
    assert job.status == STATUS.SCHEDULED and job.data["attempts"] == settings.PIF_JOB_ATTEMPTS
    Task.objects.filter(pk=job.pk).update(scheduled=timezone.now() - datetime.timedelta(seconds=1))
    assert flow_jobs_resend.run() == 1


def test_a_retried_incident_starts_with_a_fresh_count_of_attempts(importer, inspector, officer, supervisor, settings):
    from workflows.incidents import job_retry

    consignment, job = _decided(importer, inspector, officer)
    _worker_died(job, attempts=settings.PIF_JOB_ATTEMPTS, lease_left=datetime.timedelta(seconds=-1))
    flow_jobs_resend.run()
    job.refresh_from_db()
    assert job.status == STATUS.ERROR
    revived = job_retry(actor=supervisor, task=job, reason="disk freed")
    assert revived.status == STATUS.SCHEDULED and "attempts" not in revived.data
    assert flow_job_run.run(revived.flow_task.activation_class(revived).ref()) == "done"
    revived.refresh_from_db()
    assert revived.data["attempts"] == 1
    assert consignment.certificates.filter(kind="ched", status="valid").count() == 1
