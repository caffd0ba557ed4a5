"""Export applications over HTTP, as an exporter's system uses `/api/v1/exports/`: draft, edit, submit, the
errors of bad input, and another company's applications (404, never listed)."""

import pytest
from django.urls import reverse

from inspection.models import AuditEvent, ExportApplication, ExportStatus
from tests.conftest import api_client_for
from tests.factories import export_application, part_one

pytestmark = pytest.mark.django_db

LIST = "/api/v1/exports/"


def _detail(reference: str) -> str:
    return reverse("export-detail", kwargs={"application": reference})


def _submit(reference: str) -> str:
    return reverse("export-submit", kwargs={"application": reference})


def test_exporter_drafts_then_submits(exporter):
    api = api_client_for(exporter)
    created = api.post(LIST, export_application(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["reference"].startswith("PHYTO.FR.")
    assert body["status"] == "draft"
    assert body["lines"][0]["botanical_name"] == "Musa acuminata"
    assert body["destination"] == {"country": "CA", "point_of_entry": "Montréal", "unlocode": "CAMTR"}
    assert [step["step"] for step in body["timeline"]] == ["created"]

    submitted = api.post(_submit(body["reference"]))
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    assert [step["step"] for step in submitted.json()["timeline"]] == ["created", "submitted"]
    actions = list(
        AuditEvent.objects.filter(data__export=body["reference"]).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["export.created", "export.submitted"]

    listed = api.get(LIST).json()
    assert listed["count"] == 1
    assert listed["results"][0]["reference"] == body["reference"]
    assert listed["results"][0]["certificates"] == []


def test_submitted_at_once_when_not_a_draft(exporter):
    response = api_client_for(exporter).post(LIST, {**export_application(), "draft": False}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "submitted"


def test_incomplete_draft_is_kept_but_cannot_be_submitted(exporter):
    api = api_client_for(exporter)
    draft = export_application(lines=[], destination={"country": "CA", "point_of_entry": ""})
    created = api.post(LIST, draft, format="json")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    refused = api.post(_submit(reference))
    assert refused.status_code == 400
    errors = refused.json()
    assert "lines" in errors and "point_of_entry" in errors["destination"]
    assert ExportApplication.objects.get(reference=reference).status == ExportStatus.DRAFT


def test_draft_is_replaced_with_put(exporter):
    api = api_client_for(exporter)
    reference = api.post(LIST, export_application(), format="json").json()["reference"]
    changed = export_application(consignee={"name": "Caribe Frutas", "address": "Calle 5, San Juan", "country": "PR"})
    response = api.put(_detail(reference), changed, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["consignee"]["name"] == "Caribe Frutas"
    api.post(_submit(reference))
    again = api.put(_detail(reference), changed, format="json")
    assert again.status_code == 409
    assert "draft" in again.json()["detail"]


def test_a_name_no_field_has_is_not_audited_even_with_a_nul(exporter):
    """The audit records the application as stored, not the body as sent: a key holding NUL (which PostgreSQL's
    JSON refuses) or any other unknown name was a 500 on PostgreSQL (found by the fuzzing)."""
    api = api_client_for(exporter)
    created = api.post(LIST, {**export_application(), "\x00$M)": "x"}, format="json")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    response = api.put(_detail(reference), {**export_application(), "\x00$M)": ["-62943405"], "[]": ""}, format="json")
    assert response.status_code == 200, response.json()
    events = AuditEvent.objects.filter(data__export=reference).order_by("pk")
    assert [e.action for e in events] == ["export.created", "export.draft_updated"]
    for event in events:
        assert "\x00$M)" not in event.data["application_data"] and "[]" not in event.data["application_data"]
        assert event.data["application_data"]["consignor"]["name"] == export_application()["consignor"]["name"]


def test_submitting_twice_is_a_conflict(exporter):
    api = api_client_for(exporter)
    reference = api.post(LIST, export_application(), format="json").json()["reference"]
    assert api.post(_submit(reference)).status_code == 200
    assert api.post(_submit(reference)).status_code == 409


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"destination": {"country": "ZZ", "point_of_entry": "X"}}, ("destination", "country")),
        ({"destination": {"country": "MQ", "point_of_entry": "X"}}, ("destination", "country")),
        ({"destination": {"country": "CA", "point_of_entry": "X", "unlocode": "12"}}, ("destination", "unlocode")),
        ({"conveyance": {"mode": "rail", "id": "x"}}, ("conveyance", "mode")),
        ({"treatment": {"date": "yesterday", "name": "dip"}}, ("treatment", "date")),
        ({"treatment": {"date": "2999-01-01", "name": "dip"}}, ("treatment", "date")),
        ({"treatment": {"chemical": "Azoxystrobine"}}, ("treatment", "name")),
        ({"kind": "import"}, ("kind",)),
        ({"lines": "bananas"}, ("lines",)),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(exporter, change, path):
    response = api_client_for(exporter).post(LIST, {**export_application(), **change}, format="json")
    assert response.status_code == 400, response.json()
    node = response.json()
    for key in path:
        node = node[key]
    assert node and isinstance(node[0], str)
    assert not ExportApplication.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hs_code", "0803"),
        ("eppo_code", "musa acuminata"),
        ("net_weight_kg", "-3"),
        ("net_weight_kg", "lots"),
        ("packages", 0),
        ("packages", "12"),
        ("package_type", "XX"),
    ],
)
def test_bad_line_is_a_400_on_its_field(exporter, field, value):
    line = {**export_application()["lines"][0], field: value}
    response = api_client_for(exporter).post(LIST, export_application(lines=[line]), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["lines"]["0"]


def test_not_json_object_is_a_400(exporter):
    response = api_client_for(exporter).post(LIST, ["not", "an", "object"], format="json")
    assert response.status_code == 400


def test_reexport_names_a_ched_pp_of_its_own_company(exporter, importer):
    from inspection.services.consignments import consignment_create

    others = consignment_create(actor=importer, part_one=part_one(), draft=True)
    api = api_client_for(exporter)
    data = export_application(
        kind="reexport",
        reexport={"original_certificate": "DO-2026-1", "original_country": "DO", "ched_reference": others.reference},
    )
    response = api.post(LIST, data, format="json")
    assert response.status_code == 400
    assert response.json()["reexport"]["ched_reference"] == ["No CHED-PP of your company has this reference."]
    incomplete = api.post(LIST, {**export_application(kind="reexport"), "draft": False}, format="json")
    assert incomplete.status_code == 400
    assert set(incomplete.json()["reexport"]) == {"original_certificate", "original_country", "ched_reference"}


def test_another_company_sees_nothing(exporter, other_exporter, importer, inspector):
    reference = api_client_for(exporter).post(LIST, export_application(), format="json").json()["reference"]
    for user in (other_exporter, importer):
        api = api_client_for(user)
        assert api.get(LIST).json()["count"] == 0
        assert api.get(_detail(reference)).status_code == 404
        assert api.put(_detail(reference), export_application(), format="json").status_code == 404
        assert api.post(_submit(reference)).status_code == 404
    # staff see it (the post checks it)
    assert api_client_for(inspector).get(_detail(reference)).status_code == 200


def test_only_an_exporter_applies(importer, inspector):
    for user in (importer, inspector):
        response = api_client_for(user).post(LIST, export_application(), format="json")
        assert response.status_code == 403
        assert "exporting company" in response.json()["detail"]
    assert api_client_for(None).get(LIST).status_code in (401, 403)


def test_errors_in_french(exporter):
    api = api_client_for(exporter, language="fr")
    response = api.post(LIST, {**export_application(), "kind": "import"}, format="json")
    assert response.status_code == 400
    assert response.json()["kind"] == ["« export » ou « reexport »."]


def test_list_stays_within_its_query_budget(exporter, django_assert_max_num_queries):
    api = api_client_for(exporter)
    for _ in range(3):
        api.post(LIST, export_application(), format="json")
    with django_assert_max_num_queries(12):
        assert api.get(LIST).json()["count"] == 3


def test_exporter_system_logs_in_for_a_token_and_applies(exporter):
    from rest_framework.test import APIClient

    client = APIClient()
    login = client.post("/api/v1/auth/token/", {"username": "eric", "password": "pw"}, format="json")
    assert login.status_code == 200, login.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    created = client.post(LIST, {**export_application(), "draft": False}, format="json")
    assert created.status_code == 201, created.json()
    assert client.get(LIST).json()["results"][0]["status"] == "submitted"
