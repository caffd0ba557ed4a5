"""What an operator watches: /metrics (to the machine itself or with the token only), a request id on every
answer, log line and the Celery tasks a request queues, JSON logs."""

import json
import logging

import pytest
from django.test import Client, override_settings

from inspection.observability import request_id
from inspection.observability.request_id import RequestIdFilter, request_id_of

pytestmark = pytest.mark.django_db


def _metrics(client=None, **extra):
    return (client or Client()).get("/metrics", **extra)


def test_metrics_answer_the_machine_itself_in_prometheus_format(importer):
    from tests.conftest import api_client_for

    api_client_for(importer).get("/api/v1/consignments/")
    response = _metrics()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'pif_http_requests_total{method="GET",status="200",view="consignment-list"}' in text
    assert "pif_http_request_duration_seconds_bucket" in text
    for name in (
        "pif_audit_chain_length",
        "pif_notifications_pending",
        "pif_traces_exchanges_pending",
        "pif_broker_up",
        "pif_consignments",
    ):
        assert f"# TYPE {name} gauge" in text, name


def test_metrics_count_the_post_state(importer):
    from inspection.models import AuditEvent
    from inspection.services.consignments import consignment_create
    from tests.factories import part_one

    consignment_create(actor=importer, part_one=part_one())
    text = _metrics().content.decode()
    assert f"pif_audit_chain_length {float(AuditEvent.objects.order_by('-seq').first().seq)}" in text
    assert 'pif_consignments{status="submitted"} 1.0' in text


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_refuse_other_machines_without_the_token():
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert _metrics(**outside).status_code == 404
    # a forwarded header claiming the machine is not the machine
    assert _metrics(HTTP_X_FORWARDED_FOR="127.0.0.1", **outside).status_code == 404
    assert _metrics(HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 404
    assert _metrics(HTTP_AUTHORIZATION="Bearer s3cret-metrics-token", **outside).status_code == 200


def test_every_answer_carries_a_request_id():
    client = Client()
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    fresh = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith a line break")
    assert len(fresh["X-Request-ID"]) == 32 and "\n" not in fresh["X-Request-ID"]
    assert client.get("/healthz")["X-Request-ID"] != fresh["X-Request-ID"]


def test_the_request_id_goes_into_the_tasks_a_request_queues():
    token = request_id.current.set("req-42")
    try:
        headers = {}
        request_id._publish_with_request_id(headers=headers)
    finally:
        request_id.current.reset(token)
    assert headers == {"request_id": "req-42"}

    class Request:
        pass

    class Task:
        request = Request()

    Task.request.headers = headers
    Task.request.request_id = None
    request_id._task_with_request_id(task=Task)
    assert request_id.current.get() == "req-42"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "req-42"
    request_id._task_done(task=Task)
    assert request_id.current.get() == ""


def test_logs_are_json_with_the_request_id():
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
    record = logging.LogRecord("inspection", logging.WARNING, __file__, 1, "broker down", None, None)
    token = request_id.current.set(request_id_of("abc"))
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.current.reset(token)
    line = json.loads(formatter.format(record))
    assert line["message"] == "broker down" and line["request_id"] == "abc" and line["levelname"] == "WARNING"
