"""The outbox (issue 15): emails and webhook posts are rows written with the change; a broker that is down after
commit never turns a write into an error, and beat's sweeper sends what is pending once it is back; what keeps
failing is given up and shown to the supervisors, who send it again. Only the outside is replaced: the broker
and the worker (the `broker` fixture), SMTP (Django's test outbox, or a backend whose server is down)."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import Client
from django.utils import timezone

from inspection.models import AuditCheckpoint, AuditEvent, Consignment, Notification, NotificationKind, WebhookDelivery
from inspection.services.deliveries import deliveries_due, delivery_claim
from inspection.services.notifications import notify, webhook_configure
from inspection.tasks import audit_checkpoint, deliveries_resend, notification_send
from tests.conftest import api_client_for
from tests.factories import importer_factory, part_one

pytestmark = pytest.mark.django_db


class SmtpDown(BaseEmailBackend):
    """An SMTP server that hangs up."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def _no_traces_exchange(settings):
    """These tests count emails and webhook posts; the TRACES exchange's rows have their own tests
    (tests/test_traces_exchange.py)."""
    settings.PIF_TRACES_TRANSPORT = ""


def _past_grace(minutes: int = 5):
    """As if the rows had been written `minutes` ago (past the grace left to their first send)."""
    ago = timezone.now() - datetime.timedelta(minutes=minutes)
    Notification.objects.update(created_at=ago)
    WebhookDelivery.objects.update(created_at=ago)


@pytest.fixture
def consignment(consignment):
    """The submitted consignment, whose submit's email went out already."""
    Notification.objects.update(sent_at=timezone.now())
    return consignment


