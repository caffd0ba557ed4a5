"""`Idempotency-Key` on the API's writes (issue 15): a retry of the same write answers as the first did and writes
nothing twice; the same key for another request is a 422."""

import datetime
import io

import pytest
from django.utils import timezone

from inspection.models import AccompanyingDocument, Consignment, IdempotentRequest
from inspection.services.idempotency import idempotent_requests_purge
from tests.conftest import api_client_for
from tests.factories import part_one, pdf_bytes

pytestmark = pytest.mark.django_db


def _post(client, key, body, path="/api/v1/consignments/"):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_write_twice_is_one_consignment(importer):
    client = api_client_for(importer)
    body = part_one(as_json=True)
    first = _post(client, "9b1f6f0e-retry-1", body)
    again = _post(client, "9b1f6f0e-retry-1", body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Consignment.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(importer):
    client = api_client_for(importer)
    assert _post(client, "k-1", part_one(as_json=True)).status_code == 201
    response = _post(client, "k-1", part_one("CHED-P", as_json=True))
    assert response.status_code == 422 and "another request" in response.json()["detail"]
    assert Consignment.objects.count() == 1


def test_without_a_key_each_write_is_its_own(importer):
    client = api_client_for(importer)
    body = part_one(as_json=True)
    assert client.post("/api/v1/consignments/", body, format="json").status_code == 201
    assert client.post("/api/v1/consignments/", body, format="json").status_code == 201
    assert Consignment.objects.count() == 2


def test_a_refused_write_keeps_no_answer_so_the_corrected_one_goes_through(importer):
    client = api_client_for(importer)
    wrong = {**part_one(as_json=True), "bcp": "NOWHERE"}
    assert _post(client, "k-2", wrong).status_code == 400
    assert _post(client, "k-2", part_one(as_json=True)).status_code == 201
    assert Consignment.objects.count() == 1


def test_keys_are_each_users_own(importer, other_importer):
    body = part_one(as_json=True)
    assert _post(api_client_for(importer), "shared", body).status_code == 201
    assert _post(api_client_for(other_importer), "shared", body).status_code == 201
    assert Consignment.objects.count() == 2


def test_a_key_must_be_1_to_100_characters(importer):
    response = _post(api_client_for(importer), "x" * 101, part_one(as_json=True))
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Consignment.objects.exists()


def test_an_uploaded_document_sent_twice_is_one_document(importer):
    client = api_client_for(importer)
    draft = client.post("/api/v1/consignments/", {**part_one(as_json=True), "draft": True}, format="json").json()
    path = f"/api/v1/consignments/{draft['reference']}/documents/"

    def upload():
        file = io.BytesIO(pdf_bytes())
        file.name = "invoice.pdf"
        return client.post(
            path, {"file": file, "type": "COMMERCIAL_INVOICE"}, format="multipart", HTTP_IDEMPOTENCY_KEY="doc-1"
        )

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert AccompanyingDocument.objects.filter(consignment__reference=draft["reference"]).exclude(file="").count() == 1


def test_old_idempotency_keys_are_purged(importer, settings):
    settings.PIF_IDEMPOTENCY_RETENTION_HOURS = 24
    old = IdempotentRequest.objects.create(user=importer, key="old", fingerprint="a", status_code=201, body={})
    IdempotentRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    IdempotentRequest.objects.create(user=importer, key="new", fingerprint="b", status_code=201, body={})
    assert idempotent_requests_purge() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
