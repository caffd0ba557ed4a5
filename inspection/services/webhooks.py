"""Delivering webhook events to operators' systems, signed so they can tell them from forgeries.

The body is JSON; `X-PIF-Timestamp` is the Unix time of sending and `X-PIF-Signature` is
`sha256=` + hex HMAC-SHA256, keyed with the company's webhook secret, of `<timestamp>.<body>`. A receiver
recomputes it and refuses timestamps more than a few minutes old (replays)."""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inspection.models import WebhookDelivery


class WebhookFailed(Exception):
    """The receiver did not take the event (network error or non-2xx answer); the task retries."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead the request anywhere, inside our network included: it counts as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise WebhookFailed(f"redirect {code} to {newurl} refused")


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _check_destination(url: str) -> None:
    """No event to loopback, private or link-local addresses (the webhook URL is the operator's to set)."""
    if settings.PIF_WEBHOOK_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookFailed(f"{parts.hostname} resolves to a non-public address")


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery at most once: claim it, send, and give the claim back when the send fails (the task
    retries with backoff). Returns False when there was nothing to send."""
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("operator").get(pk=delivery_id)
    url, secret = delivery.operator.webhook_url, delivery.operator.webhook_secret
    try:
        if not url:  # the company removed its webhook meanwhile: nothing to send, nothing to retry
            return False
        body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 (https only, or http where settings allow it)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "PIF-Martinique-webhook/1",
                "X-PIF-Event": delivery.kind,
                "X-PIF-Delivery": str(delivery.pk),
                "X-PIF-Timestamp": str(timestamp),
                "X-PIF-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
            },
        )
        _check_destination(url)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=settings.PIF_WEBHOOK_TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise WebhookFailed(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise WebhookFailed(str(exc)) from exc
        if not 200 <= status < 300:
            raise WebhookFailed(f"HTTP {status}")
    except Exception as exc:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery_id).update(sent_at=None, last_error=repr(exc)[:2000])
        raise
    return True
