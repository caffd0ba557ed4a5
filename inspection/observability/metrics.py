"""`GET /metrics`: Prometheus' text format, for the machine itself (a loopback address, not a forwarded one) or
anyone sending `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404.

Requests (count and latency per view and method, count per status) are counted by `MetricsMiddleware` in each
process; with several processes (gunicorn), set `PROMETHEUS_MULTIPROC_DIR` to a folder they share and the
answer sums them. What the post's state says is read from the database (and the broker) at each scrape: jobs by
state, notifications and webhook deliveries pending, the audit chain's length and the age of its last
checkpoint, consignments by status, the age of the worker's and beat's heartbeats, the broker's queue length."""

import hmac
import ipaddress
import logging
import os
import time

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

REQUESTS = Counter("pif_http_requests", "HTTP requests answered", ["method", "view", "status"])
LATENCY = Histogram(
    "pif_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class MetricsMiddleware:
    """Counts each answer by its view's name (a bounded set: never the path, which holds references)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match else "unmatched"
        method = request.method if request.method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") else "other"
        LATENCY.labels(method, view).observe(time.perf_counter() - started)
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        return response


def _gauge(name, documentation, rows, label=None):
    family = GaugeMetricFamily(name, documentation, labels=[label] if label else None)
    for key, value in rows:
        if label:
            family.add_metric([str(key)], value)
        else:
            family.add_metric([], value)
    return family


class PostCollector:
    """The post's state, read at each scrape (a few counting queries)."""

    def collect(self):
        from viewflow.workflow.models import Task

        from inspection.models import (
            AuditCheckpoint,
            AuditEvent,
            Consignment,
            Heartbeat,
            HubDelivery,
            Notification,
            TracesExchange,
            WebhookDelivery,
        )

        jobs = Task.objects.filter(flow_task_type="JOB").values_list("status").annotate(n=Count("pk")).order_by()
        yield _gauge("pif_jobs", "Flow jobs (the certificate job) by state", jobs, "state")
        yield _gauge(
            "pif_consignments",
            "Consignments by status",
            Consignment.objects.values_list("status").annotate(n=Count("pk")).order_by(),
            "status",
        )
        yield _gauge(
            "pif_notifications_pending",
            "Emails owed and not yet sent",
            [(None, Notification.objects.filter(sent_at__isnull=True).count())],
        )
        yield _gauge(
            "pif_webhook_deliveries_pending",
            "Webhook events owed and not yet delivered",
            [(None, WebhookDelivery.objects.filter(sent_at__isnull=True).count())],
        )
        yield _gauge(
            "pif_hub_deliveries",
            "Envelopes for the IPPC ePhyto hub by status (pending: not yet taken by the hub)",
            HubDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by(),
            "status",
        )
        yield _gauge(
            "pif_traces_exchanges_pending",
            "Messages owed to TRACES NT and not yet sent",
            [(None, TracesExchange.objects.filter(sent_at__isnull=True).count())],
        )
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        yield _gauge("pif_audit_chain_length", "Events in the audit chain", [(None, last or 0)])
        now = timezone.now()
        checkpoint = AuditCheckpoint.objects.order_by("-recorded_at").values_list("recorded_at", flat=True).first()
        if checkpoint:
            yield _gauge(
                "pif_audit_checkpoint_age_seconds",
                "Time since the audit chain's last checkpoint",
                [(None, (now - checkpoint).total_seconds())],
            )
        heartbeat = Heartbeat.objects.filter(pk=1).first()
        for name, moment in (
            ("worker", heartbeat and heartbeat.worker_seen_at),
            ("beat", heartbeat and heartbeat.beat_sent_at),
        ):
            if moment:
                yield _gauge(
                    f"pif_{name}_heartbeat_age_seconds",
                    f"Time since the {name} was last seen (the heartbeat)",
                    [(None, (now - moment).total_seconds())],
                )
        queued = _queue_length()
        yield _gauge("pif_broker_up", "1 when the broker answered this scrape", [(None, 0 if queued is None else 1)])
        if queued is not None:
            yield _gauge("pif_broker_queue_length", "Messages waiting in the Celery queue", [(None, queued)])


def _queue_length() -> int | None:
    from inspection.health import broker_connection

    try:
        with broker_connection() as conn:
            queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # the scrape says the broker is down; it never fails for it
        logger.warning("metrics: the broker's queue could not be read", exc_info=True)
        return None


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:  # the connection's own address: X-Forwarded-For would let anyone claim to be the machine
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
def metrics(request):
    if not _allowed(request):
        raise Http404
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(PostCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
