"""The integration part: PostgreSQL, Redis and a real Celery worker process, as in production.

`.ci/run` sets DATABASE_URL and CELERY_BROKER_URL; these tests fail (never skip) without them."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _real_services():
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail(
            "The integration tests need PostgreSQL and Redis: run `.ci/run`, or set DATABASE_URL=postgres://… "
            "and CELERY_BROKER_URL=redis://…"
        )


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` process with embedded beat, on the test database; yields the folder its emails are
    written to."""
    outbox = tmp_path_factory.mktemp("outbox")
    db = settings.DATABASES["default"]
    with django_db_blocker.unblock():
        test_db_name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{test_db_name}",
        "EMAIL_URL": f"filemail:///{outbox}",  # four slashes: an absolute path
        "SECRET_KEY": settings.SECRET_KEY,
        "PIF_TIMER_INTERVAL": "1",  # beat fires due workflow timers every second
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pif",
            "worker",
            "--beat",
            "--schedule",
            str(log.parent / "beat-schedule"),
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--logfile",
            str(log),
            "--hostname",
            f"ci-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        cwd=Path(settings.BASE_DIR),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and "ready." in log.read_text():
            break
        if process.poll() is not None:
            pytest.fail(
                f"the Celery worker exited with {process.returncode}: {log.read_text() if log.exists() else ''}"
            )
        time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail("the Celery worker did not become ready in 60 s")
    yield outbox
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()
