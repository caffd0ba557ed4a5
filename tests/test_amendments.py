"""A submitted CHED's Part I is amended by its importer before the checks start (audited field by field, shown
to the officer); after, only the expected arrival moves (until the goods are recorded), and it moves the
documentary check's deadline with it. Over HTTP, as the importer's system and the portal do it."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from inspection.models import AuditEvent, Consignment
from tests.conftest import api_client_for
from tests.factories import arrival_in, goods_arrived
from tests.test_arrival import _deadline
from tests.test_workflow_paths import _do, _documentary_ok, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _patch(user, consignment, body, language="en"):
    return api_client_for(user, language).patch(f"/api/v1/consignments/{consignment.reference}/", body, format="json")


def _amended(consignment):
    return AuditEvent.objects.filter(consignment=consignment, action="consignment.amended")


def test_importer_amends_a_container_number_and_the_change_is_audited_old_and_new(importer):
    consignment = _submit(importer)
    response = _patch(importer, consignment, {"containers": [{"number": "MSCU1234566", "seal": "FX999"}]})
    assert response.status_code == 200, response.json()
    assert response.json()["containers"] == [{"number": "MSCU1234566", "seal": "FX999"}]
    assert response.json()["status"] == "submitted"
    event = _amended(consignment).get()
    assert event.data["changes"] == {
        "containers.0.number": ["CSQU3054383", "MSCU1234566"],
        "containers.0.seal": ["FX123456", "FX999"],
    }
    assert event.actor == importer
    step = [t for t in response.json()["timeline"] if t["step"] == "amended"]
    assert step and "containers.0.number" in step[0]["outcome"]


def test_a_group_is_merged_field_by_field(importer):
    consignment = _submit(importer)
    response = _patch(importer, consignment, {"consignee": {"name": "Caraïbes Frais SAS"}})
    assert response.status_code == 200, response.json()
    assert response.json()["consignee"]["name"] == "Caraïbes Frais SAS"
    assert response.json()["consignee"]["country"] == "FR"  # untouched
    assert _amended(consignment).get().data["changes"] == {
        "consignee.name": ["Antilles Primeurs SARL", "Caraïbes Frais SAS"]
    }


def test_an_amendment_breaking_a_submit_rule_is_a_400_and_nothing_changes(importer):
    consignment = _submit(importer)
    response = _patch(importer, consignment, {"containers": [{"number": "CSQU3054384", "seal": "X"}]})
    assert response.status_code == 400
    assert "check digit" in str(response.json()["containers"])
    response = _patch(importer, consignment, {"consignor": {"name": ""}})
    assert response.status_code == 400 and "consignor" in response.json()
    assert consignment.containers.get().number == "CSQU3054383"
    assert not _amended(consignment).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"bcp": "FRFDF4"}, "bcp"), ({"ched_type": "CHED-D"}, "ched_type")],
)
def test_the_bcp_and_ched_type_are_fixed_once_submitted(importer, body, field):
    consignment = _submit(importer)
    response = _patch(importer, consignment, body)
    assert response.status_code == 400
    assert response.json()[field] == ["This cannot change once the CHED is submitted."]


def test_changing_what_the_check_plan_was_drawn_from_needs_a_replacement(importer):
    consignment = _submit(importer)
    response = _patch(importer, consignment, {"country_of_origin": "CO"})
    assert response.status_code == 409
    assert "replacement CHED" in response.json()["detail"]


def test_after_the_documentary_check_an_amendment_is_a_409_asking_for_a_replacement(importer, inspector):
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    response = _patch(importer, consignment, {"consignee": {"name": "Autre SARL"}})
    assert response.status_code == 409
    assert "started its checks" in response.json()["detail"]
    assert "replacement CHED" in response.json()["detail"]
    assert Consignment.objects.get(pk=consignment.pk).consignee_name == "Antilles Primeurs SARL"
    french = _patch(importer, consignment, {"consignee": {"name": "Autre SARL"}}, language="fr")
    assert "remplacement" in french.json()["detail"]


def test_the_arrival_moves_after_the_checks_started_and_the_deadline_follows(importer, inspector):
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    later = arrival_in(9, 14)
    response = _patch(importer, consignment, {"arrival": {"expected_at": later.isoformat()}})
    assert response.status_code == 200, response.json()
    consignment.refresh_from_db()
    assert consignment.expected_arrival == later
    event = AuditEvent.objects.get(consignment=consignment, action="arrival.moved")
    assert event.data["changes"]["arrival.expected_at"][1] == later.astimezone(datetime.UTC).isoformat()
    assert event.data["prenotification_in_time"] is True


def test_a_moved_arrival_rearms_the_documentary_check_deadline(importer):
    consignment = _submit(importer)
    before = _deadline(consignment).scheduled
    later = arrival_in(12, 9)
    assert _patch(importer, consignment, {"arrival": {"expected_at": later.isoformat()}}).status_code == 200
    assert _deadline(consignment).scheduled == later - datetime.timedelta(hours=1)
    assert _deadline(consignment).scheduled > before


def test_an_earlier_arrival_is_accepted_and_a_late_prenotification_recorded(importer):
    consignment = _submit(importer)
    soon = timezone.now() + datetime.timedelta(hours=2)
    assert _patch(importer, consignment, {"arrival": {"expected_at": soon.isoformat()}}).status_code == 200
    assert (
        AuditEvent.objects.get(consignment=consignment, action="arrival.moved").data["prenotification_in_time"] is False
    )


@pytest.mark.parametrize(
    ("expected_at", "message"),
    [
        (lambda: timezone.now() - datetime.timedelta(hours=1), "The expected arrival must be in the future."),
        (lambda: timezone.now() + datetime.timedelta(days=400), "Pre-notify at most a year before arrival."),
        (lambda: None, "This field is required."),
    ],
)
def test_a_bad_new_arrival_is_a_400(importer, expected_at, message):
    consignment = _submit(importer)
    value = expected_at()
    response = _patch(importer, consignment, {"arrival": {"expected_at": value.isoformat() if value else None}})
    assert response.status_code == 400
    assert response.json() == {"arrival.expected_at": [message]} or response.json() == {
        "arrival": {"expected_at": [message]}
    }


def test_the_arrival_no_longer_moves_once_the_goods_are_recorded(importer, inspector):
    consignment = _submit(importer)
    goods_arrived(consignment, inspector)
    response = _patch(importer, consignment, {"arrival": {"expected_at": arrival_in(9).isoformat()}})
    assert response.status_code == 409
    assert "recorded at the post" in response.json()["detail"]


def test_a_draft_is_edited_not_amended(importer):
    response = api_client_for(importer).post(
        "/api/v1/consignments/", {"draft": True, "ched_type": "CHED-PP"}, format="json"
    )
    draft = Consignment.objects.get(reference=response.json()["reference"])
    assert _patch(importer, draft, {"consignee": {"name": "X"}}).status_code == 409


def test_a_bad_type_is_a_400(importer):
    consignment = _submit(importer)
    response = _patch(importer, consignment, {"arrival": {"expected_at": "tomorrow"}})
    assert response.status_code == 400 and "arrival" in response.json()


def test_nothing_changed_records_nothing(importer):
    consignment = _submit(importer)
    assert _patch(importer, consignment, {"consignee": {"name": "Antilles Primeurs SARL"}}).status_code == 200
    assert not _amended(consignment).exists()


def test_staff_cannot_amend_an_importers_part_one(importer, inspector):
    consignment = _submit(importer)
    assert _patch(inspector, consignment, {"consignee": {"name": "X"}}).status_code == 403


def test_the_officer_sees_what_changed_on_the_task_page(importer, inspector):
    consignment = _submit(importer)
    _patch(importer, consignment, {"consignee": {"name": "Caraïbes Frais SAS"}})
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(inspector)
    from tests.test_workflow_paths import _open_task

    task = _open_task(consignment, InspectionFlow.documentary_check)
    client.post(task.reverse("assign"))
    page = client.get(task.reverse("execute")).content.decode()
    assert "Part I amended" in page
    assert "Antilles Primeurs SARL" in page and "Caraïbes Frais SAS" in page


# ---- the portal's form


def _portal_submit(importer):
    from tests.test_portal import _form

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    client.post("/consignments/new/", _form())
    return client, Consignment.objects.get()


def test_importer_amends_in_the_portal_and_sees_it_on_the_detail_page(importer):
    from tests.test_portal import _form

    client, consignment = _portal_submit(importer)
    detail = client.get(consignment.get_absolute_url()).content.decode()
    assert "Amend Part I" in detail
    edit_url = f"/consignments/{consignment.reference}/edit/"
    page = client.get(edit_url).content.decode()
    assert "Save the amendment" in page and "Submit pre-notification" not in page
    form = _form(consignee_name="Caraïbes Frais SAS", amend="1")
    del form["submit"]
    response = client.post(edit_url, form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    consignment.refresh_from_db()
    assert consignment.consignee_name == "Caraïbes Frais SAS" and consignment.status == "submitted"
    # the unchanged fields (arrival typed in local time, weights as typed) are not taken for changes
    assert _amended(consignment).get().data["changes"] == {
        "consignee.name": ["Antilles Primeurs SARL", "Caraïbes Frais SAS"]
    }
    assert f"Pre-notification {consignment.reference} amended." in client.get(response.url).content.decode()


def test_portal_amendment_after_the_checks_started_shows_why_and_changes_nothing(importer, inspector):
    from tests.test_portal import _form

    client, consignment = _portal_submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    form = _form(consignee_name="Autre SARL", amend="1")
    del form["submit"]
    response = client.post(f"/consignments/{consignment.reference}/edit/", form)
    assert response.status_code == 200
    assert "submit a replacement CHED" in response.content.decode()
    assert Consignment.objects.get(pk=consignment.pk).consignee_name == "Antilles Primeurs SARL"


def test_another_company_cannot_open_the_amendment_form(importer, other_importer):
    client, consignment = _portal_submit(importer)
    other = Client()
    other.force_login(other_importer)
    assert other.get(f"/consignments/{consignment.reference}/edit/").status_code == 404
