"""Every path of the export flow, walked over HTTP as the users would: the exporter submits through the API,
inspectors and certifying officers claim and execute their tasks in the staff UI (the queue, the day page,
the task forms), and the certificate job runs as the worker would run it. Who may do which step, and what a
refused input leaves behind (nothing)."""

import pytest
from django.test import Client
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditEvent, ExportApplication, ExportStatus, Membership, PhytosanitaryCertificate
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for, export_certificate_job_run
from tests.factories import destination_requirement, export_application, part_one, requirements_in_force
from workflows.flows import ExportFlow

pytestmark = pytest.mark.django_db

LIST = "/api/v1/exports/"


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)


def _submit(exporter, **overrides) -> ExportApplication:
    response = api_client_for(exporter).post(LIST, {**export_application(**overrides), "draft": False}, format="json")
    assert response.status_code == 201, response.json()
    return ExportApplication.objects.get(reference=response.json()["reference"])


def _open_task(application, node) -> Task:
    return Task.objects.get(
        process__artifact_object_id=application.pk, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _do(user, application, node, data):
    """Claim the task as `user` and send its form; returns the execute response."""
    task = _open_task(application, node)
    client = _client(user)
    assert client.post(task.reverse("assign")).status_code == 302, f"{user} could not claim {node.name}"
    response = client.post(task.reverse("execute"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    application.refresh_from_db()
    return response


def _actions(application) -> list[str]:
    events = AuditEvent.objects.filter(consignment=None, data__export=application.reference).order_by("seq")
    return list(events.values_list("action", flat=True))


def _process(application) -> Process:
    return Process.objects.get(flow_class=ExportFlow, artifact_object_id=application.pk)


def _offers(form: str, value) -> bool:
    """Whether a choice field of the task form (drawn as a Material web component) offers `value`."""
    return f"&quot;value&quot;: &quot;{value}&quot;" in form


SATISFACTORY = {"result": "satisfactory", "notes": ""}
ISSUE = {"decision": "issue", "reason": ""}


def _documents_satisfactory(application) -> dict:
    """A satisfactory documentary check confirms each of the destination's requirements in force."""
    return {**SATISFACTORY, "requirements_met": requirements_in_force(application.reference)}


def test_issued_after_documentary_check_and_inspection(exporter, inspector, officer):
    application = _submit(exporter)
    assert _open_task(application, ExportFlow.documentary_check).status == STATUS.NEW

    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    assert application.status == ExportStatus.CHECKING
    _do(
        inspector, application, ExportFlow.inspection, {"result": "satisfactory", "notes": "No pest found on 600 hands"}
    )
    _do(officer, application, ExportFlow.decide, ISSUE)
    assert application.status == ExportStatus.CHECKING and application.decided_by == officer
    job = _open_job(application)
    assert job.status == STATUS.SCHEDULED  # sent to the worker once the decision committed
    export_certificate_job_run(application.reference)

    application.refresh_from_db()
    assert application.status == ExportStatus.ISSUED
    assert _process(application).status == STATUS.DONE
    certificate = PhytosanitaryCertificate.objects.get(application=application)
    assert certificate.number == f"{application.reference}-P1" and certificate.kind == "export"
    assert _actions(application) == [
        "export.created",
        "export.submitted",
        "export.checked",
        "export.checked",
        "export.issue_decided",
        "phyto.issued",
    ]
    issued = AuditEvent.objects.get(action="phyto.issued", data__export=application.reference)
    assert issued.actor == officer  # in the name of the officer who decided
    seen = api_client_for(exporter).get(f"{LIST}{application.reference}/").json()
    assert seen["status"] == "issued" and [c["number"] for c in seen["certificates"]] == [certificate.number]


def _open_job(application) -> Task:
    return Task.objects.get(process__artifact_object_id=application.pk, flow_task=ExportFlow.issue_certificate)


def test_documents_not_satisfactory_go_straight_to_a_refusal(exporter, inspector, officer):
    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, {"result": "not_satisfactory", "notes": "No invoice"})
    assert not Task.objects.filter(process__artifact_object_id=application.pk, flow_task=ExportFlow.inspection)
    task = _open_task(application, ExportFlow.decide)
    client = _client(officer)
    client.post(task.reverse("assign"))
    form = client.get(task.reverse("execute")).content.decode()
    assert _offers(form, "refuse") and not _offers(form, "issue")  # only a refusal can follow
    no_reason = client.post(task.reverse("execute"), {"decision": "refuse", "reason": ""})
    assert (
        no_reason.status_code == 200 and "Give the reason for refusing the certificate." in no_reason.content.decode()
    )
    application.refresh_from_db()
    assert application.status == ExportStatus.CHECKING  # nothing of the refused step written
    assert client.post(task.reverse("execute"), {"decision": "refuse", "reason": "Invoice missing"}).status_code == 302

    application.refresh_from_db()
    assert application.status == ExportStatus.REFUSED and application.refusal_reason == "Invoice missing"
    assert _process(application).status == STATUS.DONE
    assert not Task.objects.filter(process__artifact_object_id=application.pk, flow_task=ExportFlow.issue_certificate)
    assert _actions(application)[-1] == "export.refused"
    assert not PhytosanitaryCertificate.objects.exists()


def test_pest_found_at_inspection_is_refused(exporter, inspector, officer):
    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    unsaid = _client(inspector)
    task = _open_task(application, ExportFlow.inspection)
    unsaid.post(task.reverse("assign"))
    response = unsaid.post(task.reverse("execute"), {"result": "not_satisfactory", "notes": ""})
    assert response.status_code == 200 and "Say what was not satisfactory." in response.content.decode()
    assert not application.checks.filter(kind="inspection").exists()
    response = unsaid.post(task.reverse("execute"), {"result": "not_satisfactory", "notes": "Live thrips"})
    assert response.status_code == 302
    _do(officer, application, ExportFlow.decide, {"decision": "refuse", "reason": "Quarantine pest found"})
    assert application.status == ExportStatus.REFUSED
    assert _process(application).status == STATUS.DONE


def test_reexport_of_goods_that_came_in_under_a_ched_pp(exporter, importer, inspector, officer):
    Membership.objects.filter(user=importer).update(operator=exporter.membership.operator)
    importer.refresh_from_db()
    ched = consignment_create(actor=importer, part_one=part_one(), draft=True)
    reexport = {"original_certificate": "DO-2026-000123", "original_country": "DO", "ched_reference": ched.reference}
    application = _submit(exporter, kind="reexport", reexport=reexport)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, SATISFACTORY)
    _do(officer, application, ExportFlow.decide, ISSUE)
    export_certificate_job_run(application.reference)
    assert PhytosanitaryCertificate.objects.get(application=application).kind == "reexport"
    assert _process(application).status == STATUS.DONE


def test_the_documentary_check_confirms_each_requirement_of_the_destination(exporter, inspector):
    requirement = destination_requirement()
    application = _submit(exporter)
    task = _open_task(application, ExportFlow.documentary_check)
    client = _client(inspector)
    client.post(task.reverse("assign"))
    form = client.get(task.reverse("execute")).content.decode()
    assert "Test declaration on bananas" in form and _offers(form, requirement.pk)
    missing = client.post(task.reverse("execute"), SATISFACTORY)
    assert missing.status_code == 200 and "Confirm the destination" in missing.content.decode()
    assert not application.checks.exists()
    in_force = requirements_in_force(application.reference)  # the loaded rows for the destination, and this one
    assert requirement.pk in in_force
    done = client.post(task.reverse("execute"), {**SATISFACTORY, "requirements_met": [str(pk) for pk in in_force]})
    assert done.status_code == 302
    assert requirement.pk in [r["id"] for r in application.checks.get().requirements]


def test_each_step_is_for_its_role_only(exporter, inspector, officer, supervisor):
    application = _submit(exporter)
    documentary = _open_task(application, ExportFlow.documentary_check)
    for user in (exporter, supervisor):
        assert _client(user).post(documentary.reverse("assign")).status_code == 403
    # the exporter sees nothing of the staff UI
    assert _client(exporter).get("/workflow/export/queue/").status_code in (302, 403)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, SATISFACTORY)
    decide = _open_task(application, ExportFlow.decide)
    refused = _client(inspector).post(decide.reverse("assign"))
    assert refused.status_code == 403 and "not for your role" in refused.content.decode()
    assert _client(exporter).post(decide.reverse("assign")).status_code == 403
    # nor through the API: the staff actions are the same steps
    assert api_client_for(inspector).post(f"{LIST}{application.reference}/issue/").status_code == 403
    assert api_client_for(exporter).post(f"{LIST}{application.reference}/issue/").status_code == 403
    assert api_client_for(officer).post(f"{LIST}{application.reference}/issue/").status_code == 202
    assert not Task.objects.filter(
        process__artifact_object_id=application.pk,
        flow_task=ExportFlow.decide,
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    ).exists()


