"""The customs link: Part I carries the customs status, procedure and MRN (checked); the customs system (read-only
role) reads a CHED's decision by number or MRN and nothing else of the importer's, and is told by webhook when
a decision is taken or revoked. Over HTTP, as the importer's and the customs systems do it."""

import hashlib
import hmac
import json

import pytest
from django.test import override_settings

from inspection.models import AuditEvent, Consignment, WebhookDelivery
from inspection.services.customs import customs_conflict, mrn_check_character
from inspection.tasks import webhook_send
from tests.conftest import api_client_for
from tests.test_notifications import Receiver
from tests.test_workflow_paths import (
    ACCEPT,
    _do,
    _documentary_ok,
    _rates,
    _released_pending,
    _run_certificate_job,
    _submit,
)
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db

MRN = "26FR00000000012349"  # its check character computed by ISO 6346's algorithm
CUSTOMS_KEYS = {
    "ched",
    "traces_reference",
    "ched_type",
    "bcp",
    "status",
    "customs_status",
    "customs_procedure",
    "mrn",
    "decision",
    "consistent",
    "conflict",
}


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _declared(importer, **customs):
    fields = {"customs_status": "non_union", "customs_procedure": "free_circulation", "customs_mrn": MRN}
    return _submit(importer, **(fields | customs))


def _accepted(importer, inspector, officer, **customs):
    _rates("08045000", 0, 0)
    consignment = _declared(importer, **customs)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    return consignment


# ---- Part I


