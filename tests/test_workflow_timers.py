"""Deadlines fired by celery beat's task: a late lab result and a documentary check not started in time
escalate to the supervisors' task list."""

import datetime

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditEvent, Sample
from tests.conftest import api_client_for
from tests.test_workflow_paths import _do, _documentary_ok, _rates, _sampled, _submit
from workflows.flows import InspectionFlow
from workflows.tasks import workflow_timers_fire

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _tasks(consignment, node, **filters):
    return Task.objects.filter(process__artifact_object_id=consignment.pk, flow_task=node, **filters)


def _lab_deadline_passes(consignment):
    """The samples' result deadline is a minute ago, and so is their timers' (beat has not run yet)."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    consignment.samples.update(result_due_at=past)
    Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=past)


def _detained(importer, inspector):
    return _sampled(
        importer, inspector, detained=True, analysis="PEST_IDENTIFICATION", reason="suspicion", conservation="chilled"
    )


def test_lab_deadline_is_the_analysis_deadline(importer, inspector):
    consignment = _detained(importer, inspector)
    sample = consignment.samples.get()
    timer = Task.objects.get(
        process__artifact_object_id=consignment.pk,
        status=STATUS.SCHEDULED,
        previous__flow_task=InspectionFlow.lab_result,
    )
    assert timer.scheduled == sample.result_due_at
    assert (sample.result_due_at - sample.taken_at).days == 10  # pest identification: 10 days


def test_late_lab_result_escalates_and_the_late_result_still_counts(importer, inspector, officer, supervisor, lab):
    consignment = _detained(importer, inspector)
    _lab_deadline_passes(consignment)

    assert workflow_timers_fire() >= 1

    escalation = _tasks(consignment, InspectionFlow.late_lab_result).get()
    assert escalation.status == STATUS.NEW
    sample = consignment.samples.get()
    assert Sample.objects.get(pk=sample.pk).status == Sample.Status.LATE
    assert AuditEvent.objects.filter(consignment=consignment, action="lab_result.late").count() == 1

    posted = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": sample.number, "conclusion": "satisfactory"}, format="json"
    )
    assert posted.status_code == 201 and posted.json()["late"] is True
    # the result is in: the decision does not wait for the supervisor, whose task is now moot
    assert _tasks(consignment, InspectionFlow.decide, status=STATUS.NEW).exists()
    assert _tasks(consignment, InspectionFlow.late_lab_result).get().status == STATUS.CANCELED


def test_a_supervisor_answer_before_the_late_result_keeps_the_wait(importer, inspector, supervisor, lab):
    consignment = _detained(importer, inspector)
    _lab_deadline_passes(consignment)
    workflow_timers_fire()
    _do(supervisor, consignment, InspectionFlow.late_lab_result, {"action_taken": "Phoned the lab"})
    assert not _tasks(consignment, InspectionFlow.decide).exists()
    number = consignment.samples.get().number
    api_client_for(lab).post("/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json")
    assert _tasks(consignment, InspectionFlow.decide, status=STATUS.NEW).exists()


def test_a_result_the_supervisor_keeps_waiting_for_is_asked_about_again_until_it_comes(
    importer, inspector, supervisor, lab
):
    """Keeping the wait does not end the escalation: every PIF_LAB_CHASE_DAYS without the result, the supervisors
    get the task again (the consignment is never left detained with nobody asked about it)."""
    consignment = _detained(importer, inspector)
    _lab_deadline_passes(consignment)
    workflow_timers_fire()
    for _round in range(2):
        _do(supervisor, consignment, InspectionFlow.late_lab_result, {"action_taken": "Phoned the lab"})
        chase = _tasks(consignment, InspectionFlow.chase_lab, status=STATUS.SCHEDULED).get()
        Task.objects.filter(pk=chase.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
        workflow_timers_fire()
        assert _tasks(consignment, InspectionFlow.late_lab_result, status=STATUS.NEW).count() == 1
    assert _tasks(consignment, InspectionFlow.late_lab_result, status=STATUS.DONE).count() == 2
    # the supervisor then decides without it: no more chasing, the decision is next
    _do(supervisor, consignment, InspectionFlow.late_lab_result, {"action_taken": "The lab closed", "waive": "1"})
    assert not _tasks(consignment, InspectionFlow.chase_lab, status=STATUS.SCHEDULED).exists()
    assert _tasks(consignment, InspectionFlow.decide, status=STATUS.NEW).exists()


def test_a_result_that_comes_while_the_lab_is_to_be_chased_again_ends_the_wait(importer, inspector, supervisor, lab):
    consignment = _detained(importer, inspector)
    _lab_deadline_passes(consignment)
    workflow_timers_fire()
    _do(supervisor, consignment, InspectionFlow.late_lab_result, {"action_taken": "Phoned the lab"})
    chase = _tasks(consignment, InspectionFlow.chase_lab, status=STATUS.SCHEDULED).get()
    number = consignment.samples.get().number
    api_client_for(lab).post("/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json")
    assert _tasks(consignment, InspectionFlow.decide, status=STATUS.NEW).exists()
    chase.refresh_from_db()
    assert chase.status == STATUS.CANCELED


def test_a_released_samples_late_result_is_asked_about_again(importer, inspector, supervisor, lab):
    """Goods released pending a result: a late result escalates; while the supervisors keep waiting they are asked
    again every PIF_LAB_CHASE_DAYS; once the result is in, the next reminder asks nobody."""
    consignment = _sampled(
        importer, inspector, detained=False, analysis="PEST_IDENTIFICATION", reason="random", conservation="chilled"
    )
    _lab_deadline_passes(consignment)
    workflow_timers_fire()
    assert _tasks(consignment, InspectionFlow.late_released_result, status=STATUS.NEW).count() == 1
    _do(supervisor, consignment, InspectionFlow.late_released_result, {"action_taken": "Phoned the lab"})
    chase = _tasks(consignment, InspectionFlow.chase_released, status=STATUS.SCHEDULED).get()
    Task.objects.filter(pk=chase.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
    workflow_timers_fire()
    assert _tasks(consignment, InspectionFlow.late_released_result, status=STATUS.NEW).count() == 1

    _do(supervisor, consignment, InspectionFlow.late_released_result, {"action_taken": "Phoned again"})
    number = consignment.samples.get().number
    posted = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json"
    )
    assert posted.status_code == 201
    chase = _tasks(consignment, InspectionFlow.chase_released, status=STATUS.SCHEDULED).get()
    Task.objects.filter(pk=chase.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
    workflow_timers_fire()
    # the result is in: nobody is asked again
    assert not _tasks(consignment, InspectionFlow.late_released_result, status=STATUS.NEW).exists()
    assert not _tasks(consignment, InspectionFlow.chase_released, status=STATUS.SCHEDULED).exists()


def test_documentary_check_not_started_before_arrival_escalates(importer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now())
    workflow_timers_fire()
    assert _tasks(consignment, InspectionFlow.documentary_check_late, status=STATUS.NEW).exists()
    assert _tasks(consignment, InspectionFlow.documentary_check, status=STATUS.NEW).exists()  # still to do


def test_unknown_sample_and_wrong_role_are_refused(lab, importer):
    response = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": "NOPE-S1", "conclusion": "satisfactory"}, format="json"
    )
    assert response.status_code == 404 and "NOPE-S1" in response.json()["sample"][0]
    response = api_client_for(importer).post(
        "/api/v1/lab-results/", {"sample": "X", "conclusion": "satisfactory"}, format="json"
    )
    assert response.status_code == 403


def test_a_different_second_result_is_a_conflict(importer, inspector, lab):
    consignment = _detained(importer, inspector)
    number = consignment.samples.get().number
    client = api_client_for(lab)
    assert (
        client.post("/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json").status_code
        == 201
    )
    response = client.post("/api/v1/lab-results/", {"sample": number, "conclusion": "not_satisfactory"}, format="json")
    assert response.status_code == 409 and "already has a result" in response.json()["detail"]


def test_report_must_be_a_pdf(importer, inspector, lab):
    from django.core.files.uploadedfile import SimpleUploadedFile

    consignment = _detained(importer, inspector)
    number = consignment.samples.get().number
    fake = SimpleUploadedFile("report.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory", "report": fake}, format="multipart"
    )
    assert response.status_code == 400 and "PDF" in str(response.json())


def test_follow_up_not_done_by_the_measure_deadline_escalates(importer, inspector, officer, supervisor):
    from tests.test_workflow_paths import _refuse, _run_certificate_job

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    _run_certificate_job(consignment)
    timer = Task.objects.get(
        process__artifact_object_id=consignment.pk,
        status=STATUS.SCHEDULED,
        previous__flow_task=InspectionFlow.follow_up,
    )
    deadline = consignment.decisions.get().measure_deadline
    assert timezone.localtime(timer.scheduled).date() == deadline + datetime.timedelta(days=1)

    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now())
    workflow_timers_fire()

    assert _tasks(consignment, InspectionFlow.follow_up_late, status=STATUS.NEW).exists()
    assert _tasks(consignment, InspectionFlow.follow_up, status=STATUS.NEW).exists()


def test_a_lab_posts_only_for_its_own_samples(importer, inspector):
    from inspection.models import Laboratory
    from inspection.roles import Role
    from tests.factories import UserFactory

    consignment = _detained(importer, inspector)  # sample sent to LTA972
    other_lab = UserFactory(username="anses", roles=[Role.LAB])
    Laboratory.objects.get(code="ANSES-LSV").accounts.add(other_lab)
    number = consignment.samples.get().number
    response = api_client_for(other_lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json"
    )
    assert response.status_code == 404
    assert consignment.samples.get().status == "awaiting"


@pytest.mark.parametrize("body", [[1, 2], "just text", 42])
def test_malformed_lab_bodies_are_400(lab, body):
    response = api_client_for(lab).post("/api/v1/lab-results/", body, format="json")
    assert response.status_code == 400


def test_an_extra_file_in_a_lab_post_is_no_500(importer, inspector, lab):
    from django.core.files.uploadedfile import SimpleUploadedFile

    consignment = _detained(importer, inspector)
    number = consignment.samples.get().number
    photo = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    response = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory", "photo": photo}, format="multipart"
    )
    assert response.status_code == 201


def test_the_staff_dashboard_loads_with_a_certificate_job_waiting(importer, inspector, officer, supervisor):
    from django.test import Client

    from tests.test_workflow_paths import ACCEPT

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)  # the job is now SCHEDULED
    client = Client()
    client.force_login(supervisor)
    for url in ("/workflow/", "/workflow/inspection/", "/workflow/inspection/queue/", "/workflow/inspection/chart/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url


def test_a_supervisor_can_decide_without_a_result_that_never_comes(importer, inspector, supervisor, lab):
    consignment = _detained(importer, inspector)
    _lab_deadline_passes(consignment)
    workflow_timers_fire()

    _do(
        supervisor,
        consignment,
        InspectionFlow.late_lab_result,
        {"action_taken": "Lab analyser broken for two weeks; goods perishable", "waive": "1"},
    )

    assert consignment.status == "awaiting_decision"
    assert consignment.samples.get().status == "waived"
    assert _tasks(consignment, InspectionFlow.lab_result).get().status == STATUS.CANCELED
    assert _tasks(consignment, InspectionFlow.decide, status=STATUS.NEW).exists()
    # the result still arrives later: it is recorded, and moves nothing by itself
    number = consignment.samples.get().number
    posted = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json"
    )
    assert posted.status_code == 201
