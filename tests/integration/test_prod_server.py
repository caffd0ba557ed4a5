"""`make prod` and the systemd units' commands, for real: gunicorn, a Celery worker and beat on PostgreSQL and
Redis answer /healthz with the worker and beat seen, and a SIGTERM stops every process they started."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from inspection.certificates.signing import signing_key_create
from tests.test_prod import _unit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def prod_env(tmp_path):
    signing_key_create(tmp_path / "key.pem", tmp_path / "cert.pem", common_name="PIF test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": "consolemail://",
        "PIF_SIGNING_KEY": str(tmp_path / "key.pem"),
        "PIF_SIGNING_CERT": str(tmp_path / "cert.pem"),
        "PIF_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "STATIC_MANIFEST": "false",  # a plain copy: the hashed one is slow, and tested by `make prod` by hand
        "PIF_READ_DOT_ENV": "false",
        "SECURE_SSL_REDIRECT": "false",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "PIF_HEARTBEAT_SECONDS": "1",
    }
    return env


def _healthz(port: str, want: str, processes, timeout: float = 120) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:  # noqa: S310
                last = json.load(response)
                if last["status"] == want:
                    return last
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(f"/healthz did not say {want!r} in {timeout:g} s: {last}")


def _group_members(leaders) -> set[int]:
    """Live processes (not zombies) in the process groups of these pids."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp in leaders and state != "Z":
            members.add(int(stat.parent.name))
    return members


def test_the_systemd_units_serve_and_stop_on_sigterm(prod_env):
    processes = {}
    try:
        for name in ("web", "worker", "beat"):
            line = _unit(f"pif-{name}.service")["Service"]["ExecStart"].split()
            assert line[0] == "/opt/pif/.venv/bin/python"
            processes[name] = subprocess.Popen(
                [sys.executable, *line[1:]], cwd=ROOT, env=prod_env, start_new_session=True
            )
        health = _healthz(prod_env["PORT"], "ok", processes)
        assert health["checks"] == {"database": "ok", "broker": "ok"}
        assert health["worker"]["ok"] and health["beat"]["ok"]
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        codes = {name: process.wait(timeout=60) for name, process in processes.items()}
    assert codes == {"web": 0, "worker": 0, "beat": 0}
    assert _group_members({p.pid for p in processes.values()}) == set()


def test_make_prod_serves_and_sigterm_stops_everything(prod_env):
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "pif.prod"],
        cwd=ROOT,
        env=prod_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _healthz(prod_env["PORT"], "ok", {"pif.prod": supervisor}, timeout=240)
        children = [
            int(pid) for pid in Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
        ]
        assert len(children) == 3
        assert len(_group_members(set(children))) >= 3 + 2 + 1  # gunicorn's 2 workers, the worker's pool process
        supervisor.send_signal(signal.SIGTERM)
        output, _ = supervisor.communicate(timeout=60)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert supervisor.returncode == 0, output
    assert "pif.prod: stopped." in output
    # The worker and beat log JSON lines like the web tier (pif/celery.py), not Celery's own text.
    loggers = {json.loads(line)["logger"] for line in output.splitlines() if line.startswith("{")}
    assert any(name.startswith("celery.worker") for name in loggers), output
    assert any(name.startswith("celery.beat") for name in loggers), output
    assert _group_members(set(children)) == set()
