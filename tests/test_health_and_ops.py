"""Operations: /healthz, the demo command, production settings."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from inspection.models import Consignment

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_names_what_failed(client):
    with override_settings(
        CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}, PIF_HEALTHZ_BROKER_TIMEOUT=0.5
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"].startswith("error:")


def test_demo_creates_users_and_consignments_and_is_safe_twice():
    with override_settings(DEBUG=True):
        call_command("demo", consignments=10, stdout=open(os.devnull, "w"))
        count = Consignment.objects.count()
        call_command("demo", consignments=10, stdout=open(os.devnull, "w"))
    assert count == 20 and Consignment.objects.count() == 20
    for username in ("importer", "importer2", "inspector", "officer", "supervisor", "lab"):
        assert User.objects.get(username=username).check_password("demo")
    first, second = (User.objects.get(username=u).membership.operator for u in ("importer", "importer2"))
    assert first != second
    # pushed through the real flow, and left at every step
    statuses = set(Consignment.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "accepted", "awaiting_decision", "awaiting_countersign", "closed"} <= statuses


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