def test_part_one_carries_the_customs_data(importer):
    consignment = _declared(importer, customs_mrn=MRN.lower())
    detail = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert detail["customs_status"] == "non_union"
    assert detail["customs_procedure"] == "free_circulation"
    assert detail["customs_mrn"] == MRN  # upper-cased


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"customs_mrn": "26FR0000000001234"}, "is not an MRN"),  # 17 characters
        ({"customs_mrn": "2XFR00000000012349"}, "is not an MRN"),  # year not two digits
        ({"customs_mrn": "26F100000000012349"}, "is not an MRN"),  # country not two letters
        ({"customs_mrn": "26FR0000000001234-"}, "is not an MRN"),
        ({"customs_mrn": "26FR00000000012348"}, "check character"),
        ({"customs_procedure": "smuggling"}, "is not a valid choice"),
        ({"customs_status": "eu"}, "is not a valid choice"),
    ],
)
def test_bad_customs_data_is_a_400_and_nothing_is_stored(importer, fields, message):
    body = {**_part(), **fields}
    response = api_client_for(importer).post("/api/v1/consignments/", body, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert not Consignment.objects.exists()


def _part():
    from tests.factories import part_one

    return part_one(as_json=True)


def test_mrn_check_character_follows_iso_6346():
    assert mrn_check_character("26FR0000000001234") == "9"
    # the letters count as in ISO 6346 (A=10, skipping multiples of 11), positions weigh 2**i
    assert mrn_check_character("26FR97200000042IJ") == "8"


# ---- the rule between the procedure and the decision


@pytest.mark.parametrize(
    ("decision", "procedure", "fits"),
    [
        ("acceptable_for_internal_market", "free_circulation", True),
        ("acceptable_for_internal_market", "transit", False),
        ("acceptable_for_transit", "free_circulation", False),
        ("acceptable_for_transit", "transit", True),
        ("acceptable_for_specific_warehouse", "customs_warehouse", True),
        ("acceptable_for_temporary_admission", "temporary_admission", True),
        ("non_acceptable", "free_circulation", False),
        ("acceptable_for_internal_market", "", True),  # nothing declared yet: nothing to compare
        (None, "transit", True),  # no decision yet
    ],
)
def test_the_procedure_must_fit_the_decision(decision, procedure, fits):
    assert (customs_conflict(decision_code=decision, procedure=procedure) == "") is fits


# ---- the customs system's read


def test_customs_reads_the_decision_by_number_and_by_mrn(importer, inspector, officer, customs):
    consignment = _accepted(importer, inspector, officer)
    client = api_client_for(customs)
    by_number = client.get("/api/v1/customs/cheds/", {"number": consignment.reference})
    assert by_number.status_code == 200, by_number.json()
    body = by_number.json()
    assert set(body) == CUSTOMS_KEYS
    assert body["decision"]["code"] == "acceptable_for_internal_market" and body["decision"]["in_force"]
    assert body["consistent"] is True and body["mrn"] == MRN
    assert client.get("/api/v1/customs/cheds/", {"mrn": MRN.lower()}).json() == body
    assert client.get(f"/api/v1/customs/cheds/{consignment.reference}/").json() == body


def test_customs_sees_nothing_else_of_the_importers(importer, customs):
    consignment = _declared(importer)
    text = api_client_for(customs).get("/api/v1/customs/cheds/", {"number": consignment.reference}).content.decode()
    for private in ("Frutas del Cibao", "Antilles Primeurs", "08045000", "CSQU3054383", "DO-2026-000123", "BL1234567"):
        assert private not in text
    client = api_client_for(customs)
    assert client.get("/api/v1/consignments/").json()["count"] == 0
    assert client.get(f"/api/v1/consignments/{consignment.reference}/").status_code == 404
    assert client.patch(f"/api/v1/consignments/{consignment.reference}/", {}, format="json").status_code == 404
    assert client.post("/api/v1/consignments/", _part(), format="json").status_code == 403


def test_an_inconsistent_procedure_is_flagged_to_customs(importer, inspector, officer, customs):
    consignment = _accepted(importer, inspector, officer, customs_procedure="transit")
    body = api_client_for(customs).get("/api/v1/customs/cheds/", {"number": consignment.reference}).json()
    assert body["consistent"] is False
    assert "does not allow the procedure “Transit”" in body["conflict"]


def test_before_the_decision_customs_reads_none(importer, customs):
    consignment = _declared(importer)
    body = api_client_for(customs).get("/api/v1/customs/cheds/", {"number": consignment.reference}).json()
    assert body["decision"] is None and body["status"] == "submitted"


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"number": "CHEDPP.FR.2026.9999999"}, 404, "No submitted CHED"),
        ({"mrn": "26FR00000000099994"}, 404, "No submitted CHED"),
        ({"mrn": "26FR00000000012348"}, 400, "check character"),
        ({"mrn": "nonsense"}, 400, "is not an MRN"),
        ({}, 400, "Give either"),
        ({"number": "X", "mrn": MRN}, 400, "Give either"),
    ],
)
def test_customs_bad_queries(customs, query, status, message):
    response = api_client_for(customs).get("/api/v1/customs/cheds/", query)
    assert response.status_code == status
    assert message in json.dumps(response.json(), ensure_ascii=False)


def test_a_draft_is_not_customs_business(importer, customs):
    response = api_client_for(importer).post(
        "/api/v1/consignments/", {**_part(), "draft": True, "customs_mrn": MRN}, format="json"
    )
    reference = response.json()["reference"]
    client = api_client_for(customs)
    assert client.get("/api/v1/customs/cheds/", {"number": reference}).status_code == 404
    assert client.get("/api/v1/customs/cheds/", {"mrn": MRN}).status_code == 404


@pytest.mark.parametrize("who", ["importer", "inspector", "lab", "anonymous"])
def test_only_customs_reads_the_customs_endpoints(request, importer, who):
    consignment = _declared(importer)
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = api_client_for(user)
    for url in (f"/api/v1/customs/cheds/?number={consignment.reference}", "/api/v1/customs/webhook/"):
        assert client.get(url).status_code == (401 if user is None else 404)
    assert client.put("/api/v1/customs/webhook/", {"url": "https://x.example"}, format="json").status_code in (
        401,
        404,
    )


