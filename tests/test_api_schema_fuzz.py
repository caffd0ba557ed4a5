"""Schemathesis fuzzes every operation of the OpenAPI schema through the WSGI app, against the test database:
no answer may be a 5xx, and every answer whose status the schema documents must match that response's schema.
(The schema documents the successes only; the bodies of 400s and 404s are checked by the contract tests.)

Bounded: four generated examples per operation, no per-example deadline and no shrinking. Most of the time
goes to schemathesis's own examples and boundary cases (its explicit phase, which does not depend on
`max_examples`): the whole file took 57 s on the quiet 2-core machine, about 2.5 minutes while a bench ran.
A failure prints the request that caused it (with `curl` to replay it)."""

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from pif.wsgi import application
from tests.conftest import api_client_for
from tests.factories import part_one

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


@pytest.fixture
def importer_draft(importer):
    """One complete draft of the importer's, so that lists have a row and the operations on a consignment
    reach its serializer and services (a submit, an upload, an edit) instead of stopping at a 404."""
    client = api_client_for(importer)
    created = client.post("/api/v1/consignments/", {**part_one(as_json=True), "draft": True}, format="json")
    assert created.status_code == 201, created.json()
    cache.clear()  # the rate limits count per user in the cache; each operation starts with a full allowance
    return created.json()["reference"]


# Loaded when the module is collected: the schema view reads no database. (Loading it from a fixture with
# `schemathesis.pytest.from_fixture` fails under pytest 9, which no longer has the `Node._nodeid` it rewrites.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_api_answers_the_importer_as_documented(case, importer, importer_draft):
    # A generated reference is always unknown (a 404, which tests/test_isolation.py covers); the fuzzing is
    # in the bodies, queries and other path parameters, sent against the importer's own consignment.
    if "reference" in (case.path_parameters or {}):
        case.path_parameters["reference"] = importer_draft
    token = Token.objects.get_or_create(user=importer)[0].key
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@schema.include(path="/api/v1/lab-results/").parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_lab_results_answer_the_lab_as_documented(case, lab):
    # The importer above only ever gets a 403 here; the lab's results are fuzzed as the lab, whose account
    # covers every laboratory. No sample exists, so this tests the validation and refusals, not the recording
    # (tests/test_workflow_paths.py walks a real result through).
    token = Token.objects.get_or_create(user=lab)[0].key
    cache.clear()
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