def test_a_task_claimed_by_one_inspector_is_not_done_by_another_through_the_api(exporter, inspector, officer):
    application = _submit(exporter)
    task = _open_task(application, ExportFlow.documentary_check)
    assert _client(officer).post(task.reverse("assign")).status_code == 302  # the officer inspects too
    taken = api_client_for(inspector).post(
        f"{LIST}{application.reference}/checks/", {"kind": "documentary", "result": "satisfactory"}, format="json"
    )
    assert taken.status_code == 403 and not application.checks.exists()


def test_staff_find_export_tasks_in_their_queue_and_on_the_day_page(exporter, inspector, officer):
    application = _submit(exporter)
    queue = _client(inspector).get("/workflow/export/queue/").content.decode()
    assert application.reference in queue
    today = _client(inspector).get("/workflow/today/").content.decode()
    assert application.reference in today and "Claim and open" in today
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, SATISFACTORY)
    officer_queue = _client(officer).get("/workflow/export/queue/").content.decode()
    assert application.reference in officer_queue
    task = _open_task(application, ExportFlow.decide)
    _client(officer).post(task.reverse("assign"))
    inbox = _client(officer).get("/workflow/export/inbox/").content.decode()
    assert application.reference in inbox
    assert application.reference in _client(officer).get("/workflow/today/").content.decode()