def test_customs_is_read_only_on_the_consignments(importer, customs):
    consignment = _declared(importer)
    client = api_client_for(customs)
    for method, url in (
        ("post", f"/api/v1/consignments/{consignment.reference}/submit/"),
        ("post", f"/api/v1/consignments/{consignment.reference}/cancel/"),
        ("put", f"/api/v1/consignments/{consignment.reference}/"),
        ("post", "/api/v1/lab-results/"),
    ):
        assert getattr(client, method)(url, {}, format="json").status_code in (403, 404), url
    assert Consignment.objects.get().status == "submitted"


# ---- the customs webhook


def _subscribe(customs, url):
    with override_settings(PIF_WEBHOOK_ALLOW_HTTP=True):
        response = api_client_for(customs).put("/api/v1/customs/webhook/", {"url": url}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["secret"]


def test_customs_webhook_url_must_be_https(customs):
    response = api_client_for(customs).put("/api/v1/customs/webhook/", {"url": "http://x.example"}, format="json")
    assert response.status_code == 400 and "https://" in response.json()["url"][0]
    assert api_client_for(customs).get("/api/v1/customs/webhook/").json() == {"url": ""}


@override_settings(PIF_WEBHOOK_ALLOW_PRIVATE=True)
def test_customs_is_told_when_a_decision_is_taken(importer, inspector, officer, customs):
    receiver = Receiver()
    try:
        secret = _subscribe(customs, receiver.url)
        assert AuditEvent.objects.filter(action="customs_webhook.configured", actor=customs).exists()
        consignment = _accepted(importer, inspector, officer)
        delivery = WebhookDelivery.objects.get(subscription__user=customs)
        assert webhook_send.run(delivery.pk) is True
        [(headers, body)] = receiver.requests
    finally:
        receiver.close()
    payload = json.loads(body)
    assert payload["event"] == "decision.taken" and payload["ched"] == consignment.reference
    assert payload["decision"]["code"] == "acceptable_for_internal_market" and payload["mrn"] == MRN
    assert "Frutas del Cibao" not in body.decode() and "consignment" not in payload
    expected = hmac.new(secret.encode(), f"{headers['x-pif-timestamp']}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["x-pif-signature"] == f"sha256={expected}"


def test_customs_is_told_when_a_decision_is_revoked(importer, inspector, officer, lab, customs):
    _subscribe(customs, "https://customs.example/pif")
    consignment = _released_pending(importer, inspector)
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    number = consignment.samples.get().number
    api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": number, "conclusion": "not_satisfactory"}, format="json"
    )
    events = [d.payload["event"] for d in WebhookDelivery.objects.filter(subscription__user=customs).order_by("id")]
    assert events == ["decision.taken", "decision.revoked"]
    revoked = WebhookDelivery.objects.filter(subscription__user=customs).last().payload
    assert revoked["decision"] is None and revoked["status"] == "awaiting_decision"


def test_no_subscription_no_customs_delivery(importer, inspector, officer):
    _accepted(importer, inspector, officer)
    assert not WebhookDelivery.objects.filter(subscription__isnull=False).exists()


# ---- our own series, and TRACES NT's number beside it


def test_our_ched_numbers_are_in_our_own_series(importer, settings):
    assert _declared(importer).reference.startswith("CHEDPP.MQ.")


def _traces(user, consignment, number, language="en"):
    return api_client_for(user, language).post(
        f"/api/v1/consignments/{consignment.reference}/traces-reference/", {"traces_reference": number}, format="json"
    )


def test_staff_record_the_traces_number_and_customs_finds_the_ched_by_it(importer, officer, customs):
    consignment = _declared(importer)
    response = _traces(officer, consignment, "chedpp.fr.2026.0004567")
    assert response.status_code == 200, response.json()
    assert response.json()["traces_reference"] == "CHEDPP.FR.2026.0004567"
    event = AuditEvent.objects.get(consignment=consignment, action="traces_reference.recorded")
    assert event.data == {"traces_reference": "CHEDPP.FR.2026.0004567", "previous": ""} and event.actor == officer
    found = api_client_for(customs).get("/api/v1/customs/cheds/", {"number": "CHEDPP.FR.2026.0004567"})
    assert found.status_code == 200 and found.json()["ched"] == consignment.reference
    importer_view = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert importer_view["traces_reference"] == "CHEDPP.FR.2026.0004567"
    # box I.2 of the CHED prints it (it said "not assigned" before), our own number stays in I.3
    from tests.test_ched_boxes import _pdf_text

    consignment.refresh_from_db()
    text = _pdf_text(consignment)
    assert "CHEDPP.FR.2026.0004567" in text and "not assigned" not in text and consignment.reference in text


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("CHEDPP.MQ.2026.0000001", "is not a TRACES NT CHED number"),  # our own series
        ("CHEDPP.FR.26.0000001", "is not a TRACES NT CHED number"),
        ("nonsense", "is not a TRACES NT CHED number"),
        ("CHEDD.FR.2026.0000001", "starts with CHEDPP"),
    ],
)
def test_a_bad_traces_number_is_a_400(importer, officer, number, message):
    consignment = _declared(importer)
    response = _traces(officer, consignment, number)
    assert response.status_code == 400 and message in response.json()["traces_reference"][0]
    assert Consignment.objects.get(pk=consignment.pk).traces_reference == ""


