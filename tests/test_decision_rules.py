"""The law of the post at the decision (docs/regulation.md): no acceptable decision after a check that was not
satisfactory; decisions, measures, refusal reasons and analyses of the consignment's CHED type only; the
details a decision requires; Part III outcomes allowed by the measure. Over HTTP, as the officer would: the
form offers only what is allowed, and a forged post is refused with a message, nothing stored."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation
from viewflow.workflow.models import Task

from inspection.errors import DomainError
from inspection.models import Decision, FollowUp, ReinforcedCheckRule, Sample
from inspection.selectors import follow_up_needed
from inspection.services.decisions import decision_record
from inspection.services.follow_up import follow_up_record
from tests.conftest import api_client_for
from tests.test_workflow_paths import (
    ACCEPT,
    IDENTITY_OK,
    _do,
    _documentary_ok,
    _open_task,
    _rates,
    _refuse,
    _run_certificate_job,
    _submit,
)
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _claimed(user, consignment, node):
    task = _open_task(consignment, node)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert client.post(task.reverse("assign")).status_code == 302
    return client, task


def _offers(page: str, value: str) -> bool:
    """Whether the form offers this choice (a checkbox, or an option of viewflow's select, escaped JSON)."""
    return f'value="{value}"' in page or f"&quot;value&quot;: &quot;{value}&quot;" in page


def _awaiting_decision(importer, inspector, ched_type="CHED-PP", documents_ok=True):
    cn_code = {"CHED-PP": "08045000", "CHED-P": "02023090", "CHED-A": "01061900", "CHED-D": "12024200"}[ched_type]
    _rates(cn_code, 0, 0)
    ReinforcedCheckRule.objects.filter(cn_prefix=cn_code).update(identity_rate=0, physical_rate=0)  # 2019/1793
    consignment = _submit(importer, ched_type)
    data = _documentary_ok(consignment)
    if not documents_ok:
        data = {**{k: v for k, v in data.items() if not k.endswith("_valid")}, "result": "not_satisfactory"}
        data["reason"] = "Certificate expired"
    _do(inspector, consignment, InspectionFlow.documentary_check, data)
    assert consignment.status == "awaiting_decision"
    return consignment


def test_an_unsatisfactory_documentary_check_forbids_acceptance(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, documents_ok=False)
    client, task = _claimed(officer, consignment, InspectionFlow.decide)

    page = client.get(task.reverse("execute")).content.decode()
    assert not _offers(page, "acceptable_for_internal_market")  # the form offers only a refusal
    assert _offers(page, "non_acceptable")

    response = client.post(task.reverse("execute"), ACCEPT)  # a forged post
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with pytest.raises(DomainError) as refused:  # the service's own rule, whatever the form offers
        decision_record(actor=officer, consignment=consignment, code="acceptable_for_internal_market")
    assert "documentary check was not satisfactory" in str(refused.value.errors["code"])
    assert not Decision.objects.filter(consignment=consignment).exists()
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"

    assert client.post(task.reverse("execute"), _refuse()).status_code == 302
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_countersign"


def test_no_slaughter_for_plants(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-PP")
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, "destruction")
    assert not _offers(page, "slaughter") and not _offers(page, "euthanasia")
    assert not _offers(page, "DiseasedOrSuspectAnimals")  # a reason for animals only

    for forged in ({**_refuse(), "measure": "slaughter"}, {**_refuse(), "reasons": ["UnfitForTravel"]}):
        response = client.post(task.reverse("execute"), forged)
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    refusal = {"code": "non_acceptable", "measure_deadline": deadline, "reasons": ["AbsenceInvalidCertificate"]}
    with pytest.raises(DomainError) as refused:
        decision_record(actor=officer, consignment=consignment, **{**refusal, "measure": "slaughter"})
    assert "does not apply to this CHED type" in str(refused.value.errors["measure"])
    with pytest.raises(DomainError) as refused:
        animal_reason = {**refusal, "measure": "destruction", "reasons": ["UnfitForTravel"]}
        decision_record(actor=officer, consignment=consignment, **animal_reason)
    assert "refusal reason does not apply" in str(refused.value.errors["reasons"])
    assert not Decision.objects.filter(consignment=consignment).exists()


def test_live_animals_may_be_slaughtered(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-A")
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, "slaughter") and _offers(page, "euthanasia")
    assert _offers(page, "acceptable_for_temporary_admission")
    assert not _offers(page, "acceptable_for_specific_warehouse")  # products of animal origin only

    refusal = {**_refuse(), "measure": "euthanasia", "reasons": ["DiseasedOrSuspectAnimals"]}
    assert client.post(task.reverse("execute"), refusal).status_code == 302
    assert Decision.objects.get(consignment=consignment).measure.code == "euthanasia"


def test_transit_needs_the_exit_bcp_and_the_third_country_of_destination(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-P")
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    transit = {**ACCEPT, "code": "acceptable_for_transit"}

    response = client.post(task.reverse("execute"), transit)
    assert response.status_code == 200
    page = response.content.decode()
    assert "needs this field: the exit BCP." in page
    assert "needs this field: the third country of destination." in page
    response = client.post(task.reverse("execute"), {**ACCEPT, "arrival_point": "MQ-WH-001"})
    assert response.status_code == 200
    assert "This decision does not take this field." in response.content.decode()
    assert not Decision.objects.filter(consignment=consignment).exists()

    details = {"exit_bcp": "FRLEH4 Le Havre", "destination_country": "CH"}
    assert client.post(task.reverse("execute"), {**transit, **details}).status_code == 302
    decision = Decision.objects.get(consignment=consignment)
    assert (decision.exit_bcp, decision.destination_country.code) == ("FRLEH4 Le Havre", "CH")
    seen = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()["decision"]
    assert (seen["exit_bcp"], seen["destination_country"], seen["warehouse"]) == ("FRLEH4 Le Havre", "CH", "")


def test_transit_is_not_a_decision_for_food_of_non_animal_origin(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-D")
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    assert not _offers(client.get(task.reverse("execute")).content.decode(), "acceptable_for_transit")
    forged = {**ACCEPT, "code": "acceptable_for_transit", "exit_bcp": "FRLEH4", "destination_country": "CH"}
    response = client.post(task.reverse("execute"), forged)
    assert response.status_code == 200
    with pytest.raises(DomainError) as refused:
        decision_record(actor=officer, consignment=consignment, **{k: v for k, v in forged.items() if v})
    assert "Choose a decision that applies to this CHED type." in str(refused.value.errors["code"])
    assert not Decision.objects.filter(consignment=consignment).exists()


def test_samples_take_only_the_analyses_of_the_commodity(importer, inspector):
    _rates("08045000", 0, 100)
    consignment = _submit(importer)  # fresh mangoes, CHED-PP
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)
    client, task = _claimed(inspector, consignment, InspectionFlow.physical_check)
    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, "PEST_IDENTIFICATION")
    assert not _offers(page, "HISTAMINE") and not _offers(page, "VET_DRUG_RESIDUES")

    forged = {
        "result": "satisfactory",
        "samples-TOTAL_FORMS": "1",
        "samples-INITIAL_FORMS": "0",
        "samples-0-analysis": "HISTAMINE",
        "samples-0-laboratory": "LTA972",
        "samples-0-reason": "random",
        "samples-0-conservation": "chilled",
        "samples-0-detained": "1",
    }
    response = client.post(task.reverse("execute"), forged)
    assert response.status_code == 200
    assert not Sample.objects.filter(consignment=consignment).exists()


def test_a_destruction_is_not_closed_by_an_arrival(importer, inspector, officer, supervisor):
    consignment = _awaiting_decision(importer, inspector, "CHED-PP", documents_ok=False)
    _do(officer, consignment, InspectionFlow.decide, _refuse())  # destruction
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    _run_certificate_job(consignment)
    client, task = _claimed(inspector, consignment, InspectionFlow.follow_up)

    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, "destroyed") and not _offers(page, "arrived")
    response = client.post(task.reverse("execute"), {"outcome": "arrived", "evidence": "CMR 123"})
    assert response.status_code == 200
    assert not FollowUp.objects.filter(consignment=consignment).exists()

    evidence = {"outcome": "destroyed", "evidence": f"PV de destruction {timezone.localdate():%Y}-014"}
    assert client.post(task.reverse("execute"), evidence).status_code == 302
    assert FollowUp.objects.get(consignment=consignment).outcome == "destroyed"


