"""Every path of the inspection flow, walked over HTTP as the users would: the importer submits through the
API, inspectors and officers claim and execute their tasks in the staff UI, the lab posts to the API, and the
certificate job runs as the worker would run it."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditEvent, Commodity, Consignment, DocumentaryCheck, Notification
from tests.conftest import api_client_for
from tests.factories import goods_arrived, part_one
from workflows.engine import flow_job_run
from workflows.flows import InspectionFlow
from workflows.models import InspectionProcess

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)


def _rates(cn_code, identity, physical):
    Commodity.objects.filter(cn_code=cn_code).update(identity_rate=identity, physical_rate=physical)


def _submit(importer, ched_type="CHED-PP", **overrides) -> Consignment:
    response = api_client_for(importer).post(
        "/api/v1/consignments/", part_one(ched_type, as_json=True, **overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    return Consignment.objects.get(reference=response.json()["reference"])


def _open_task(consignment, node):
    return Task.objects.get(
        process__artifact_object_id=consignment.pk,
        flow_task=node,
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )


def _do(user, consignment, node, data):
    """Claim the task as `user` and submit its form; returns the execute response. An identity or physical
    check is made on goods at the post: the user taps "Goods arrived" first when nobody has."""
    if node in (InspectionFlow.identity_check, InspectionFlow.physical_check):
        consignment.refresh_from_db(fields=["arrived_at"])
        if consignment.arrived_at is None:
            goods_arrived(consignment, user)
    task = _open_task(consignment, node)
    client = Client()
    client.force_login(user)
    assert client.post(task.reverse("assign")).status_code == 302, f"{user} could not claim {node.name}"
    response = client.post(task.reverse("execute"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    consignment.refresh_from_db()
    return response


def _run_certificate_job(consignment):
    job = Task.objects.get(
        process__artifact_object_id=consignment.pk,
        flow_task=InspectionFlow.issue_certificate,
        status=STATUS.SCHEDULED,
    )
    assert flow_job_run.run(job.flow_task.activation_class(job).ref()) == "done"
    consignment.refresh_from_db()


def _documentary_ok(consignment):
    data = {"result": "satisfactory", "reason": ""}
    for document in consignment.documents.all():
        data[f"doc_{document.pk}_present"] = "on"
        data[f"doc_{document.pk}_valid"] = "on"
    return data


def _physical_with_sample(*, analysis="PEST_IDENTIFICATION", reason="random", conservation="chilled", detained=True):
    """The physical check form, satisfactory, with one sample."""
    return {
        "result": "satisfactory",
        "samples-TOTAL_FORMS": "1",
        "samples-INITIAL_FORMS": "0",
        "samples-0-analysis": analysis,
        "samples-0-laboratory": "LTA972",
        "samples-0-reason": reason,
        "samples-0-conservation": conservation,
        "samples-0-detained": "1" if detained else "0",
    }


IDENTITY_OK = {"seals_as_declared": "on", "goods_as_declared": "on", "result": "satisfactory"}
ACCEPT = {"code": "acceptable_for_internal_market", "measure": "", "measure_deadline": "", "notes": ""}


def _refuse():
    deadline = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    return {
        "code": "non_acceptable",
        "measure": "destruction",
        "measure_deadline": deadline,
        "reasons": ["AbsenceInvalidCertificate"],
        "notes": "Certificate expired",
    }


def _actions(consignment):
    return list(AuditEvent.objects.filter(consignment=consignment).values_list("action", flat=True))


def test_released_after_documentary_check_only(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    assert consignment.check_plan.identity_selected is False

    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    assert consignment.status == "awaiting_decision"
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    assert consignment.status == "accepted"
    _run_certificate_job(consignment)

    assert InspectionProcess.objects.get(artifact_object_id=consignment.pk).status == "DONE"
    assert _actions(consignment) == [
        "consignment.created",
        "consignment.submitted",
        "checks.planned",
        "documentary_check.recorded",
        "decision.recorded",
        "certificate.issued",
    ]
    assert Notification.objects.filter(consignment=consignment, kind="decided").count() == 1


def test_released_after_identity_and_physical_checks(importer, inspector, officer):
    _rates("08045000", 100, 100)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    assert consignment.status == "checking"
    _do(
        inspector,
        consignment,
        InspectionFlow.identity_check,
        {"seals_as_declared": "on", "goods_as_declared": "on", "result": "satisfactory"},
    )
    _do(
        inspector,
        consignment,
        InspectionFlow.physical_check,
        {
            "result": "satisfactory",
            "findings": "No pest found",
            "samples-TOTAL_FORMS": "0",
            "samples-INITIAL_FORMS": "0",
        },
    )
    assert consignment.status == "awaiting_decision"
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    assert consignment.status == "accepted"
    assert "physical_check.recorded" in _actions(consignment)


def test_detained_until_a_satisfactory_lab_result(importer, inspector, officer, lab):
    _rates("08045000", 0, 100)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)  # a physical check brings it
    _do(
        inspector,
        consignment,
        InspectionFlow.physical_check,
        _physical_with_sample(analysis="PEST_IDENTIFICATION", reason="random", conservation="chilled", detained=True),
    )
    assert consignment.status == "awaiting_lab"
    sample = consignment.samples.get()
    assert sample.number == f"{consignment.reference}-S1"
    # the officer cannot decide yet: no decision task exists while the lab wait is open
    assert not Task.objects.filter(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.decide).exists()

    posted = api_client_for(lab).post(
        "/api/v1/lab-results/",
        {
            "sample": sample.number,
            "conclusion": "satisfactory",
            "analytes": [{"name": "chlorpyrifos", "value": "<0.01", "unit": "mg/kg"}],
        },
        format="json",
    )
    assert posted.status_code == 201, posted.json()
    again = api_client_for(lab).post(
        "/api/v1/lab-results/",
        {
            "sample": sample.number,
            "conclusion": "satisfactory",
            "analytes": [{"name": "chlorpyrifos", "value": "<0.01", "unit": "mg/kg"}],
        },
        format="json",
    )
    assert again.status_code == 200  # the same result twice is one result
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    assert consignment.status == "accepted"
    assert _actions(consignment).count("lab_result.recorded") == 1


def test_refused_countersigned_and_followed_up(importer, inspector, officer, supervisor):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    data = _documentary_ok(consignment)
    data.update(result="not_satisfactory", reason="Phytosanitary certificate expired")
    data.pop(next(k for k in data if k.endswith("_valid")))
    _do(inspector, consignment, InspectionFlow.documentary_check, data)
    assert consignment.status == "awaiting_decision"
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    assert consignment.status == "awaiting_countersign"
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    assert consignment.status == "refused"
    _run_certificate_job(consignment)
    _do(
        inspector,
        consignment,
        InspectionFlow.follow_up,
        {"outcome": "destroyed", "evidence": "Destruction certificate 2026-118, incinerator of Fort-de-France"},
    )
    assert consignment.status == "closed"
    # the follow-up issues the CHED again with its Part III, replacing the one of the decision
    assert _actions(consignment)[-6:] == [
        "decision.countersigned",
        "certificate.issued",
        "certificate.issued",
        "follow_up.recorded",
        "certificate.issued",
        "certificate.replaced",
    ]
    kinds = consignment.certificates.values_list("kind", "status")
    assert sorted(kinds) == [("ched", "replaced"), ("ched", "valid"), ("refusal", "valid")]
    assert InspectionProcess.objects.get(artifact_object_id=consignment.pk).status == "DONE"


def test_refusal_sent_back_goes_to_a_new_decision(importer, inspector, officer, supervisor):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "0", "comment": "Evidence is too thin"})
    assert consignment.status == "awaiting_decision"
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    assert consignment.status == "accepted"
    assert consignment.decisions.filter(superseded=True).count() == 1


def test_inspector_cannot_decide_and_importer_sees_no_tasks(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    task = _open_task(consignment, InspectionFlow.decide)
    client = Client()
    client.force_login(inspector)
    assert client.post(task.reverse("assign")).status_code == 403
    client.force_login(importer)
    assert client.get("/workflow/inspection/queue/").status_code in (302, 403)


def test_a_not_satisfactory_result_needs_a_reason(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client()
    client.force_login(inspector)
    client.post(task.reverse("assign"))
    data = _documentary_ok(consignment)
    data["result"] = "not_satisfactory"
    response = client.post(task.reverse("execute"), data)
    assert response.status_code == 200
    assert "reason" in response.content.decode().lower()
    consignment.refresh_from_db()
    assert consignment.status == "submitted"
    assert not DocumentaryCheck.objects.filter(consignment=consignment).exists()


def test_importer_sees_steps_and_decision_but_not_who_or_notes(importer, inspector, officer, supervisor):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    detail = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert detail["decision"] is None  # a refusal is not final until countersigned
    assert [s["step"] for s in detail["timeline"]] == ["created", "submitted", "documentary_check"]
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": "Agreed"})

    detail = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert detail["status"] == "refused"
    assert detail["decision"]["code"] == "non_acceptable" and detail["decision"]["measure"] == "destruction"
    assert detail["timeline"][-1]["step"] == "refusal_confirmed"
    body = str(detail)
    for secret in ("Certificate expired", "Agreed", inspector.username, officer.username, supervisor.username):
        # as a word: the inspector "ines" is not in the fee statement's "lines"
        assert not re.search(rf"\b{re.escape(secret)}\b", body), secret


def _sampled(importer, inspector, ched_type="CHED-PP", **sample):
    """A consignment selected for a physical check (and so the identity check), with one sample taken (mangoes
    for a pest identification, or frozen beef, CHED-P, for salmonella)."""
    _rates(part_one(ched_type)["commodities"][0]["cn_code"], 0, 100)
    if ched_type == "CHED-P":
        sample.setdefault("analysis", "SALMONELLA")
    consignment = _submit(importer, ched_type)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)  # a physical check brings it
    _do(inspector, consignment, InspectionFlow.physical_check, _physical_with_sample(**sample))
    return consignment


def _released_pending(importer, inspector, ched_type="CHED-PP"):
    consignment = _sampled(importer, inspector, ched_type, detained=False)
    assert consignment.status == "awaiting_decision"  # released pending: no wait before the decision
    return consignment


def test_released_pending_then_satisfactory_result_changes_nothing(importer, inspector, officer, lab):
    consignment = _released_pending(importer, inspector)
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    number = consignment.samples.get().number
    assert (
        api_client_for(lab)
        .post("/api/v1/lab-results/", {"sample": number, "conclusion": "satisfactory"}, format="json")
        .status_code
        == 201
    )
    consignment.refresh_from_db()
    assert consignment.status == "accepted"
    assert InspectionProcess.objects.get(artifact_object_id=consignment.pk).status == "DONE"


def test_released_pending_then_unsatisfactory_result_recalls_for_a_new_decision(
    importer, inspector, officer, supervisor, lab
):
    consignment = _released_pending(importer, inspector)
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    number = consignment.samples.get().number

    posted = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "not_satisfactory"}, format="json"
    )

    assert posted.status_code == 201
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"
    assert consignment.decisions.get().superseded is True
    assert Notification.objects.filter(consignment=consignment, kind="recalled").count() == 1
    assert "consignment.recalled" in _actions(consignment)
    # the first decision's CHED stops being valid at once, before the new decision
    first = consignment.certificates.get()
    assert first.status == "revoked" and "recall" in first.revocation_reason
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    assert consignment.status == "refused"
    _run_certificate_job(consignment)
    assert sorted(consignment.certificates.filter(status="valid").values_list("number", flat=True)) == [
        f"{consignment.reference}-C2",
        f"{consignment.reference}-R1",
    ]


def test_task_pages_show_the_consignment_and_samples_get_a_qr_label(importer, inspector, lab):
    _rates("08045000", 0, 100)
    consignment = _submit(importer)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client()
    client.force_login(inspector)
    client.post(task.reverse("assign"))
    page = client.get(task.reverse("execute")).content.decode()
    assert consignment.reference in page and "CSQU3054383" in page and "Mangifera indica" in page
    client.post(task.reverse("execute"), _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)
    _do(
        inspector,
        consignment,
        InspectionFlow.physical_check,
        _physical_with_sample(analysis="PEST_IDENTIFICATION", reason="random", conservation="chilled", detained=True),
    )
    number = consignment.samples.get().number
    label = client.get(f"/workflow/samples/{number}/label/")
    assert label.status_code == 200
    assert number in label.content.decode() and "<svg" in label.content.decode()
    client.force_login(importer)
    assert client.get(f"/workflow/samples/{number}/label/").status_code == 404


def test_recall_of_channelled_goods_cancels_their_follow_up(importer, inspector, officer, lab):
    consignment = _released_pending(importer, inspector, "CHED-P")  # channelling: animals and their products
    _do(
        officer,
        consignment,
        InspectionFlow.decide,
        {**ACCEPT, "code": "acceptable_if_channelled", "arrival_point": "MQ-EST-001"},
    )
    _run_certificate_job(consignment)
    follow_up = _open_task(consignment, InspectionFlow.confirm_arrival)  # the arrival confirmed is its follow-up

    number = consignment.samples.get().number
    api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "not_satisfactory"}, format="json"
    )

    follow_up.refresh_from_db()
    assert follow_up.status == STATUS.CANCELED
    assert _open_task(consignment, InspectionFlow.decide) is not None
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"


def test_two_deliveries_of_the_certificate_job_route_on_once(importer, inspector, officer, monkeypatch):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    job = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.issue_certificate)
    ref = job.flow_task.activation_class(job).ref()
    node, issue = InspectionFlow.issue_certificate, InspectionFlow.issue_certificate.func
    second = []

    def first_delivery_runs(activation):
        monkeypatch.setattr(node, "func", issue)
        second.append(flow_job_run.run(ref))  # a second delivery arrives and finishes while the first runs
        issue(activation)

    monkeypatch.setattr(node, "func", first_delivery_runs)

    assert flow_job_run.run(ref) == "already done"
    assert second == ["done"]
    assert AuditEvent.objects.filter(consignment=consignment, action="certificate.issued").count() == 1