def test_a_traces_number_belongs_to_one_ched(importer, officer):
    first, second = _declared(importer), _declared(importer, customs_mrn="")
    assert _traces(officer, first, "CHEDPP.FR.2026.0004567").status_code == 200
    response = _traces(officer, second, "CHEDPP.FR.2026.0004567")
    assert response.status_code == 400 and "Another CHED" in response.json()["traces_reference"][0]


def test_the_importer_and_customs_cannot_record_the_traces_number(importer, customs):
    consignment = _declared(importer)
    assert _traces(importer, consignment, "CHEDPP.FR.2026.0004567").status_code == 403
    assert _traces(customs, consignment, "CHEDPP.FR.2026.0004567").status_code == 404
    assert Consignment.objects.get(pk=consignment.pk).traces_reference == ""


def test_the_risk_draw_belongs_to_the_ched_not_to_the_series_label():
    from inspection.risk import risk_draw

    for kind in ("identity", "physical"):
        mq = risk_draw(reference="CHEDPP.MQ.2026.0000001", kind=kind)
        assert mq == risk_draw(reference="CHEDPP.FR.2026.0000001", kind=kind)
        assert mq != risk_draw(reference="CHEDPP.MQ.2026.0000002", kind=kind)


@pytest.mark.parametrize("series", ["FR", "DE", "m q", "TOOLONG"])
def test_a_member_states_code_or_a_malformed_series_is_refused_at_start(series):
    """Settings fail loudly (a fresh interpreter, as at start-up)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PIF_REFERENCE_SERIES": series, "DEBUG": "true"}
    run = subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, "-c", "import pif.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0 and "PIF_REFERENCE_SERIES must be" in run.stderr


def test_the_demo_shows_an_amended_ched_that_customs_finds_by_mrn(settings):
    import os

    from django.contrib.auth.models import User
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("demo", consignments=10, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("demo", consignments=10, stdout=open(os.devnull, "w"))  # noqa: SIM115  (safe twice)
    customs = User.objects.get(username="customs")
    assert customs.check_password("demo")
    [amended] = AuditEvent.objects.filter(action="consignment.amended")
    consignment = amended.consignment
    assert "arrival.expected_at" in amended.data["changes"] and consignment.customs_mrn
    answer = api_client_for(customs).get("/api/v1/customs/cheds/", {"mrn": consignment.customs_mrn})
    assert answer.status_code == 200 and answer.json()["ched"] == consignment.reference