def test_the_flow_chart_is_drawn(inspector, supervisor):
    chart = _client(supervisor).get("/workflow/export/chart/")
    assert chart.status_code == 200 and b"<svg" in chart.content
    bpmn = _client(supervisor).get("/workflow/export/chart/", {"format": "bpmn"})
    assert bpmn.status_code == 200 and b"Issue or refuse the certificate" in bpmn.content


def test_a_draft_has_no_flow_until_submitted(exporter):
    response = api_client_for(exporter).post(LIST, export_application(), format="json")
    application = ExportApplication.objects.get(reference=response.json()["reference"])
    assert not Process.objects.filter(flow_class=ExportFlow, artifact_object_id=application.pk).exists()
    submitted = api_client_for(exporter).post(f"{LIST}{application.reference}/submit/")
    assert submitted.status_code == 200
    assert _open_task(application, ExportFlow.documentary_check).status == STATUS.NEW


def test_a_failing_certificate_job_is_an_incident_a_supervisor_retries(
    exporter, inspector, officer, supervisor, monkeypatch
):
    from workflows.engine import flow_job_run

    application = _submit(exporter)
    _do(inspector, application, ExportFlow.documentary_check, _documents_satisfactory(application))
    _do(inspector, application, ExportFlow.inspection, SATISFACTORY)
    _do(officer, application, ExportFlow.decide, ISSUE)
    job = _open_job(application)

    def no_key(**kwargs):
        raise RuntimeError("No signing key")

    monkeypatch.setattr("inspection.services.phyto.phyto_pdf", no_key)
    flow_job_run.push_request(retries=flow_job_run.max_retries)  # the last automatic retry
    try:
        with pytest.raises(RuntimeError):
            flow_job_run.run(job.flow_task.activation_class(job).ref())
    finally:
        flow_job_run.pop_request()
    job.refresh_from_db()
    assert job.status == STATUS.ERROR and not PhytosanitaryCertificate.objects.exists()

    staff = _client(supervisor)
    page = staff.get("/workflow/incidents/").content.decode()
    assert f'href="/exports/{application.reference}/"' in page and "No signing key" in page
    monkeypatch.undo()
    assert staff.post(f"/workflow/incidents/{job.pk}/retry/", {"reason": "key installed"}).status_code == 302
    export_certificate_job_run(application.reference)
    assert PhytosanitaryCertificate.objects.get(application=application).status == "valid"
    retried = AuditEvent.objects.get(action="job.retried", data__export=application.reference)
    assert retried.consignment is None and retried.actor == supervisor


def test_a_supervisor_reassigns_an_export_task_audited_on_its_application(exporter, inspector, officer, supervisor):
    application = _submit(exporter)
    task = _open_task(application, ExportFlow.documentary_check)
    client = _client(supervisor)
    url = f"/supervision/tasks/{task.pk}/reassign/"
    page = client.get(url).content.decode()
    assert f'href="/exports/{application.reference}/"' in page
    assert client.post(url, {"to_user": inspector.pk, "reason": "on duty", "reassign": ""}).status_code == 302
    task.refresh_from_db()
    assert task.owner == inspector
    assert client.post(url, {"reason": "back to the queue", "unassign": ""}).status_code == 302
    events = AuditEvent.objects.filter(action__startswith="task.", data__export=application.reference)
    assert list(events.order_by("seq").values_list("action", flat=True)) == ["task.reassigned", "task.unassigned"]
    assert not events.filter(consignment__isnull=False).exists()


@pytest.mark.parametrize(
    ("roles", "claims"),
    [
        (["inspector"], {"documentary_check", "inspection"}),
        (["certifying_officer"], {"decide"}),
        (["supervisor"], set()),
        (["exporter"], set()),
        (["importer"], set()),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, list) else "",
)
def test_each_role_may_claim_exactly_its_export_steps(exporter, roles, claims):
    """The export tasks follow the one role map (docs/decisions/0008): the inspection's steps, the same roles."""
    from tests.factories import UserFactory
    from workflows.task_lists import queue_tasks

    user = UserFactory(username="someone", roles=roles)
    application = _submit(exporter)
    tasks = {
        node.name: Task.objects.create(
            process=_process(application),
            flow_task=node,
            flow_task_type="HUMAN",
            owner_permission=node._owner_permission,
            status=STATUS.NEW,
        )
        for node in (ExportFlow.inspection, ExportFlow.decide)
    } | {"documentary_check": _open_task(application, ExportFlow.documentary_check)}
    assert {name for name, task in tasks.items() if task.flow_task.can_assign(user, task)} == claims
    assert {task.flow_task.name for task in queue_tasks(ExportFlow, user)} == claims
