"""Delivering webhook events to operators' systems, signed so they can tell them from forgeries.

The body is JSON; `X-PIF-Timestamp` is the Unix time of sending and `X-PIF-Signature` is
`sha256=` + hex HMAC-SHA256, keyed with the company's webhook secret, of `<timestamp>.<body>`. A receiver
recomputes it and refuses timestamps more than a few minutes old (replays)."""

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings

from inspection.models import WebhookDelivery
from inspection.services.deliveries import delivery_claim, delivery_failed, delivery_sent


class WebhookFailed(Exception):
    """The receiver did not take the event (network error or non-2xx answer); the task retries."""


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _destination(host: str, port: int) -> str:
    """The address the event goes to. The operator sets the URL, so no event goes to a loopback, private or
    link-local address (unless `PIF_WEBHOOK_ALLOW_PRIVATE`); and the connection is made to the very address
    checked here, so that a second lookup answering otherwise (DNS rebinding) cannot send it inside."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise WebhookFailed(f"{host} does not resolve: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    if not settings.PIF_WEBHOOK_ALLOW_PRIVATE and not all(ipaddress.ip_address(a).is_global for a in addresses):
        raise WebhookFailed(f"{host} resolves to a non-public address")
    return addresses[0]


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST `body` and return the answer's status. HTTPS certificates are checked against the URL's host name;
    redirects are not followed (they could lead anywhere, inside our network included)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _destination(parts.hostname, port)
    timeout = settings.PIF_WEBHOOK_TIMEOUT
    if https:
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)

    def pinned(_host_port, *args, **kwargs):  # http.client's hook for opening the socket
        return socket.create_connection((address, port), *args, **kwargs)

    connection._create_connection = pinned
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status, location = response.status, response.getheader("Location", "")
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(str(exc) or type(exc).__name__) from exc
    finally:
        connection.close()
    if 300 <= status < 400:
        raise WebhookFailed(f"redirect {status} to {location} refused")
    return status


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery: claim it (`delivery_claim`), send, and mark it sent, or record the failure and when to
    try again (beat's sweeper does). Returns False when there was nothing to send. Receivers tell a repeated
    post (a worker that died after sending) by its `X-PIF-Delivery` id."""
    if not delivery_claim(WebhookDelivery, delivery_id):
        return False
    delivery = WebhookDelivery.objects.select_related("operator", "subscription").get(pk=delivery_id)
    if delivery.subscription is not None:  # the customs system's (`services/customs.py`)
        url, secret = delivery.subscription.url, delivery.subscription.secret
    else:
        url, secret = delivery.operator.webhook_url, delivery.operator.webhook_secret
    try:
        if not url:  # the company removed its webhook meanwhile: nothing to send, nothing to retry
            delivery_sent(WebhookDelivery, delivery_id)
            return False
        body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
        timestamp = int(time.time())
        status = _post(
            url,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "PIF-Martinique-webhook/1",
                "X-PIF-Event": delivery.kind,
                "X-PIF-Delivery": str(delivery.pk),
                "X-PIF-Timestamp": str(timestamp),
                "X-PIF-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
            },
        )
        if not 200 <= status < 300:
            raise WebhookFailed(f"HTTP {status}")
    except Exception as exc:
        delivery_failed(WebhookDelivery, delivery_id, exc)
        raise
    delivery_sent(WebhookDelivery, delivery_id)
    return True
