"""Notifications: each user chooses which emails; the company's webhook gets a signed POST; both are sent by
Celery after commit, once, retried on failure, never blocking the workflow. Only the outside is replaced:
SMTP by Django's test outbox, the operator's server by a real local HTTP server."""

import datetime
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone, translation

from inspection.models import AuditEvent, Decision, Notification, NotificationKind, WebhookDelivery
from inspection.services.consignments import consignment_create
from inspection.services.follow_up import follow_up_reminders_send
from inspection.services.notifications import notification_choices_update, notify, webhook_configure
from inspection.services.webhooks import WebhookFailed
from inspection.tasks import notification_send, webhook_send
from tests.factories import importer_factory, part_one

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server standing for the operator's system: records what it gets, answers `status`."""

    def __init__(self, status=200, headers=None):
        self.requests, self.status, self.headers = [], status, headers or {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/pif-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _with_webhook(importer, url):
    with override_settings(PIF_WEBHOOK_ALLOW_HTTP=True):
        return webhook_configure(actor=importer, url=url)


def test_each_user_gets_only_the_emails_they_chose(importer, consignment, django_capture_on_commit_callbacks):
    colleague = importer_factory("carol", operator=importer.membership.operator)
    notification_choices_update(actor=colleague, kinds=[NotificationKind.DECIDED])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        notify(consignment=consignment, kind=NotificationKind.SAMPLED, samples=[{"number": "X-S1", "detained": True}])

    [notification] = Notification.objects.filter(kind="sampled")
    assert notification.recipient == importer and len(callbacks) == 1
    assert notification_send.run(notification.pk) is True
    assert notification_send.run(notification.pk) is False  # a redelivered task sends nothing twice
    [email] = mail.outbox
    assert "X-S1 (detained until the result)" in email.body and "X-S1 (lot consigné" in email.body
    assert consignment.reference in email.subject


def test_nothing_is_queued_when_the_change_rolls_back(consignment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(consignment=consignment, kind=NotificationKind.DECIDED)
            raise RuntimeError("the change failed")
    assert callbacks == [] and not Notification.objects.filter(kind="decided").exists()


def test_the_certified_event_carries_the_certificate_link(importer, consignment):
    with transaction.atomic():
        notify(
            consignment=consignment,
            kind=NotificationKind.CERTIFIED,
            certificates=[
                {
                    "number": "FR-2026-0001",
                    "kind": "ched",
                    "kind_fr": "DSCE",
                    "kind_en": "CHED",
                    "url": "https://pif.example.org/c/1.pdf",
                }
            ],
        )
    notification = Notification.objects.get(kind="certified")
    mail.outbox.clear()
    notification_send.run(notification.pk)
    assert "https://pif.example.org/c/1.pdf" in mail.outbox[0].body and "FR-2026-0001" in mail.outbox[0].body


def test_an_unknown_kind_is_a_programming_error(consignment):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify(consignment=consignment, kind="maybe")


@override_settings(PIF_WEBHOOK_ALLOW_PRIVATE=True)
def test_the_webhook_gets_a_signed_post_once(importer, consignment, receiver):
    operator = _with_webhook(importer, receiver.url)
    with transaction.atomic():
        notify(consignment=consignment, kind=NotificationKind.DECIDED)
    delivery = WebhookDelivery.objects.get()

    assert webhook_send.run(delivery.pk) is True
    assert webhook_send.run(delivery.pk) is False

    [(headers, body)] = receiver.requests
    payload = json.loads(body)
    assert payload["event"] == "decided" and payload["consignment"] == consignment.reference
    timestamp = headers["x-pif-timestamp"]
    expected = hmac.new(operator.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["x-pif-signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    assert headers["x-pif-event"] == "decided"


@override_settings(PIF_WEBHOOK_ALLOW_PRIVATE=True)
def test_a_failing_webhook_is_given_back_for_a_retry_with_backoff(importer, consignment):
    down = Receiver(status=503)
    try:
        _with_webhook(importer, down.url)
        with transaction.atomic():
            notify(consignment=consignment, kind=NotificationKind.DECIDED)
        delivery = WebhookDelivery.objects.get()
        with pytest.raises(WebhookFailed, match="HTTP 503"):
            webhook_send.run(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.sent_at is None and delivery.attempts == 1 and "503" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now()  # beat's sweeper sends it again then
        assert webhook_send.run(delivery.pk) is False  # not before
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        down.status = 200
        assert webhook_send.run(delivery.pk) is True
        assert len(down.requests) == 2
    finally:
        down.close()


@override_settings(PIF_WEBHOOK_ALLOW_PRIVATE=True)
def test_a_webhook_redirect_is_not_followed(importer, consignment):
    redirecting = Receiver(status=302, headers={"Location": "http://127.0.0.1:9/internal"})
    try:
        _with_webhook(importer, redirecting.url)
        with transaction.atomic():
            notify(consignment=consignment, kind=NotificationKind.DECIDED)
        with pytest.raises(WebhookFailed, match="redirect"):
            webhook_send.run(WebhookDelivery.objects.get().pk)
    finally:
        redirecting.close()


def test_webhooks_never_reach_private_addresses(importer, consignment, receiver):
    _with_webhook(importer, receiver.url)
    with transaction.atomic():
        notify(consignment=consignment, kind=NotificationKind.DECIDED)
    with pytest.raises(WebhookFailed, match="non-public address"):
        webhook_send.run(WebhookDelivery.objects.get().pk)
    assert receiver.requests == []


def test_a_webhook_goes_to_the_address_that_was_checked(importer, consignment, receiver, monkeypatch):
    """DNS rebinding: the host first resolves to a public address, then to ours. The event must go to the
    address that was checked, never to a second lookup's."""
    import socket

    from inspection.services import webhooks

    port = receiver.server.server_port
    answers = iter(["93.184.215.14"])  # public on the first lookup...
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "hooks.example.org":  # ...then loopback, where our receiver listens
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_getaddrinfo(host, *args, **kwargs)

    connected = []

    def create_connection(address, *args, **kwargs):
        connected.append(address)
        raise OSError("unreachable in the test")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(webhooks.socket, "create_connection", create_connection)
    _with_webhook(importer, f"http://hooks.example.org:{port}/pif-events")
    with transaction.atomic():
        notify(consignment=consignment, kind=NotificationKind.DECIDED)
    with pytest.raises(WebhookFailed, match="unreachable"):
        webhook_send.run(WebhookDelivery.objects.get().pk)
    assert connected == [("93.184.215.14", port)] and receiver.requests == []


def test_several_events_of_one_change_are_told_in_order(importer, consignment, receiver):
    from inspection.services.notifications import notify_all

    colleague = importer_factory("dora", operator=importer.membership.operator)
    notification_choices_update(actor=colleague, kinds=[NotificationKind.CERTIFIED])
    _with_webhook(importer, receiver.url)
    with transaction.atomic():
        notify_all(
            consignment=consignment,
            events=[(NotificationKind.DECIDED, {}), (NotificationKind.CERTIFIED, {"certificates": [{"number": "N1"}]})],
        )
    kinds = {(n.recipient.username, n.kind) for n in Notification.objects.filter(consignment=consignment)}
    assert ("dora", "certified") in kinds and ("dora", "decided") not in kinds
    deliveries = list(WebhookDelivery.objects.filter(consignment=consignment).order_by("pk"))
    assert [d.kind for d in deliveries] == ["decided", "certified"]
    assert deliveries[1].payload["certificates"] == [{"number": "N1"}] and "certificates" not in deliveries[0].payload


def test_webhook_url_must_be_https(importer):
    from inspection.errors import DomainInvalid

    with pytest.raises(DomainInvalid):
        webhook_configure(actor=importer, url="http://example.org/hook")
    operator = webhook_configure(actor=importer, url="https://example.org/hook")
    assert len(operator.webhook_secret) == 64
    assert AuditEvent.objects.filter(action="webhook.configured").exists()


def test_selected_for_physical_check_is_told(importer):
    plantlets = part_one()
    plantlets["commodities"][0].update(cn_code="06029050", species="Musa acuminata", description="Vitroplants")
    consignment = consignment_create(actor=importer, part_one=plantlets)  # plants for planting: 100 % checks
    assert consignment.check_plan.physical_selected
    assert Notification.objects.filter(consignment=consignment, kind="physical_check_selected").count() == 1


def test_sampling_is_told(inspector, consignment):
    from tests.test_inspection_rules import _released_sample

    _released_sample(inspector, consignment)
    assert Notification.objects.get(kind="sampled").context["samples"][0]["detained"] is False


def test_a_near_follow_up_deadline_is_told_once(inspector, officer, supervisor, consignment):
    from inspection.services.decisions import decision_countersign
    from tests.test_inspection_rules import _refusal

    with translation.override("en"):
        decision = _refusal(inspector, officer, consignment)
        decision_countersign(actor=supervisor, decision=decision, approve=True)
    Decision.objects.filter(pk=decision.pk).update(measure_deadline=timezone.localdate() + datetime.timedelta(days=2))

    assert follow_up_reminders_send() == 1
    assert follow_up_reminders_send() == 0
    assert Notification.objects.filter(kind="follow_up_due").count() == 1
    assert AuditEvent.objects.filter(action="follow_up.reminded", consignment=consignment).count() == 1


def test_the_settings_page_saves_choices_and_the_webhook(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    assert "Selected for a physical check" in client.get("/account/notifications/").content.decode()
    client.post("/account/notifications/", {"save_choices": "1", "kinds": ["decided", "certified"]})
    importer.membership.refresh_from_db()
    assert importer.membership.notification_kinds == ["decided", "certified"]
    refused = client.post("/account/notifications/", {"save_webhook": "1", "webhook_url": "http://example.org/x"})
    assert "must start with https://" in refused.content.decode()
    page = client.post(
        "/account/notifications/", {"save_webhook": "1", "webhook_url": "https://example.org/x"}, follow=True
    ).content.decode()
    importer.membership.operator.refresh_from_db()
    assert importer.membership.operator.webhook_secret in page


def test_staff_have_no_notification_settings(inspector):
    client = Client()
    client.force_login(inspector)
    assert client.get("/account/notifications/").status_code == 404
