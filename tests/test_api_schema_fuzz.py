"""Schemathesis fuzzes every operation of the OpenAPI schema through the WSGI app, against the test database,
on SQLite and PostgreSQL alike (`.ci/run`): no answer may be a 5xx, and every answer whose status the schema
documents must match that response's schema (every status is documented, error bodies included:
tests/test_api_contract_live.py checks all of it against a live server). Every write is fuzzed: the
consignments' (create, edit, submit, cancel, clone, documents and their removal, commodity and ePhyto
imports) as the importer with an API token,
against a draft of theirs holding one document; the lab results as a lab; the token endpoint.

Bounded: four generated examples per operation, no per-example deadline and no shrinking. Most of the time
goes to schemathesis's own examples and boundary cases (its explicit phase, which does not depend on
`max_examples`). Measured 2026-12-07 on the shared 2-core machine (`time .venv/bin/pytest
tests/test_api_schema_fuzz.py`, with `DATABASE_URL` for PostgreSQL): about 75 s of CPU on either database;
5.7 minutes of wall time for PostgreSQL alone, 12 to 13 minutes for each when both ran at once among other
jobs (57 s on SQLite when the machine was quiet, before documents were fuzzed).
A failure prints the request that caused it (with `curl` to replay it)."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from inspection.services.api_tokens import api_token_create, api_token_login
from pif.wsgi import application
from tests.conftest import api_client_for
from tests.factories import part_one, pdf_bytes

CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=4,
    deadline=None,
    # The database fixture is per operation, on purpose: the examples of one operation share its data.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    # No shrinking: a failure is reported as found, which keeps a failing run as bounded as a passing one.
    phases=[Phase.explicit, Phase.generate],
    database=None,
)


def call_and_validate(case, key):
    """Schemathesis calls the WSGI app as a server would, and Django's handler then runs `close_old_connections`
    as each request starts and finishes. Inside the test's transaction the connection's autocommit differs from
    the settings', so that closes it: on PostgreSQL the next query finds it closed (SQLite's in-memory test
    database ignores `close()`). Django's own test client disconnects the receiver around each of its requests
    (and connects it again after, which is why this is done per call, not once in a fixture); so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        case.call_and_validate(headers={"Authorization": f"Token {key}"}, checks=CHECKS)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def importer_key(importer):
    return api_token_create(actor=importer, name="fuzzing")[1]


@pytest.fixture
def lab_key(lab):
    return api_token_login(actor=lab)[1]


@pytest.fixture
def importer_draft(importer):
    """One complete draft of the importer's, with one document, so that lists have a row and the operations on
    a consignment or its document reach their serializer and services (a submit, an upload, an edit, a
    removal) instead of stopping at a 404: the generated path parameters are replaced by these."""
    cache.clear()  # the operation fuzzed before may have spent the importer's allowance (the cache outlives it)
    client = api_client_for(importer)
    created = client.post("/api/v1/consignments/", {**part_one(as_json=True), "draft": True}, format="json")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    pdf = SimpleUploadedFile("phyto.pdf", pdf_bytes(), content_type="application/pdf")
    document = client.post(
        f"/api/v1/consignments/{reference}/documents/",
        {"file": pdf, "type": "PHYTOSANITARY_CERTIFICATE"},
        format="multipart",
    )
    assert document.status_code == 201, document.json()
    cache.clear()  # the rate limits count per user in the cache; each operation starts with a full allowance
    return {"reference": reference, "document_id": document.json()["id"]}


# Loaded when the module is collected: the schema view reads no database. (Loading it from a fixture with
# `schemathesis.pytest.from_fixture` fails under pytest 9, which no longer has the `Node._nodeid` it rewrites.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_api_answers_the_importer_as_documented(case, importer_key, importer_draft):
    # A generated reference or document id is always unknown (a 404, which tests/test_isolation.py covers);
    # the fuzzing is in the bodies, queries and other path parameters, sent against the importer's own draft.
    for name in set(case.path_parameters or {}) & set(importer_draft):
        case.path_parameters[name] = importer_draft[name]
    call_and_validate(case, importer_key)


@schema.include(path="/api/v1/lab-results/").parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_lab_results_answer_the_lab_as_documented(case, lab_key):
    # The importer above only ever gets a 403 here; the lab's results are fuzzed as the lab, whose account
    # covers every laboratory. No sample exists, so this tests the validation and refusals, not the recording
    # (tests/test_workflow_paths.py walks a real result through).
    cache.clear()
    call_and_validate(case, lab_key)
