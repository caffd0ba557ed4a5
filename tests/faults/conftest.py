"""The fault suite (issue 15): PostgreSQL, a Redis server, Celery worker and beat processes and a web server, all
started here, on a database of its own, so that the tests may kill and restart any of them.

Run it alone: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/pif_faults .venv/bin/pytest -m faults tests/faults
-p no:cacheprovider -s` (`.ci/run` does). The suite makes and drops `pif_faults_<pid>` next to that database, and
needs `redis-server` on the PATH. Left out of every run whose `-m` does not name `faults`."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Short leases and intervals, through the settings the design gives for them (nothing else is changed).
LEASE_SECONDS = 20
FAULT_ENV = {
    "PIF_JOB_LEASE_SECONDS": str(LEASE_SECONDS),  # beat looks for stuck jobs twice per lease
    "PIF_TIMER_INTERVAL": "5",
    "PIF_HEARTBEAT_SECONDS": "10",
    "PIF_DELIVERY_GRACE_SECONDS": "5",  # the outbox's sweeper leaves alone what is younger (when it exists)
}


def _selected(config) -> bool:
    expression = config.getoption("markexpr") or ""
    return "faults" in expression and "not faults" not in expression


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if "tests/faults/" in str(item.fspath)]
    for item in mine:
        item.add_marker(pytest.mark.faults)
    if not _selected(config) and mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def figure(name: str, value) -> None:
    """The suite's measures, printed (run with -s to see them as they come) and collected for the summary."""
    line = f"[faults] {name}: {value}"
    FIGURES.append(line)
    print(line, flush=True)


FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault suite figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


