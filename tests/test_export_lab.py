"""Samples at the export inspection and the wait for their lab results, walked over HTTP: the inspector takes a
sample in the inspection's form (or the staff API), the flow waits for the lab's post to `/api/v1/lab-results/`,
then the certifying officer issues (a satisfactory result) or may only refuse. A late result escalates to the
supervisors; another lab, and another company, learn nothing of the sample."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.errors import NotPermitted, TransitionNotAllowed
from inspection.models import AuditEvent, ExportStatus, Laboratory, LabResult, Sample
from inspection.roles import Role
from inspection.services.export_samples import export_sample_take
from tests.conftest import api_client_for, export_certificate_job_run
from tests.factories import UserFactory
from tests.test_export_flow import (
    ISSUE,
    LIST,
    _actions,
    _client,
    _do,
    _documents_satisfactory,
    _offers,
    _open_task,
    _process,
    _submit,
)
from workflows.flows import ExportFlow
from workflows.tasks import workflow_timers_fire

pytestmark = pytest.mark.django_db

LAB_RESULTS = "/api/v1/lab-results/"
SAMPLED = {
    "result": "satisfactory",
    "notes": "No pest seen; leaf spots sent for identification",
    "sample_analysis": "PEST_IDENTIFICATION",
    "sample_laboratory": "ANSES-LSV",
    "sample_reason": "suspicion",
    "sample_conservation": "chilled",
}


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)


def _tasks(application, node, **filters):
    return Task.objects.filter(
        process__flow_class=ExportFlow, process__artifact_object_id=application.pk, flow_task=node, **filters
    )


def _sampled(exporter, inspector):
    """An application inspected over HTTP, with one sample taken at its inspection."""
    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, SAMPLED)
    return application


def _post_result(lab, number, conclusion="satisfactory"):
    return api_client_for(lab).post(LAB_RESULTS, {"sample": number, "conclusion": conclusion}, format="json")


def test_sample_at_the_inspection_waits_for_a_satisfactory_result_then_issues(exporter, inspector, officer, lab):
    application = _sampled(exporter, inspector)
    sample = application.samples.get()
    assert sample.number == f"{application.reference}-S1"
    assert sample.consignment is None and sample.detained and sample.status == Sample.Status.AWAITING
    assert sample.result_due_at > timezone.now() + datetime.timedelta(days=9)  # the analysis's 10 days
    # the certificate waits: no decision task until the result is in
    assert not _tasks(application, ExportFlow.decide).exists()
    assert _tasks(application, ExportFlow.lab_result, status=STATUS.NEW).count() == 1

    posted = _post_result(lab, sample.number)
    assert posted.status_code == 201, posted.json()
    assert posted.json() == {**posted.json(), "sample": sample.number, "conclusion": "satisfactory", "late": False}
    task = _open_task(application, ExportFlow.decide)
    client = _client(officer)
    client.post(task.reverse("assign"))
    form = client.get(task.reverse("execute")).content.decode()
    assert sample.number in form and "Satisfactory" in form  # the decision form shows the lab results
    assert _offers(form, "issue")
    assert client.post(task.reverse("execute"), ISSUE).status_code == 302
    export_certificate_job_run(application.reference)
    application.refresh_from_db()
    assert application.status == ExportStatus.ISSUED and _process(application).status == STATUS.DONE
    assert _actions(application) == [
        "export.created",
        "export.submitted",
        "export.checked",
        "export.checked",
        "export.sampled",
        "lab_result.recorded",
        "export.issue_decided",
        "phyto.issued",
    ]
    # the exporter follows the sample and its result in the application's timeline
    timeline = api_client_for(exporter).get(f"{LIST}{application.reference}/").json()["timeline"]
    outcomes = {t["step"]: t["outcome"] for t in timeline}
    assert outcomes["sample"] == sample.number and outcomes["lab_result"] == f"{sample.number}: Satisfactory"
    # a consignment's trail has none of it
    assert not AuditEvent.objects.filter(action="lab_result.recorded").exclude(consignment=None).exists()


def test_a_result_not_satisfactory_allows_only_a_refusal(exporter, inspector, officer, lab):
    application = _sampled(exporter, inspector)
    number = application.samples.get().number
    assert _post_result(lab, number, "not_satisfactory").status_code == 201

    task = _open_task(application, ExportFlow.decide)
    client = _client(officer)
    client.post(task.reverse("assign"))
    form = client.get(task.reverse("execute")).content.decode()
    assert _offers(form, "refuse") and not _offers(form, "issue")
    refused = client.post(task.reverse("execute"), ISSUE)
    assert refused.status_code == 200  # the form again, with its error
    application.refresh_from_db()
    assert application.status == ExportStatus.CHECKING and application.decided_by is None
    # the staff API says why
    response = api_client_for(officer).post(f"{LIST}{application.reference}/issue/", format="json")
    assert response.status_code == 409, response.json()
    assert number in str(response.json()) and "not satisfactory" in str(response.json())

    reason = "Quarantine pest identified in the sample"
    done = client.post(task.reverse("execute"), {"decision": "refuse", "reason": reason})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == ExportStatus.REFUSED and application.refusal_reason == reason
    assert _process(application).status == STATUS.DONE


def test_not_interpretable_also_blocks_the_issue(exporter, inspector, officer, lab):
    application = _sampled(exporter, inspector)
    _post_result(lab, application.samples.get().number, "not_interpretable")
    response = api_client_for(officer).post(f"{LIST}{application.reference}/issue/", format="json")
    assert response.status_code == 409
    application.refresh_from_db()
    assert application.decided_by is None


def test_a_late_result_escalates_and_still_counts(exporter, inspector, supervisor, officer, lab):
    application = _sampled(exporter, inspector)
    past = timezone.now() - datetime.timedelta(minutes=1)
    application.samples.update(result_due_at=past)
    Task.objects.filter(
        process__flow_class=ExportFlow,
        process__artifact_object_id=application.pk,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
    ).update(scheduled=past)

    assert workflow_timers_fire() >= 1
    escalation = _tasks(application, ExportFlow.late_lab_result).get()
    assert escalation.status == STATUS.NEW
    sample = application.samples.get()
    assert sample.status == Sample.Status.LATE
    assert "lab_result.late" in _actions(application)
    assert not _tasks(application, ExportFlow.decide).exists()

    # the supervisor chases the lab and keeps waiting
    _do(supervisor, application, ExportFlow.late_lab_result, {"action_taken": "Phoned the lab", "waive": "0"})
    assert "escalation.acknowledged" in _actions(application)
    assert not _tasks(application, ExportFlow.decide).exists()
    # the supervisors are asked again PIF_LAB_CHASE_DAYS later, while the result has not come
    chase = _tasks(application, ExportFlow.chase_lab, status=STATUS.SCHEDULED).get()
    assert chase.scheduled > timezone.now() + datetime.timedelta(days=1, hours=23)
    Task.objects.filter(pk=chase.pk).update(scheduled=past)
    workflow_timers_fire()
    again = _tasks(application, ExportFlow.late_lab_result, status=STATUS.NEW).get()
    assert again.pk != escalation.pk

    # the result comes: the escalation still open is moot
    posted = _post_result(lab, sample.number)
    assert posted.status_code == 201 and posted.json()["late"] is True
    assert _tasks(application, ExportFlow.decide, status=STATUS.NEW).exists()
    again.refresh_from_db()
    assert again.status == STATUS.CANCELED
    response = api_client_for(officer).post(f"{LIST}{application.reference}/issue/", format="json")
    assert response.status_code == 202, response.json()


def test_a_waived_result_leaves_only_a_refusal(exporter, inspector, supervisor, officer):
    application = _sampled(exporter, inspector)
    past = timezone.now() - datetime.timedelta(minutes=1)
    application.samples.update(result_due_at=past)
    Task.objects.filter(
        process__flow_class=ExportFlow, process__artifact_object_id=application.pk, flow_task_type="TIMER"
    ).update(scheduled=past)
    workflow_timers_fire()
    escalation = _open_task(application, ExportFlow.late_lab_result)
    client = _client(supervisor)
    client.post(escalation.reverse("assign"))
    form = client.get(escalation.reverse("execute")).content.decode()
    assert "The export application" in form and "can then only be refused" in form
    waived = client.post(escalation.reverse("execute"), {"action_taken": "The lab closed", "waive": "1"})
    assert waived.status_code == 302
    assert application.samples.get().status == Sample.Status.WAIVED
    assert _tasks(application, ExportFlow.decide, status=STATUS.NEW).exists()
    response = api_client_for(officer).post(f"{LIST}{application.reference}/issue/", format="json")
    assert response.status_code == 409
    assert "decided not to wait" in str(response.json())
    response = api_client_for(officer).post(
        f"{LIST}{application.reference}/refuse/", {"reason": "No lab result"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_another_lab_cannot_post_for_the_sample(exporter, inspector):
    application = _sampled(exporter, inspector)
    number = application.samples.get().number
    other_lab = UserFactory(username="lta", roles=[Role.LAB])
    other_lab.laboratories.set(Laboratory.objects.filter(code="LTA972"))
    response = _post_result(other_lab, number)
    assert response.status_code == 404 and number in response.json()["sample"][0]
    assert not LabResult.objects.exists()
    assert not _tasks(application, ExportFlow.decide).exists()


def test_another_company_sees_nothing(exporter, other_exporter, importer, inspector):
    application = _sampled(exporter, inspector)
    assert api_client_for(other_exporter).get(f"{LIST}{application.reference}/").status_code == 404
    assert application.reference not in str(api_client_for(other_exporter).get(LIST).json())
    number = application.samples.get().number
    label = _client(importer).get(f"/workflow/samples/{number}/label/")
    assert label.status_code in (302, 403, 404)  # staff only
    assert _client(inspector).get(f"/workflow/samples/{number}/label/").status_code == 200


def test_the_staff_api_takes_the_sample_with_the_inspection(exporter, inspector, lab):
    application = _submit(exporter)
    api = api_client_for(inspector)
    documents = _documents_satisfactory(application)
    response = api.post(
        f"{LIST}{application.reference}/checks/",
        {"kind": "documentary", "result": "satisfactory", "requirements_met": documents["requirements_met"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    sample = {"analysis": "NOPE", "laboratory": "ANSES-LSV", "reason": "random", "conservation": "ambient"}
    body = {"kind": "inspection", "result": "satisfactory", "sample": sample}
    refused = api.post(f"{LIST}{application.reference}/checks/", body, format="json")
    assert refused.status_code == 400 and "sample_analysis" in refused.json()
    assert not application.checks.filter(kind="inspection").exists()  # both or neither
    body["sample"]["analysis"] = "PEST_IDENTIFICATION"
    assert api.post(f"{LIST}{application.reference}/checks/", body, format="json").status_code == 201
    assert application.samples.get().reason == "random"
    assert _tasks(application, ExportFlow.lab_result, status=STATUS.NEW).exists()


def test_an_inspection_without_a_sample_goes_straight_to_the_decision(exporter, inspector):
    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, {"result": "satisfactory", "notes": ""})
    assert not application.samples.exists()
    assert _tasks(application, ExportFlow.decide, status=STATUS.NEW).exists()


def test_only_an_inspector_samples_and_only_while_checking(exporter, lab, inspector):
    application = _submit(exporter)
    args = {"analysis": "PEST_IDENTIFICATION", "laboratory": "LTA972", "reason": "random", "conservation": "ambient"}
    for someone in (exporter, lab):
        with pytest.raises(NotPermitted):
            export_sample_take(actor=someone, application=application, **args)
    with pytest.raises(TransitionNotAllowed):  # submitted, not yet checked
        export_sample_take(actor=inspector, application=application, **args)
    assert not Sample.objects.exists()


def test_a_sample_belongs_to_a_consignment_or_an_application_not_both(exporter, inspector, consignment):
    application = _sampled(exporter, inspector)
    sample = application.samples.get()
    sample.consignment = consignment
    with pytest.raises(IntegrityError), transaction.atomic():
        sample.save()
    sample.consignment, sample.application = None, None
    with pytest.raises(IntegrityError), transaction.atomic():
        sample.save()


def test_after_an_unsatisfactory_inspection_the_officer_refuses_without_waiting_for_the_lab(
    exporter, inspector, officer, lab
):
    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, {**SAMPLED, "result": "not_satisfactory"})
    sample = application.samples.get()
    assert not _tasks(application, ExportFlow.lab_result).exists()
    task = _open_task(application, ExportFlow.decide)
    client = _client(officer)
    client.post(task.reverse("assign"))
    form = client.get(task.reverse("execute")).content.decode()
    assert not _offers(form, "issue")
    # the result that still comes is recorded on the application's trail
    assert _post_result(lab, sample.number).status_code == 201
    assert LabResult.objects.filter(sample=sample).exists()
    assert "lab_result.recorded" in _actions(application)
