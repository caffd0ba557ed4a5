"""Goods sent on under control (Delegated Regulations (EU) 2019/1666, 2019/2123, 2019/2124): the decision names
its control point, establishment or warehouse from the reference data; the receiving side confirms the arrival,
which is Part III; a confirmation missing after 15 days escalates to the supervisors."""

import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone, translation
from pypdf import PdfReader
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.dashboard import open_tasks
from inspection.errors import DomainInvalid, TransitionNotAllowed
from inspection.models import ArrivalConfirmation, AuditEvent, Consignment, ControlPoint, Decision, FollowUp
from inspection.services.decisions import decision_record
from inspection.services.onward import arrival_confirm
from tests.conftest import api_client_for
from tests.test_decision_rules import _awaiting_decision, _claimed, _offers
from tests.test_workflow_paths import ACCEPT, _do, _run_certificate_job
from workflows.flows import InspectionFlow
from workflows.tasks import workflow_timers_fire

pytestmark = pytest.mark.django_db

CHANNELLED = {**ACCEPT, "code": "acceptable_if_channelled", "arrival_point": "MQ-EST-001"}
TODAY = {"arrived": "1", "seals_intact": "1"}


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _tasks(consignment, node, **filters):
    return Task.objects.filter(process__artifact_object_id=consignment.pk, flow_task=node, **filters)


def _channelled(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-P")
    _do(officer, consignment, InspectionFlow.decide, CHANNELLED)
    _run_certificate_job(consignment)
    return consignment


def _pdf_text(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    pdf = b"".join(response.streaming_content)
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_code_list_names_the_control_points_and_what_they_receive(importer):
    client = api_client_for(importer)
    body = client.get("/api/v1/reference/control-points/?ched_type=CHED-PP").json()
    codes = {item["code"]: item for item in body["results"]}
    assert set(codes) == {"MQ-CP-001", "MQ-OTF-001"}  # the establishment and the warehouse take no plants
    assert codes["MQ-CP-001"]["details"]["kind"] == "control_point"
    assert codes["MQ-CP-001"]["details"]["confirmed"] is False  # not read in the official list
    everything = client.get("/api/v1/reference/control-points/").json()
    assert everything["count"] == 4
    assert Client().get("/api/v1/reference/control-points/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("ched_type", "code", "point"),
    [
        ("CHED-P", "acceptable_if_channelled", "MQ-EST-001"),
        ("CHED-PP", "acceptable_for_transfer", "MQ-CP-001"),
        ("CHED-D", "acceptable_for_onward_transportation", "MQ-OTF-001"),
        ("CHED-P", "acceptable_for_specific_warehouse", "MQ-WH-001"),
    ],
)
def test_a_decision_that_sends_goods_on_needs_its_place(importer, inspector, officer, ched_type, code, point):
    consignment = _awaiting_decision(importer, inspector, ched_type)
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, point)

    response = client.post(task.reverse("execute"), {**ACCEPT, "code": code})
    assert response.status_code == 200
    assert "the control point, establishment or warehouse (code)" in response.content.decode()
    assert not Decision.objects.filter(consignment=consignment).exists()

    assert client.post(task.reverse("execute"), {**ACCEPT, "code": code, "arrival_point": point}).status_code == 302
    assert Decision.objects.get(consignment=consignment).arrival_point.code == point


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ({**CHANNELLED, "arrival_point": "MQ-NOPE"}, "Select a valid choice"),  # not in the list
        ({**CHANNELLED, "arrival_point": "MQ-CP-001"}, "Select a valid choice"),  # takes no CHED-P
        ({**CHANNELLED, "arrival_point": "MQ-WH-001"}, "This decision sends the goods to: Establishment"),
        ({**ACCEPT, "arrival_point": "MQ-EST-001"}, "This decision does not take this field."),
    ],
)
def test_a_wrong_place_is_refused_with_a_message(importer, inspector, officer, decision, message):
    consignment = _awaiting_decision(importer, inspector, "CHED-P")
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    response = client.post(task.reverse("execute"), decision)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Decision.objects.filter(consignment=consignment).exists()