class Process:
    """A child process in a session of its own (killed with its children), its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, the process and its children (a prefork worker's pool), as the kernel's OOM killer would."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


class Stack:
    """The services of one fault run. `env` is what every child process gets."""

    def __init__(self, base: Path, database: str, database_url: str):
        self.base, self.database = base, database
        self.redis_port, self.web_port = free_port(), free_port()
        self.broker_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.var = base / "var"
        self.mail = base / "mail"
        self.mail.mkdir(parents=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
            **FAULT_ENV,
            "DJANGO_SETTINGS_MODULE": "pif.settings",
            "PYTHONPATH": str(ROOT),  # this checkout's code, whatever the virtualenv's editable install points at
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "PIF_VAR_DIR": str(self.var),
            "PIF_SIGNING_KEY": str(Path(settings.PIF_SIGNING_KEY).resolve()),
            "PIF_SIGNING_CERT": str(Path(settings.PIF_SIGNING_CERT).resolve()),
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "PIF_READ_DOT_ENV": "false",
            "STATIC_MANIFEST": "false",
            "EMAIL_URL": f"filemail:///{self.mail}",
            "SITE_URL": f"http://127.0.0.1:{self.web_port}",
            "API_THROTTLE_USER": "100000/min",
            "API_THROTTLE_TOKEN": "100000/min",
        }
        self.redis = Process(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            self.env,
            base / "redis.log",
        )
        self.workers: list[Process] = []
        self.beat = Process(
            "beat",
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "pif",
                "beat",
                "--schedule",
                str(base / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
            self.env,
            base / "beat.log",
        )
        self.web = Process(
            "web",
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "pif.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--timeout",
                "60",
            ],
            self.env,
            base / "web.log",
        )
        self.url = f"http://127.0.0.1:{self.web_port}"

    # ---- Redis
    def redis_start(self) -> None:
        self.redis.start()
        if not wait_for(self.redis_ping, timeout=20):
            raise RuntimeError(f"redis-server did not start: {self.redis.tail()}")

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    # ---- Celery
    def worker_start(self, concurrency: int = 2) -> Process:
        n = len(self.workers)
        worker = Process(
            f"worker{n}",
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "pif",
                "worker",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"faults{n}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
                "--pidfile=",
            ],
            self.env,
            self.base / f"worker{n}.log",
        ).start()
        self.workers.append(worker)
        if not wait_for(lambda: "ready." in worker.tail(200) or not worker.alive(), timeout=90):
            raise RuntimeError(f"the worker did not become ready: {worker.tail()}")
        if not worker.alive():
            raise RuntimeError(f"the worker exited: {worker.tail()}")
        return worker

    def worker(self) -> Process | None:
        alive = [w for w in self.workers if w.alive()]
        return alive[-1] if alive else None

    # ---- web
    def web_start(self, wait: bool = True) -> None:
        self.web.start()
        if wait:
            self.web_wait()

    def web_wait(self) -> None:
        import urllib.request

        def up():
            try:
                return urllib.request.urlopen(f"{self.url}/healthz", timeout=5)  # noqa: S310 (http, ours).status in (200, 503)
            except OSError as exc:
                return getattr(exc, "code", None) in (200, 503)

        if not wait_for(up, timeout=60):
            raise RuntimeError(f"the web server did not start: {self.web.tail()}")

    def stop(self) -> None:
        for process in [*self.workers, self.beat, self.web, self.redis]:
            process.stop()


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _admin_connection(database_url_base: str):
    import psycopg

    conn = psycopg.connect(database_url_base.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    return conn


@pytest.fixture(scope="session")
def stack(django_db_blocker, tmp_path_factory):
    """Everything started: a fresh database migrated, Redis, beat, a worker and the web server. The test process
    itself reads and writes the same database and broker (services called in-process, checks)."""
    from celery import current_app
    from django.db import connection, connections

    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        pytest.fail("The fault suite needs PostgreSQL: set DATABASE_URL=postgres://… (see tests/faults/README.md)")
    if shutil.which("redis-server") is None:
        pytest.fail("The fault suite needs redis-server on the PATH")
    name = f"pif_faults_{os.getpid()}"
    base_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    database_url = f"{base_url}/{name}"
    admin = _admin_connection(database_url)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')

    base = tmp_path_factory.mktemp("faults")
    stack = Stack(base, name, database_url)
    # `timeout` (in .ci/run) sends SIGTERM: stop the children on the way out, they live in sessions of their own
    signal.signal(signal.SIGTERM, _interrupted)
    atexit.register(stack.stop)
    started = time.monotonic()
    try:
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v", "0"],
            env=stack.env,
            cwd=ROOT,
            check=True,
        )
        stack.redis_start()
        # this process: the same database and broker as the children
        for alias in connections:
            connections[alias].close()
        db["NAME"] = name
        connection.settings_dict["NAME"] = name
        settings.PIF_JOB_LEASE_SECONDS = LEASE_SECONDS
        settings.CELERY_BROKER_URL = stack.broker_url
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
        current_app.conf.broker_url = stack.broker_url
        current_app.conf.broker_transport_options = {"visibility_timeout": 3600}
        current_app.conf.broker_connection_retry_on_startup = False
        stack.beat.start()
        stack.web_start(wait=False)  # starting while the worker does
        stack.worker_start()
        stack.web_wait()
        figure("set-up (database migrated, Redis, beat, worker, web)", f"{time.monotonic() - started:.1f} s")
        with django_db_blocker.unblock():
            yield stack
    finally:
        stack.stop()
        for alias in connections:
            connections[alias].close()
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
        if os.environ.get("PIF_FAULTS_KEEP_LOGS"):
            print(f"fault suite logs kept in {base}")


@pytest.fixture(scope="session")
def people(stack):
    """The users of the suite: an importer with an API token, an inspector, an officer, a supervisor."""
    from inspection.models import Commodity
    from inspection.roles import Role
    from inspection.services.api_tokens import api_token_create
    from tests.factories import UserFactory, importer_factory

    importer = importer_factory(f"faults-importer-{uuid.uuid4().hex[:6]}")
    _, key = api_token_create(actor=importer, name="fault suite")
    # no identity or physical check is drawn: the decision comes right after the documentary check
    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=0)
    return {
        "importer": importer,
        "token": key,
        "inspector": UserFactory(username="faults-inspector", roles=[Role.INSPECTOR]),
        "officer": UserFactory(username="faults-officer", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER]),
        "supervisor": UserFactory(username="faults-supervisor", roles=[Role.SUPERVISOR]),
    }