def _due_now():
    """As if each row's backoff had run out."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    Notification.objects.filter(sent_at__isnull=True).update(next_attempt_at=past)


def test_a_submit_with_the_broker_down_answers_201_and_its_emails_follow(
    importer, broker, django_capture_on_commit_callbacks
):
    importer_factory("carol", operator=importer.membership.operator)  # a colleague: two emails owed
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True) as hooks:  # the commit, and what runs after it
        response = api_client_for(importer).post("/api/v1/consignments/", part_one(as_json=True), format="json")
    assert response.status_code == 201, response.content
    consignment = Consignment.objects.get(reference=response.json()["reference"])
    pending = list(Notification.objects.filter(consignment=consignment))
    assert len(pending) == len(hooks) == 2  # every hook ran: none raised, none skipped the next
    assert all(n.sent_at is None and n.attempts == 0 for n in pending)

    broker.down = False
    assert deliveries_resend.run() == 0  # too young: their first send may still be on its way
    _past_grace()
    assert deliveries_resend.run() == len(pending)
    broker.work()
    assert len(mail.outbox) == len(pending)
    assert all(n.sent_at is not None and n.attempts == 1 for n in Notification.objects.filter(consignment=consignment))
    assert deliveries_resend.run() == 0


def test_a_message_sent_twice_sends_one_email(importer, consignment, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        [notification] = notify(consignment=consignment, kind=NotificationKind.DECIDED)
    _past_grace()
    deliveries_resend.run()  # the sweeper's message, besides the first send's
    assert broker.sent("inspection.tasks.notification_send") == [(notification.pk,), (notification.pk,)]
    mail.outbox.clear()
    assert broker.work() == [True, False]
    assert len(mail.outbox) == 1


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(consignment):
    with transaction.atomic():
        [notification] = notify(consignment=consignment, kind=NotificationKind.DECIDED)
    _past_grace()
    assert delivery_claim(Notification, notification.pk)  # a worker claims it, and is killed
    assert not delivery_claim(Notification, notification.pk)  # its lease still runs
    assert notification not in deliveries_due(Notification)
    _due_now()  # the lease ran out
    assert list(deliveries_due(Notification)) == [notification]
    assert notification_send.run(notification.pk) is True
    assert Notification.objects.get(pk=notification.pk).attempts == 2


def test_failing_emails_back_off_then_show_as_incidents_a_supervisor_sends_again(
    importer, consignment, inspector, supervisor, broker, settings, django_capture_on_commit_callbacks
):
    settings.PIF_DELIVERY_ATTEMPTS = 3
    settings.EMAIL_BACKEND = "tests.test_outbox.SmtpDown"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        [notification] = notify(consignment=consignment, kind=NotificationKind.DECIDED)
    [failure] = broker.work()
    assert isinstance(failure, smtplib.SMTPServerDisconnected)
    notification.refresh_from_db()
    assert notification.sent_at is None and notification.attempts == 1
    assert "Connection unexpectedly closed" in notification.last_error
    assert notification.next_attempt_at > timezone.now() + datetime.timedelta(seconds=20)  # backoff
    _past_grace()
    assert deliveries_resend.run() == 0  # not due yet
    for _attempt in (2, 3):
        _due_now()
        assert deliveries_resend.run() == 1
        broker.work()
    _due_now()
    assert deliveries_resend.run() == 0  # given up after PIF_DELIVERY_ATTEMPTS
    assert Notification.objects.get(pk=notification.pk).attempts == 3

    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(inspector)
    assert staff.get("/workflow/incidents/").status_code == 404  # supervisors only
    retry_url = f"/workflow/incidents/deliveries/notification/{notification.pk}/retry/"
    assert staff.post(retry_url, {"reason": "x"}).status_code == 404
    staff.force_login(supervisor)
    page = staff.get("/workflow/incidents/").content.decode()
    assert "Messages not delivered: emails, webhook posts, hub envelopes, TRACES exchanges" in page
    assert consignment.reference in page and importer.email in page and "Connection unexpectedly closed" in page

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(retry_url, {"reason": "SMTP relay restarted"}).status_code == 302
    assert broker.work() == [True]
    [email] = mail.outbox
    assert email.to == [importer.email]
    event = AuditEvent.objects.get(action="delivery.retried")
    assert event.actor == supervisor and event.consignment_id == consignment.pk
    assert event.data["reason"] == "SMTP relay restarted" and event.data["attempts"] == 3
    assert staff.post(retry_url, {}, follow=True).status_code == 200  # nothing left to retry: a message, no error
    assert staff.post("/workflow/incidents/deliveries/nothing/1/retry/", {}).status_code == 404


def test_a_given_up_webhook_post_is_listed_with_its_company(importer, consignment, supervisor, settings):
    settings.PIF_WEBHOOK_ALLOW_HTTP = True
    webhook_configure(actor=importer, url="http://receiver.invalid/pif")
    with transaction.atomic():
        notify(consignment=consignment, kind=NotificationKind.DECIDED)
    WebhookDelivery.objects.update(attempts=settings.PIF_DELIVERY_ATTEMPTS, last_error="WebhookFailed('HTTP 503')")
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(supervisor)
    page = staff.get("/workflow/incidents/").content.decode()
    assert "Webhook of" in page and "HTTP 503" in page
    assert f"/workflow/incidents/deliveries/webhook/{WebhookDelivery.objects.get().pk}/retry/" in page


def test_the_audit_checkpoint_is_recorded_with_the_broker_down_and_the_next_is_mailed(
    supervisor, broker, django_capture_on_commit_callbacks
):
    supervisor.email = "sylvie@pif.example"
    supervisor.save()
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        audit_checkpoint.run()
    assert AuditCheckpoint.objects.count() == 1 and mail.outbox == []
    broker.down = False
    with django_capture_on_commit_callbacks(execute=True):
        audit_checkpoint.run()
    assert broker.work() == [1]
    assert mail.outbox[0].to == ["sylvie@pif.example"]


def test_every_after_commit_hook_goes_through_the_guarded_helpers():
    """An after-commit hook that raises skips the ones registered after it (Django stops at the first), which
    would leave emails unsent and take committed files for rolled-back ones: every hook is registered by
    `inspection.outbox` (which never raises) or `inspection.services.files` (which only marks a file kept)."""
    import re
    from pathlib import Path

    hook = re.compile(r"\bon_commit\(|delay_on_commit")
    root = Path(__file__).resolve().parent.parent
    allowed = {root / "inspection" / "outbox.py", root / "inspection" / "services" / "files.py"}
    offenders = [
        str(path.relative_to(root))
        for folder in ("inspection", "workflows", "pif")
        for path in (root / folder).rglob("*.py")
        if path not in allowed and hook.search(path.read_text())
    ]
    assert offenders == []
