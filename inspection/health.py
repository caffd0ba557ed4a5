"""`GET /healthz`: is the database reachable, and the broker? Has a worker answered lately, and does beat run?

The answer is JSON: `{"status", "checks": {"database", "broker"}, "worker": {...}, "beat": {...}}`, where worker
and beat are `{"ok", "last_seen", "age_seconds"}` from the heartbeat (`inspection.services.heartbeat`), ok when
seen within 3 × `PIF_HEARTBEAT_SECONDS`.

Status codes: a load balancer routes web traffic on this answer, and the web serves pages without a worker or
beat (their work waits in the queue). So only the database or the broker failing gives 503 with status
"error"; a stale or never-seen worker or beat gives 200 with status "degraded", for monitoring to alert on.
"""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from inspection.services.heartbeat import heartbeat_status

logger = logging.getLogger(__name__)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


@contextmanager
def broker_connection():
    """A connection to the broker that gives up after `PIF_HEALTHZ_BROKER_TIMEOUT` (a probe never hangs)."""
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=settings.PIF_HEALTHZ_BROKER_TIMEOUT,
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.PIF_HEALTHZ_BROKER_TIMEOUT)
        yield conn


def _broker() -> str:
    with broker_connection():
        return "ok"


@never_cache
def healthz(request):
    checks = {}
    for name, probe in (("database", _database), ("broker", _broker)):
        try:
            checks[name] = probe()
        except Exception as exc:  # any failure is what the probe reports
            checks[name] = f"error: {exc.__class__.__name__}: {exc}"[:300]
    healthy = all(value == "ok" for value in checks.values())
    unknown = {"ok": False, "last_seen": None, "age_seconds": None}
    processes = {"worker": unknown, "beat": unknown}
    if checks["database"] == "ok":  # the heartbeat lives in the database
        try:
            processes = heartbeat_status()
        except Exception:  # reported as unknown (degraded), never a 500
            logger.exception("healthz: the heartbeat could not be read")
    if not healthy:
        status = "error"
    elif all(process["ok"] for process in processes.values()):
        status = "ok"
    else:
        status = "degraded"
    return JsonResponse({"status": status, "checks": checks, **processes}, status=200 if healthy else 503)