def test_channelled_goods_are_closed_by_their_arrival_only(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-P")
    channelled = {**ACCEPT, "code": "acceptable_if_channelled", "arrival_point": "MQ-EST-001"}
    _do(officer, consignment, InspectionFlow.decide, channelled)
    _run_certificate_job(consignment)
    with pytest.raises(DomainError) as refused, translation.override("en"):
        follow_up_record(actor=inspector, consignment=consignment, outcome="destroyed", evidence="none")
    assert "does not close this decision" in str(refused.value.errors["outcome"])
    client, task = _claimed(inspector, consignment, InspectionFlow.confirm_arrival)
    done = {"arrived": "1", "arrived_on": timezone.localdate().isoformat(), "seals_intact": "1"}
    assert client.post(task.reverse("execute"), done).status_code == 302
    assert FollowUp.objects.get(consignment=consignment).outcome == "arrived"


@pytest.mark.parametrize(
    ("ched_type", "code", "details"),
    [
        (
            "CHED-PP",
            "acceptable_for_transfer",
            {"arrival_point": "MQ-CP-001"},
        ),
        ("CHED-D", "acceptable_for_onward_transportation", {"arrival_point": "MQ-OTF-001"}),
        ("CHED-A", "acceptable_for_onward_travel", {"next_bcp": "FRPTP4 Pointe-à-Pitre port"}),
    ],
)
def test_transfer_onward_travel_and_onward_transportation_need_their_details(
    importer, inspector, officer, ched_type, code, details
):
    """2019/1715 Annex II, boxes II.9 and II.10: each decision is offered for its CHED types and needs its
    details; a post without them is refused with a message naming what is missing, nothing stored."""
    consignment = _awaiting_decision(importer, inspector, ched_type)
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    assert _offers(client.get(task.reverse("execute")).content.decode(), code)

    response = client.post(task.reverse("execute"), {**ACCEPT, "code": code})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("needs this field") == len(details)
    assert not Decision.objects.filter(consignment=consignment).exists()

    assert client.post(task.reverse("execute"), {**ACCEPT, "code": code, **details}).status_code == 302
    decision = Decision.objects.get(consignment=consignment)
    assert decision.code.code == code
    seen = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()["decision"]
    for field, value in details.items():  # the place: a code of the reference data
        assert (decision.arrival_point.code if field == "arrival_point" else getattr(decision, field)) == value
        assert (seen[field]["code"] if field == "arrival_point" else seen[field]) == value


@pytest.mark.parametrize(
    ("ched_type", "absent"),
    [
        ("CHED-P", ["acceptable_for_transfer", "acceptable_for_onward_travel", "acceptable_for_onward_transportation"]),
        ("CHED-A", ["acceptable_for_transfer", "acceptable_for_onward_transportation"]),
        ("CHED-PP", ["acceptable_for_onward_travel"]),
        ("CHED-D", ["acceptable_for_onward_travel"]),
    ],
)
def test_the_new_decisions_only_for_their_ched_types(importer, inspector, officer, ched_type, absent):
    consignment = _awaiting_decision(importer, inspector, ched_type)
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    page = client.get(task.reverse("execute")).content.decode()
    for code in absent:
        assert not _offers(page, code)
        with pytest.raises(DomainError) as refused:
            decision_record(actor=officer, consignment=consignment, code=code, next_bcp="X", onward_facility="Y")
        assert "Choose a decision that applies to this CHED type." in str(refused.value.errors["code"])
    assert not Decision.objects.filter(consignment=consignment).exists()


def test_the_service_refuses_a_transfer_without_its_control_point(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-D")
    with pytest.raises(DomainError) as refused, translation.override("en"):
        decision_record(actor=officer, consignment=consignment, code="acceptable_for_transfer")
    assert refused.value.errors == {
        "arrival_point": [
            "The decision “Acceptable for transfer to a control point” needs this field: "
            "the control point, establishment or warehouse (code)."
        ]
    }
    with pytest.raises(DomainError) as refused, translation.override("en"):  # a detail of another decision
        decision_record(
            actor=officer,
            consignment=consignment,
            code="acceptable_for_onward_transportation",
            arrival_point="MQ-OTF-001",
            next_bcp="FRPTP4",
        )
    assert "This decision does not take this field." in str(refused.value.errors["next_bcp"])
    assert not Decision.objects.filter(consignment=consignment).exists()


@pytest.mark.parametrize("outcome", ["arrived", "not_arrived"])
def test_an_onward_transportation_is_followed_up_by_its_arrival_yes_or_no(importer, inspector, officer, outcome):
    """2019/1715 Part III: for CHED-PP and CHED-D under onward transportation or transfer, arrived yes/no."""
    consignment = _awaiting_decision(importer, inspector, "CHED-PP")
    decision = {**ACCEPT, "code": "acceptable_for_onward_transportation", "arrival_point": "MQ-OTF-001"}
    _do(officer, consignment, InspectionFlow.decide, decision)
    _run_certificate_job(consignment)
    client, task = _claimed(inspector, consignment, InspectionFlow.confirm_arrival)
    answer = (
        {"arrived": "1", "arrived_on": timezone.localdate().isoformat(), "seals_intact": "1"}
        if outcome == "arrived"
        else {"arrived": "0", "notes": "Not at the facility on 2026-12-07"}
    )
    assert client.post(task.reverse("execute"), answer).status_code == 302
    assert FollowUp.objects.get(consignment=consignment).outcome == outcome


def test_onward_travel_needs_no_follow_up(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector, "CHED-A")
    _do(
        officer,
        consignment,
        InspectionFlow.decide,
        {**ACCEPT, "code": "acceptable_for_onward_travel", "next_bcp": "FRPTP4"},
    )
    _run_certificate_job(consignment)
    assert not Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.follow_up
    ).exists()
    assert not follow_up_needed(consignment)
