"""Our nodes (`workflows/engine/`) keep what viewflow's do, and add what the flow needs: a gateway's task
is linked to the task before it, a failing condition after a job fails the job (retried, then an incident), a done
check cancels its deadline, a step that fails leaves its task unclaimed, and a task is reached only under
its own process."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.errors import DomainInvalid, PartOneInvalid
from inspection.models import AuditEvent, Consignment, DocumentaryCheck
from inspection.services.checks import documentary_check_record
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _open_task, _rates, _submit
from workflows.engine import flow_job_run
from workflows.flows import InspectionFlow
from workflows.steps import task_complete_as
from workflows.tasks import workflow_timers_fire

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _task(consignment, node):
    return Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=node)


def test_a_gateway_task_is_written_done_and_linked_to_the_task_before_it(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    gateway = _task(consignment, InspectionFlow.after_documents)
    assert gateway.status == STATUS.DONE and gateway.finished is not None
    assert list(gateway.previous.all()) == [_task(consignment, InspectionFlow.documentary_check)]
    assert list(_task(consignment, InspectionFlow.decide).previous.all()) == [gateway]


def test_a_done_documentary_check_cancels_its_deadline(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    timer = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task_type="TIMER")
    assert timer.status == STATUS.CANCELED and timer.finished is not None
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
    workflow_timers_fire()
    assert not Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check_late
    ).exists()


def test_a_failing_condition_after_the_job_is_retried_then_an_incident_a_supervisor_retries(
    importer, inspector, officer, supervisor, monkeypatch
):
    from workflows.incidents import incidents, job_retry

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)

    def broken(consignment):
        raise RuntimeError("the decision cannot be read")

    monkeypatch.setattr("workflows.flows.follow_up_needed", broken)  # read by the gateway after the job
    job = _task(consignment, InspectionFlow.issue_certificate)
    ref = job.flow_task.activation_class(job).ref()
    with pytest.raises(RuntimeError):  # a first failure: a worker retries the job later (a direct call re-raises)
        flow_job_run.run(ref)
    assert _task(consignment, InspectionFlow.issue_certificate).status == STATUS.STARTED  # not an incident yet
    flow_job_run.push_request(retries=flow_job_run.max_retries)  # the last automatic retry
    try:
        with pytest.raises(RuntimeError, match="the decision cannot be read"):
            flow_job_run.run(ref)
    finally:
        flow_job_run.pop_request()

    job = _task(consignment, InspectionFlow.issue_certificate)
    assert job.status == STATUS.ERROR and list(incidents()) == [job]
    assert "the decision cannot be read" in job.data["_exception"]["title"]
    assert not Task.objects.filter(flow_task=InspectionFlow.needs_follow_up).exists()  # rolled back with it
    assert consignment.certificates.count() == 1  # the work itself was done once

    monkeypatch.undo()
    revived = job_retry(actor=supervisor, task=job, reason="fixed")
    assert flow_job_run.run(revived.flow_task.activation_class(revived).ref()) == "done"
    assert _task(consignment, InspectionFlow.needs_follow_up).status == STATUS.DONE
    assert consignment.certificates.count() == 1 and list(incidents()) == []


def test_a_step_driven_from_code_that_fails_leaves_its_task_unclaimed(importer, inspector):
    consignment = _submit(importer)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    with pytest.raises(DomainInvalid):
        task_complete_as(
            user=inspector,
            task=task,
            record=lambda: documentary_check_record(
                actor=inspector, consignment=consignment, verdicts={}, result="satisfactory"
            ),
        )
    task.refresh_from_db()
    assert task.status == STATUS.NEW and task.owner is None and task.started is None


def test_a_step_refused_after_its_service_wrote_leaves_nothing_written(importer, inspector):
    """Services take no savepoint inside a step (inspection.atomic): a refusal after a first write rolls
    back the whole step, the write included."""
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    verdicts = {d.pk: (True, True) for d in consignment.documents.all()}

    def record():
        documentary_check_record(actor=inspector, consignment=consignment, verdicts=verdicts, result="satisfactory")
        raise PartOneInvalid({"": ["refused after the write"]})

    with pytest.raises(PartOneInvalid):
        task_complete_as(user=inspector, task=task, record=record)
    task.refresh_from_db()
    assert task.status == STATUS.NEW and task.owner is None
    assert not DocumentaryCheck.objects.filter(consignment=consignment).exists()
    assert not AuditEvent.objects.filter(consignment=consignment, action="documentary_check.recorded").exists()
    assert Consignment.objects.get(pk=consignment.pk).status == "submitted"


def test_a_step_driven_from_code_refuses_another_consignment_than_its_own(importer, inspector):
    first, second = _submit(importer), _submit(importer)
    task = _open_task(first, InspectionFlow.documentary_check)
    with pytest.raises(ValueError, match="is not the consignment"):
        task_complete_as(user=inspector, task=task, record=lambda: None, consignment=second)
    task.refresh_from_db()
    assert task.status == STATUS.NEW and task.owner is None


def test_a_task_is_reached_only_under_its_own_process(importer, inspector):
    first, second = _submit(importer), _submit(importer)
    task = _open_task(first, InspectionFlow.documentary_check)
    other_process = _open_task(second, InspectionFlow.documentary_check).process_id
    client = Client()
    client.force_login(inspector)
    wrong = task.reverse("assign").replace(f"/{task.process_id}/", f"/{other_process}/")
    assert client.post(wrong).status_code == 404
    assert client.post(task.reverse("assign")).status_code == 302
    assert client.post(task.reverse("execute").replace(f"/{task.process_id}/", f"/{other_process}/")).status_code == 404


def test_only_the_owner_executes_a_claimed_task(importer, inspector, officer):
    consignment = _submit(importer)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client()
    client.force_login(inspector)
    assert client.post(task.reverse("assign")).status_code == 302
    client.force_login(officer)
    assert client.post(task.reverse("execute"), _documentary_ok(consignment)).status_code == 403
    assert client.post(task.reverse("assign")).status_code == 403