def test_the_receiving_side_confirms_the_arrival_which_is_part_three(importer, other_importer, inspector, officer):
    consignment = _channelled(importer, inspector, officer)
    # one task for one fact: the arrival confirmed, no follow-up besides
    assert _tasks(consignment, InspectionFlow.confirm_arrival, status=STATUS.NEW).exists()
    assert not _tasks(consignment, InspectionFlow.follow_up).exists()
    seen = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()["decision"]
    assert seen["arrival_point"]["code"] == "MQ-EST-001" and seen["arrival"] is None
    assert "MQ-EST-001" in seen["destination"]  # box II.18, printed in Part II

    client, task = _claimed(inspector, consignment, InspectionFlow.confirm_arrival)
    page = client.get(task.reverse("execute")).content.decode()
    assert "MQ-EST-001" in page  # the place the goods are expected at
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(task.reverse("execute"), {**TODAY, "arrived_on": tomorrow})
    assert response.status_code == 200
    assert "between the decision and today" in response.content.decode()
    response = client.post(task.reverse("execute"), {"arrived": "1", "arrived_on": timezone.localdate().isoformat()})
    assert "Say whether the seals were intact." in response.content.decode()
    assert not ArrivalConfirmation.objects.exists()

    today = timezone.localdate()
    assert client.post(task.reverse("execute"), {**TODAY, "arrived_on": today.isoformat()}).status_code == 302
    confirmation = ArrivalConfirmation.objects.get(consignment=consignment)
    assert (confirmation.arrived, confirmation.arrived_on, confirmation.seals_intact) == (True, today, True)
    assert confirmation.confirmed_by == inspector
    assert FollowUp.objects.get(consignment=consignment).outcome == "arrived"
    event = AuditEvent.objects.filter(consignment=consignment, action="follow_up.recorded").get()
    assert event.data["arrival_point"] == "MQ-EST-001" and event.data["seals_intact"] is True
    consignment.refresh_from_db()
    assert consignment.status == "closed"

    api = api_client_for(importer)
    body = api.get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert body["decision"]["arrival"]["arrived_on"] == today.isoformat()
    assert body["decision"]["arrival"]["seals_intact"] is True
    assert "confirmed_by" not in body["decision"]["arrival"]
    issued = [c for c in body["certificates"] if c["status"] == "valid" and c["kind"] == "ched"]
    text = _pdf_text(importer, issued[-1]["url"])
    assert "Partie III" in text and f"{today:%d/%m/%Y}" in text and "seals intact" in text
    assert "scellés intacts" in text and "(à confirmer) (MQ-EST-001)" in text  # III.5: by the place's authority
    assert api_client_for(other_importer).get(f"/api/v1/consignments/{consignment.reference}/").status_code == 404
    portal = Client(HTTP_ACCEPT_LANGUAGE="en")
    portal.force_login(importer)
    page = portal.get(f"/consignments/{consignment.reference}/").content.decode()
    assert f"(MQ-EST-001) — arrival confirmed on {today:%d/%m/%Y}" in page
    portal.force_login(other_importer)
    assert portal.get(f"/consignments/{consignment.reference}/").status_code == 404


def test_goods_that_did_not_arrive_say_what_is_known(importer, inspector, officer):
    consignment = _channelled(importer, inspector, officer)
    client, task = _claimed(inspector, consignment, InspectionFlow.confirm_arrival)
    response = client.post(task.reverse("execute"), {"arrived": "0"})
    assert "Say what is known of the goods" in response.content.decode()
    response = client.post(task.reverse("execute"), {"arrived": "0", "seals_intact": "1", "notes": "x"})
    assert "no date of arrival nor seals" in response.content.decode()
    answer = {"arrived": "0", "notes": "Not in the establishment's register on 7/12"}
    assert client.post(task.reverse("execute"), answer).status_code == 302
    assert FollowUp.objects.get(consignment=consignment).outcome == "not_arrived"


def test_a_second_confirmation_at_the_same_time_is_refused_not_a_500(importer, inspector, officer):
    """Two confirmations that both read the consignment before either wrote: the second one, on its stale
    copy, finds the first one's under the row lock and is refused (a 409 through the API's handler)."""
    consignment = _channelled(importer, inspector, officer)
    first, second = Consignment.objects.get(pk=consignment.pk), Consignment.objects.get(pk=consignment.pk)
    arrived = {"arrived": True, "arrived_on": timezone.localdate(), "seals_intact": True}
    arrival_confirm(actor=inspector, consignment=first, **arrived)
    assert second.status == "accepted"  # stale
    with pytest.raises(TransitionNotAllowed):
        arrival_confirm(actor=inspector, consignment=second, **arrived)
    assert ArrivalConfirmation.objects.filter(consignment=consignment).count() == 1
    assert FollowUp.objects.filter(consignment=consignment).count() == 1
    second.refresh_from_db()
    assert second.status == "closed"


