"""Operations: /healthz, the demo command, production settings."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import checks
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from inspection import tasks
from inspection.models import ArrivalConfirmation, Consignment, Heartbeat
from inspection.services.heartbeat import HEARTBEAT_TASK, heartbeat_beat_sent, heartbeat_worker_seen

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    heartbeat_beat_sent()
    heartbeat_worker_seen()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok", "broker": "ok"}
    for process in ("worker", "beat"):
        assert body[process]["ok"] is True
        assert 0 <= body[process]["age_seconds"] < 60
        assert body[process]["last_seen"] is not None


def test_heartbeat_task_records_the_worker_run():
    before = timezone.now()
    tasks.heartbeat()  # run directly, as a worker would
    row = Heartbeat.objects.get()
    assert row.worker_seen_at >= before and row.beat_sent_at is None


def test_publishing_the_heartbeat_records_beat(settings):
    from celery.signals import before_task_publish

    before = timezone.now()
    before_task_publish.send(sender="inspection.tasks.follow_up_reminders", body=(), headers={})
    assert not Heartbeat.objects.exists()  # other tasks are not the heartbeat
    before_task_publish.send(sender=HEARTBEAT_TASK, body=(), headers={})  # what beat's publishing fires
    row = Heartbeat.objects.get()
    assert row.beat_sent_at >= before and row.worker_seen_at is None
    tasks.heartbeat()  # each writer keeps to its own field
    row.refresh_from_db()
    assert row.beat_sent_at >= before and row.worker_seen_at >= row.beat_sent_at
    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == HEARTBEAT_TASK


def test_healthz_never_seen_is_degraded_but_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["checks"] == {"database": "ok", "broker": "ok"}
    for process in ("worker", "beat"):
        assert body[process] == {"ok": False, "last_seen": None, "age_seconds": None}


@override_settings(PIF_HEARTBEAT_SECONDS=60)
def test_healthz_stale_worker_is_degraded_but_200(client):
    now = timezone.now()
    heartbeat_beat_sent(now - datetime.timedelta(seconds=30))
    heartbeat_worker_seen(now - datetime.timedelta(seconds=181))  # more than 3 intervals ago
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["beat"]["ok"] is True
    assert body["worker"]["ok"] is False and body["worker"]["age_seconds"] >= 181
    assert body["worker"]["last_seen"] == Heartbeat.objects.get().worker_seen_at.isoformat()


def test_healthz_names_what_failed(client):
    with override_settings(
        CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}, PIF_HEALTHZ_BROKER_TIMEOUT=0.5
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"].startswith("error:")
    assert response.json()["status"] == "error"


def test_demo_creates_users_and_consignments_and_is_safe_twice():
    with override_settings(DEBUG=True):
        call_command("demo", consignments=10, stdout=open(os.devnull, "w"))
        count = Consignment.objects.count()
        call_command("demo", consignments=10, stdout=open(os.devnull, "w"))
    # 10 per demo company, one national plant-health entry (NAT-PP) accepted through the flow, the two parts of a
    # split consignment, a replacement CHED, and the CHED-PP under which the exporter's re-exported goods came in
    assert count == 25 and Consignment.objects.count() == 25
    national = Consignment.objects.get(ched_type__code="NAT-PP")
    assert national.status == "accepted" and national.reference.startswith("NATPP.")
    for username in ("importer", "importer2", "inspector", "officer", "supervisor", "lab"):
        assert User.objects.get(username=username).check_password("demo")
    first, second = (User.objects.get(username=u).membership.operator for u in ("importer", "importer2"))
    assert first != second
    # pushed through the real flow, and left at every step
    statuses = set(Consignment.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "accepted", "awaiting_decision", "awaiting_countersign", "closed"} <= statuses
    # goods sent on under control, their arrival confirmed at the control point (Part III)
    confirmed = ArrivalConfirmation.objects.select_related("consignment").first()
    assert confirmed is not None and confirmed.arrived and confirmed.consignment.status == "closed"


def test_demo_refuses_when_debug_is_off():
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="--force"):
        call_command("demo")


def test_production_settings_pass_check_deploy():
    # A production environment: none of the test run's relaxations (nor the browser tests' async switch).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "STATIC_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        DEBUG="false", SECRET_KEY="x" * 20 + "Zq9!kLm#2vB8@pR4wT6yU1eI3oP5aS7dF0gH", ALLOWED_HOSTS="pif.example.org"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


DOUBLES = {"PIF_IPPC_HUB_DOUBLE": True, "PIF_TRACES_TRANSPORT": "inspection.traces.LocalTracesDouble"}


def _double_errors() -> list[str]:
    return sorted(e.id for e in checks.run_checks(tags=[checks.Tags.security]) if e.id.startswith("pif.E"))


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"DEBUG": False, "PIF_ALLOW_TEST_DOUBLES": False, **DOUBLES}, ["pif.E001", "pif.E002"]),
        ({"DEBUG": False, "PIF_ALLOW_TEST_DOUBLES": False, **DOUBLES, "PIF_TRACES_TRANSPORT": ""}, ["pif.E001"]),
        ({"DEBUG": False, "PIF_ALLOW_TEST_DOUBLES": False, **DOUBLES, "PIF_IPPC_HUB_DOUBLE": False}, ["pif.E002"]),
        (
            {"DEBUG": False, "PIF_ALLOW_TEST_DOUBLES": False, "PIF_IPPC_HUB_DOUBLE": False, "PIF_TRACES_TRANSPORT": ""},
            [],
        ),
        ({"DEBUG": True, "PIF_ALLOW_TEST_DOUBLES": False, **DOUBLES}, []),
        ({"DEBUG": False, "PIF_ALLOW_TEST_DOUBLES": True, **DOUBLES}, []),
    ],
)
def test_the_test_doubles_are_refused_outside_debug_unless_allowed(overrides, expected):
    with override_settings(**overrides):
        assert _double_errors() == expected


def test_manage_py_refuses_the_hub_double_in_production():
    env = {k: v for k, v in os.environ.items() if k != "PIF_ALLOW_TEST_DOUBLES"}
    env.update(DEBUG="false", PIF_IPPC_HUB_DOUBLE="true", PIF_TRACES_TRANSPORT="")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "pif.E001" in result.stderr and "pif.E002" not in result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
