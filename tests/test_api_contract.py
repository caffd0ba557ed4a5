"""The public API contract (docs/api.md), as importers' systems use it."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from inspection.models import AuditEvent, Consignment, Notification, TracesExchange
from tests.conftest import api_client_for
from tests.factories import part_one

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"


def test_token_then_submit_then_read(importer):
    importer.set_password("s3cret-pass")
    importer.save()
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "alice", "password": "s3cret-pass"}, format="json")
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    created = client.post(URL, part_one(as_json=True), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "submitted"
    assert body["reference"].startswith("CHEDPP.MQ.")  # our own series (PIF_REFERENCE_SERIES), never TRACES NT's
    detail = client.get(f"{URL}{body['reference']}/").json()
    for key in (
        "ched_type",
        "bcp",
        "consignor",
        "consignee",
        "country_of_origin",
        "purpose",
        "arrival",
        "containers",
        "commodities",
        "accompanying_documents",
        "status",
        "timeline",
        "decision",
        "certificates",
    ):
        assert key in detail, key
    assert detail["commodities"][0]["cn_code"] == "08045000"
    assert detail["containers"] == [{"number": "CSQU3054383", "seal": "FX123456"}]
    assert [step["step"] for step in detail["timeline"]] == ["created", "submitted"]
    assert detail["certificates"] == [] and detail["decision"] is None


def test_wrong_password_gives_400_and_no_token():
    response = APIClient().post("/api/v1/auth/token/", {"username": "nobody", "password": "x"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_gets_401():
    assert APIClient().get(URL).status_code == 401


def test_draft_then_submit(api):
    draft = api.post(URL, {**part_one(as_json=True), "draft": True}, format="json")
    assert draft.status_code == 201
    assert draft.json()["status"] == "draft"
    reference = draft.json()["reference"]

    submitted = api.post(f"{URL}{reference}/submit/")

    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert Consignment.objects.get(reference=reference).submitted_at is not None


def test_incomplete_draft_is_kept_but_cannot_be_submitted(api):
    draft = api.post(URL, {"ched_type": "CHED-P", "draft": True}, format="json")
    assert draft.status_code == 201
    reference = draft.json()["reference"]

    refused = api.post(f"{URL}{reference}/submit/")

    assert refused.status_code == 400
    errors = refused.json()
    assert errors["bcp"] == ["This field is required."]
    assert "commodities" in errors
    assert Consignment.objects.get(reference=reference).status == "draft"


def test_submitting_twice_is_a_conflict(api):
    reference = api.post(URL, part_one(as_json=True), format="json").json()["reference"]
    again = api.post(f"{URL}{reference}/submit/")
    assert again.status_code == 409
    assert "already" in again.json()["detail"]


def test_draft_can_be_replaced_and_cancelled(api):
    reference = api.post(URL, {"ched_type": "CHED-PP", "draft": True}, format="json").json()["reference"]
    replaced = api.put(f"{URL}{reference}/", part_one(as_json=True), format="json")
    assert replaced.status_code == 200
    assert replaced.json()["bcp"] == "FRFDF1"

    cancelled = api.post(f"{URL}{reference}/cancel/", {"reason": "wrong supplier"}, format="json")

    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"{URL}{reference}/submit/").status_code == 409


def test_draft_cannot_change_ched_type(api):
    reference = api.post(URL, {"ched_type": "CHED-PP", "draft": True}, format="json").json()["reference"]
    response = api.put(f"{URL}{reference}/", part_one("CHED-P", as_json=True), format="json")
    assert response.status_code == 400
    assert "ched_type" in response.json()


def test_list_is_paginated_and_filtered(api):
    for _ in range(3):
        api.post(URL, part_one(as_json=True), format="json")
    api.post(URL, {"ched_type": "CHED-P", "draft": True}, format="json")

    page = api.get(URL, {"page_size": 2}).json()
    assert set(page) >= {"count", "next", "results"}
    assert page["count"] == 4
    drafts = api.get(URL, {"status": "draft"}).json()
    assert drafts["count"] == 1 and drafts["results"][0]["ched_type"] == "CHED-P"
    assert api.get(URL, {"ched_type": "CHED-PP"}).json()["count"] == 3


def test_malformed_body_is_a_400_with_field_messages(api):
    response = api.post(URL, {"ched_type": "CHED-X", "commodities": [{"net_weight_kg": "heavy"}]}, format="json")
    assert response.status_code == 400
    assert "ched_type" in response.json()
    assert "net_weight_kg" in response.json()["commodities"]["0"]
    assert Consignment.objects.count() == 0


def test_submit_records_audit_and_notifies_after_commit(api, importer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reference = api.post(URL, part_one(as_json=True), format="json").json()["reference"]
    consignment = Consignment.objects.get(reference=reference)
    assert list(AuditEvent.objects.filter(consignment=consignment).values_list("action", "actor", "role")) == [
        ("consignment.created", importer.pk, "importer"),
        ("consignment.submitted", importer.pk, "importer"),
        ("checks.planned", None, "system"),  # the inspection flow started in the same transaction
    ]
    notification = Notification.objects.get(consignment=consignment)
    assert notification.recipient == importer and notification.sent_at is None
    exchange = TracesExchange.objects.get(consignment=consignment)  # what TRACES NT must know, in the same outbox
    assert exchange.kind == "submitted" and exchange.sent_at is None
    assert len(callbacks) == 2  # the two sends are enqueued only once the transaction commits

    from inspection.tasks import notification_send

    assert notification_send.run(notification.pk) is True
    assert notification_send.run(notification.pk) is False  # a redelivered task sends nothing twice
    assert len(mail.outbox) == 1
    assert reference in mail.outbox[0].subject
    assert (
        "a bien reçu la pré-notification" in mail.outbox[0].body
        and "has received pre-notification" in mail.outbox[0].body
    )


def test_staff_cannot_pre_notify(inspector):
    response = api_client_for(inspector).post(URL, part_one(as_json=True), format="json")
    assert response.status_code == 403
    assert Consignment.objects.count() == 0


def test_openapi_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/consignments/" in schema.json()["paths"]
    assert "/api/v1/auth/token/" in schema.json()["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page
    assert 'src="http' not in page and 'href="http' not in page  # served from our static files, no CDN


def test_a_submit_stays_within_its_query_budget(api, django_assert_max_num_queries):
    api.post(URL, part_one(as_json=True), format="json")  # first-use lookups (content types, counters)
    # Part I, its writes, starting the inspection flow, and the TRACES exchange (the CHED's SPS XML, 6 reads)
    with django_assert_max_num_queries(66):
        assert api.post(URL, part_one(as_json=True), format="json").status_code == 201


def test_api_root_names_the_version_and_links():
    from django.conf import settings

    root = APIClient().get("/api/v1/")
    assert root.status_code == 200
    body = root.json()
    assert body["version"] == settings.SPECTACULAR_SETTINGS["VERSION"] == "1.0.0"
    assert body["consignments"].endswith("/api/v1/consignments/")
    assert body["schema"].endswith("/api/schema/")


def _schema(api) -> dict:
    return api.get("/api/schema/", {"format": "json"}).json()


def test_the_documented_submit_example_is_accepted_today(api):
    # Its arrival is computed when the schema is read: it must still be a valid submit whatever the date.
    operation = _schema(api)["paths"]["/api/v1/consignments/"]["post"]
    (example,) = operation["requestBody"]["content"]["application/json"]["examples"].values()
    created = api.post(URL, example["value"], format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "submitted"


def test_a_draft_without_arrival_lists_with_a_null_expected_at_as_documented(api):
    api.post(URL, {"ched_type": "CHED-PP", "draft": True}, format="json")
    row = api.get(URL).json()["results"][0]
    assert row["expected_at"] is None
    declared = _schema(api)["components"]["schemas"]["ConsignmentList"]["properties"]["expected_at"]
    assert declared.get("nullable") is True


def test_a_document_id_that_is_not_a_number_is_a_json_404(api):
    reference = api.post(URL, {"ched_type": "CHED-PP", "draft": True}, format="json").json()["reference"]
    response = api.get(f"{URL}{reference}/documents/abc/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_every_operation_declares_its_error_answers(api):
    for path, item in _schema(api)["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert {"401", "429"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if method in ("post", "put", "delete") and path != "/api/v1/auth/token/":
                assert {"400", "409"} <= set(responses), (method, path)
            schema = responses["401"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}


def test_part_one_is_json_only(api):
    response = api.post(URL, {"ched_type": "CHED-PP", "draft": "true"}, format="multipart")
    assert response.status_code == 415
    assert Consignment.objects.count() == 0
