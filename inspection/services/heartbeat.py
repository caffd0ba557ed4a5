"""The heartbeat: does a worker answer, and does beat still run? Read by `/healthz`.

Beat sends `inspection.tasks.heartbeat` every `PIF_HEARTBEAT_SECONDS`; nothing else sends it. Two witnesses,
written to one database row (the database is the one thing web, workers and beat all share; the cache may be
per-process locmem):

- beat: Celery's `before_task_publish` signal runs in the process that publishes the message, so when the beat
  process publishes the heartbeat it records `beat_sent_at` itself. Beat is thus seen even when no worker runs.
  (Celery 5's task message carries no "sent at" time that the worker could read instead.)
- worker: the task, when a worker runs it, records `worker_seen_at`.

Each writer updates only its own column, so the two never overwrite each other. The beat entry's messages
expire after one interval: a worker coming back after an outage drops the stale backlog instead of running it,
and the old messages do not make it look alive.
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from inspection.models import Heartbeat

HEARTBEAT_TASK = "inspection.tasks.heartbeat"
_ROW = 1


def _record(**fields) -> None:
    if Heartbeat.objects.filter(pk=_ROW).update(**fields):
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(pk=_ROW, **fields)
    except IntegrityError:  # another writer created the row first
        Heartbeat.objects.filter(pk=_ROW).update(**fields)


def heartbeat_worker_seen(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    _record(worker_seen_at=now)
    return now


def heartbeat_beat_sent(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    _record(beat_sent_at=now)
    return now


def on_before_task_publish(sender=None, **kwargs) -> None:
    """`before_task_publish` receiver: the publishing process (beat) records that it sent the heartbeat."""
    if sender != HEARTBEAT_TASK:
        return
    # Beat is long-lived and outside Django's request cycle: drop a connection the database has closed (never
    # inside a transaction, whose connection it would close with it).
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()
    heartbeat_beat_sent()


def heartbeat_status(now: datetime.datetime | None = None) -> dict:
    """{"worker": {...}, "beat": {...}}, each {"ok", "last_seen" (ISO or None), "age_seconds" (or None)}; ok when
    seen within 3 × `PIF_HEARTBEAT_SECONDS`."""
    now = now or timezone.now()
    row = Heartbeat.objects.filter(pk=_ROW).first()
    limit = 3 * settings.PIF_HEARTBEAT_SECONDS
    status = {}
    for name, field in (("worker", "worker_seen_at"), ("beat", "beat_sent_at")):
        seen = getattr(row, field) if row else None
        age = round((now - seen).total_seconds(), 1) if seen else None
        status[name] = {
            "ok": age is not None and age <= limit,
            "last_seen": seen.isoformat() if seen else None,
            "age_seconds": age,
        }
    return status
