"""`python -m pif.prod` refuses incomplete production settings; the deployment files say what they must.

The Dockerfile is linted by hadolint in `.ci/run`; this machine has no Docker engine, so the facts that matter
are checked here by reading the files. The processes themselves start in tests/integration/test_prod_server.py."""

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pif.prod import commands, settings_problems

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


@pytest.fixture
def complete(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_text("key")
    cert.write_text("cert")
    return {
        "SECRET_KEY": "x" * 60,
        "PIF_AUDIT_KEY": "a" * 40,
        "DATABASE_URL": "postgres://pif@db/pif",
        "CELERY_BROKER_URL": "redis://redis:6379/0",
        "ALLOWED_HOSTS": "pif.example.org",
        "SITE_URL": "https://pif.example.org",
        "EMAIL_URL": "smtp+tls://u:p@smtp.example.org:587",
        "PIF_SIGNING_KEY": str(key),
        "PIF_SIGNING_CERT": str(cert),
    }


def test_complete_settings_pass(complete):
    assert settings_problems(complete) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"PIF_AUDIT_KEY": ""}, "PIF_AUDIT_KEY is not set"),
        ({"PIF_AUDIT_KEY": "short"}, "PIF_AUDIT_KEY is too short"),
        ({"DATABASE_URL": "sqlite:///var/pif.sqlite3"}, "DATABASE_URL is not PostgreSQL"),
        ({"CELERY_BROKER_URL": "filesystem://localhost/"}, "CELERY_BROKER_URL is not Redis or RabbitMQ"),
        ({"ALLOWED_HOSTS": " "}, "ALLOWED_HOSTS is not set"),
        ({"SITE_URL": ""}, "SITE_URL is not set"),
        ({"EMAIL_URL": ""}, "EMAIL_URL is not set"),
        ({"PIF_SIGNING_KEY": "/nowhere/key.pem"}, "PIF_SIGNING_KEY names /nowhere/key.pem, which is not a readable"),
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"PIF_IPPC_HUB_DOUBLE": "true"}, "PIF_IPPC_HUB_DOUBLE is on"),
        ({"PIF_TRACES_TRANSPORT": "inspection.traces.LocalTracesDouble"}, "PIF_TRACES_TRANSPORT names the local"),
    ],
)
def test_each_missing_or_unfit_setting_is_named(complete, change, expected):
    problems = settings_problems({**complete, **change})
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_the_test_doubles_start_only_where_they_are_meant(complete):
    doubles = {"PIF_IPPC_HUB_DOUBLE": "on", "PIF_TRACES_TRANSPORT": "inspection.traces.LocalTracesDouble"}
    assert len(settings_problems({**complete, **doubles})) == 2
    assert settings_problems({**complete, **doubles, "PIF_ALLOW_TEST_DOUBLES": "true"}) == []
    assert settings_problems({**complete, "PIF_IPPC_HUB_DOUBLE": "false", "PIF_TRACES_TRANSPORT": ""}) == []


def test_the_command_refuses_to_start_and_says_why(tmp_path):
    env = {"PATH": os.environ["PATH"], "PIF_READ_DOT_ENV": "false", "DATABASE_URL": "sqlite:///x.sqlite3"}
    result = subprocess.run(
        [sys.executable, "-m", "pif.prod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "PIF will not start: the production settings are incomplete." in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "DATABASE_URL is not PostgreSQL (sqlite://)" in result.stderr
    assert "Traceback" not in result.stderr


def test_process_counts_follow_the_environment_and_the_cores(monkeypatch):
    monkeypatch.setattr("pif.prod.cores", lambda: 2)
    web = commands({"PORT": "9001", "HOST": "0.0.0.0"})["web"]  # noqa: S104
    assert web[web.index("--bind") + 1] == "0.0.0.0:9001"
    assert web[web.index("--workers") + 1] == "5"
    assert commands({"WEB_CONCURRENCY": "3"})["web"][web.index("--workers") + 1] == "3"
    worker = commands({})["worker"]
    assert worker[worker.index("--concurrency") + 1] == "2"
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        commands({"WEB_CONCURRENCY": "zero"})


def test_site_url_follows_port_unless_set():
    code = "from django.conf import settings; print(settings.SITE_URL)"
    env = {**os.environ, "PORT": "8123", "PIF_READ_DOT_ENV": "false"}
    env.pop("SITE_URL", None)
    follows = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert follows.stdout.strip() == "http://127.0.0.1:8123"
    env["SITE_URL"] = "https://pif.example.org"
    chosen = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert chosen.stdout.strip() == "https://pif.example.org"


def _dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_debian_slim_non_root_with_weasyprint_libraries():
    instructions = _dockerfile()
    assert instructions[0][0] == "FROM" and re.fullmatch(r"python:3\.\d+-slim-bookworm", instructions[0][1])
    users = [arg for name, arg in instructions if name == "USER"]
    assert users and users[-1] not in {"root", "0"}
    runs = " ".join(arg for name, arg in instructions if name == "RUN")
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "postgresql-client"):
        assert package in runs
    assert "pip install" in runs and "collectstatic" in runs
    assert dict(instructions)["CMD"] == '["python", "-m", "pif.prod", "web"]'


def test_compose_runs_each_process_once_on_postgres_and_redis_with_volumes():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        assert service["command"] == ["python", "-m", "pif.prod", name]
        assert "pif-var:/var/lib/pif" in service["volumes"]
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://")
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["deploy"]["replicas"] == 1
    assert {"pif-var", "pg-data", "redis-data"} <= set(compose["volumes"])
    for secret in compose["secrets"].values():
        assert (DEPLOY / secret["file"]).parent.is_dir()


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "systemd" / name)
    return unit


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_systemd_units_run_the_checked_process_as_an_unprivileged_user(process):
    service = _unit(f"pif-{process}.service")["Service"]
    assert service["ExecStart"] == f"/opt/pif/.venv/bin/python -m pif.prod {process}"
    assert service["User"] == "pif"
    assert service["EnvironmentFile"] == "/etc/pif/pif.env"
    assert service["KillMode"] == "mixed"
    assert "PIF_READ_DOT_ENV=false" in service["Environment"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path):
    """systemd's own checker, on copies pointing at this checkout (the paths must exist where it runs)."""
    for path in (DEPLOY / "systemd").iterdir():
        text = path.read_text().replace("/opt/pif/.venv/bin/python", sys.executable).replace("/opt/pif", str(ROOT))
        text = text.replace("User=pif", "User=root").replace("Group=pif", "Group=root")
        text = text.replace("/etc/pif/pif.env", str(tmp_path / "pif.env"))
        (tmp_path / path.name).write_text(text)
    (tmp_path / "pif.env").write_text("DEBUG=false\n")
    units = sorted(str(p) for p in tmp_path.iterdir() if p.suffix in {".service", ".target"})
    verify = [shutil.which("systemd-analyze"), "verify", "--man=no", *units]
    result = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "Failed to connect to bus" not in line and "pif.target" not in line
    ]
    assert result.returncode == 0 or not problems, result.stdout + result.stderr
