"""Schemathesis fuzzes the exports operations (`/api/v1/exports/`) as the exporter, against a draft of theirs:
no answer may be a 5xx, and every documented answer must match its schema (tests/test_api_schema_fuzz.py does
the same for the importer, who only ever gets 403s and 404s here)."""

import pytest
from django.core.cache import cache

from inspection.services.api_tokens import api_token_login
from tests.conftest import api_client_for
from tests.factories import export_application
from tests.test_api_schema_fuzz import FUZZ_SETTINGS, call_and_validate, schema


@pytest.fixture
def exporter_key(exporter):
    return api_token_login(actor=exporter)[1]


@pytest.fixture
def exporter_draft(exporter):
    created = api_client_for(exporter).post("/api/v1/exports/", export_application(), format="json")
    assert created.status_code == 201, created.json()
    cache.clear()
    return {"application": created.json()["reference"]}


@schema.include(path_regex="^/api/v1/exports/").parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_exports_answer_the_exporter_as_documented(case, exporter_key, exporter_draft):
    for name in set(case.path_parameters or {}) & set(exporter_draft):
        case.path_parameters[name] = exporter_draft[name]
    call_and_validate(case, exporter_key)
