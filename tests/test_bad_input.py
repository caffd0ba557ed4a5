"""Hostile or absurd input gets a 400 with a message, never a 500, and nothing is stored: numbers beyond what
the database holds, JSON nested deeper than any real payload."""

import json

import pytest
from django.test import Client

from inspection.models import Consignment, LabResult, LabResultSubmission
from tests.conftest import api_client_for
from tests.factories import part_one

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
CONSIGNMENTS = "/api/v1/consignments/"
LAB_RESULTS = "/api/v1/lab-results/"
DEEP = "[" * 10_000 + "]" * 10_000


def _with_line(**line) -> dict:
    payload = part_one(as_json=True)
    payload["commodities"][0].update(line)
    return payload


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"packages": 2**70}, "packages"),
        ({"packages": 2**31}, "packages"),
        ({"net_weight_kg": "1" + "0" * 30}, "net_weight_kg"),
        ({"net_weight_kg": 10**20}, "net_weight_kg"),
        ({"net_weight_kg": "-5"}, "net_weight_kg"),
    ],
)
def test_a_number_beyond_its_column_is_refused_with_a_message(importer, line, field):
    response = api_client_for(importer).post(CONSIGNMENTS, _with_line(**line), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["commodities"]["0"][field]
    assert not Consignment.objects.exists()


def test_the_largest_packages_count_the_column_holds_is_accepted(importer):
    response = api_client_for(importer).post(CONSIGNMENTS, _with_line(packages=2**31 - 1), format="json")

    assert response.status_code == 201, response.json()


def _raw_post(user, url: str, body: str):
    client = Client()
    client.force_login(user)
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "body", [DEEP, json.dumps({"sample": "X", "conclusion": "satisfactory"})[:-1] + ', "x": ' + DEEP + "}"]
)
def test_deeply_nested_json_is_refused_by_the_lab_results_endpoint(lab, body):
    response = _raw_post(lab, LAB_RESULTS, body)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert not LabResultSubmission.objects.exists() and not LabResult.objects.exists()


def test_deeply_nested_json_is_refused_by_the_consignments_endpoint(importer):
    response = _raw_post(importer, CONSIGNMENTS, DEEP)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert not Consignment.objects.exists()


def test_a_number_too_large_for_a_float_is_refused(lab):
    response = _raw_post(
        lab, LAB_RESULTS, '{"sample": "X", "conclusion": "satisfactory", "analytes": [{"name": "Pb", "value": 1e400}]}'
    )

    assert response.status_code == 400
    assert "too large" in response.json()["detail"]
    assert not LabResultSubmission.objects.exists()


def test_json_nested_as_deep_as_the_limit_is_still_parsed(lab):
    nested = "[" * 31 + "1" + "]" * 31  # 32 levels with the object around it
    body = '{"sample": "NOPE", "conclusion": "satisfactory", "x": ' + nested + "}"
    response = _raw_post(lab, LAB_RESULTS, body)

    assert response.status_code == 404  # parsed, then the sample is unknown


def test_json_one_level_deeper_than_the_limit_is_refused(lab):
    nested = "[" * 32 + "1" + "]" * 32
    body = '{"sample": "NOPE", "conclusion": "satisfactory", "x": ' + nested + "}"

    response = _raw_post(lab, LAB_RESULTS, body)

    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]