def test_only_an_inspector_confirms_the_arrival(importer, inspector, officer, supervisor):
    consignment = _channelled(importer, inspector, officer)
    task = _tasks(consignment, InspectionFlow.confirm_arrival, status=STATUS.NEW).get()
    for user in (supervisor, importer):  # (the officer is an inspector too)
        client = Client()
        client.force_login(user)
        assert client.post(task.reverse("assign")).status_code in (403, 404, 302)
        task.refresh_from_db()
        assert task.owner_id is None  # none of them could claim it
    assert not ArrivalConfirmation.objects.exists()


def test_a_missing_confirmation_escalates_to_the_supervisors(importer, inspector, officer, supervisor):
    consignment = _channelled(importer, inspector, officer)
    timer = Task.objects.get(  # the confirmation's boundary timer
        process__artifact_object_id=consignment.pk,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
        previous__flow_task=InspectionFlow.confirm_arrival,
    )
    decided_at = Decision.objects.get(consignment=consignment).decided_at
    assert timer.scheduled == decided_at + datetime.timedelta(days=15)  # 2019/2124 art. 7, 2019/1666 art. 3(4)

    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
    assert workflow_timers_fire() >= 1
    late = _tasks(consignment, InspectionFlow.arrival_late, status=STATUS.NEW).get()
    with translation.override("en"):  # the supervisors' dashboard counts it among the late steps
        assert ("Arrival at the control point not confirmed", 1) in open_tasks()["late"]
    assert _tasks(consignment, InspectionFlow.confirm_arrival, status=STATUS.NEW).exists()  # still awaited

    inspectors = Client()
    inspectors.force_login(inspector)
    inspectors.post(late.reverse("assign"))
    late.refresh_from_db()
    assert late.owner_id is None  # an escalation is the supervisors'
    client, _task = _claimed(supervisor, consignment, InspectionFlow.arrival_late)
    answer = {"action_taken": "Asked the DAAF and customs where the goods are"}
    assert client.post(late.reverse("execute"), answer).status_code == 302
    event = AuditEvent.objects.filter(consignment=consignment, action="escalation.acknowledged").get()
    assert event.data["kind"] == "arrival_confirmation_late"


def test_the_service_refuses_a_place_out_of_force_or_for_another_type(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-P")
    ControlPoint.objects.filter(code="MQ-EST-001").update(valid_to=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(DomainInvalid) as refused, translation.override("en"):
        decision_record(
            actor=officer, consignment=consignment, code="acceptable_if_channelled", arrival_point="MQ-EST-001"
        )
    assert refused.value.errors == {
        "arrival_point": ["No control point, establishment or warehouse “MQ-EST-001” is in force."]
    }
    ControlPoint.objects.filter(code="MQ-EST-001").update(valid_to=None)
    ControlPoint.objects.get(code="MQ-EST-001").ched_types.set([])  # none: every type
    ControlPoint.objects.get(code="MQ-WH-001").ched_types.set([])
    point = ControlPoint.objects.create(
        code="MQ-EST-002", kind="establishment", name_fr="Abattoir", name_en="Slaughterhouse", address="Le Lamentin"
    )
    point.ched_types.set(ControlPoint.objects.get(code="MQ-CP-001").ched_types.all())  # plants, food: not CHED-P
    with pytest.raises(DomainInvalid) as refused, translation.override("en"):
        decision_record(
            actor=officer, consignment=consignment, code="acceptable_if_channelled", arrival_point="MQ-EST-002"
        )
    assert refused.value.errors == {"arrival_point": ["“MQ-EST-002” may not receive this CHED type."]}
    assert not Decision.objects.filter(consignment=consignment).exists()
    decision = decision_record(
        actor=officer, consignment=consignment, code="acceptable_if_channelled", arrival_point="MQ-EST-001"
    )
    assert decision.destination.endswith("(MQ-EST-001)")  # printed in box II.18
