"""Deliveries: the outbox rows of emails (`Notification`), webhook posts (`WebhookDelivery`), envelopes for the
IPPC ePhyto hub (`HubDelivery`) and messages to TRACES NT (`TracesExchange`), written in the transaction of the
change that owes them, sent after commit, sent again by beat's sweeper until sent or given up.

A row is pending while `sent_at` is empty. A send claims it by a conditional update (one winner however many
messages arrive: the first send, the sweeper's, a redelivery) that counts the attempt and holds the row for
`SEND_LEASE`; a send that fails sets when to try again (backoff); a worker that dies mid-send leaves the lease
to expire. After `PIF_DELIVERY_ATTEMPTS` attempts a row is given up: an incident, which a supervisor retries."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record_about
from inspection.errors import DomainError
from inspection.models import HubDelivery, Notification, TracesExchange, WebhookDelivery
from inspection.outbox import task_send, task_send_on_commit
from inspection.roles import Role
from inspection.services.permissions import require_role

# Longer than a send can take (EMAIL_TIMEOUT, PIF_WEBHOOK_TIMEOUT): past it, the sender is taken for dead.
SEND_LEASE = timedelta(minutes=5)
DELIVERY_MODELS = {
    "notification": Notification,
    "webhook": WebhookDelivery,
    "hub": HubDelivery,
    "traces": TracesExchange,
}
# The Celery task (in `inspection.tasks`) that sends a row of each kind.
DELIVERY_TASKS = {
    "notification": "notification_send",
    "webhook": "webhook_send",
    "hub": "hub_delivery_send",
    "traces": "traces_exchange_send",
}


def _task(kind: str):
    from inspection import tasks

    return getattr(tasks, DELIVERY_TASKS[kind])


def delivery_claim(model, pk: int) -> bool:
    """Take a pending row for one attempt: the first attempt at once, a later one once it is due. False when
    another sender holds it, it is sent, not due, or given up."""
    now = timezone.now()
    due = Q(attempts=0) | Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        model.objects.filter(due, pk=pk, sent_at__isnull=True, attempts__lt=settings.PIF_DELIVERY_ATTEMPTS).update(
            attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE
        )
    )


def delivery_sent(model, pk: int) -> None:
    model.objects.filter(pk=pk).update(sent_at=timezone.now(), next_attempt_at=None)


def delivery_failed(model, pk: int, exc: BaseException) -> None:
    """Record the failure and when to try again: 30 s, then twice as long each time, at most an hour."""
    with transaction.atomic():
        row = model.objects.select_for_update(no_key=True).filter(pk=pk, sent_at__isnull=True).first()
        if row is None:
            return
        wait = min(3600, 30 * 2 ** max(0, row.attempts - 1))
        row.next_attempt_at = timezone.now() + timedelta(seconds=wait)
        row.last_error = repr(exc)[:2000]
        row.save(update_fields=["next_attempt_at", "last_error"])


def deliveries_due(model, *, now=None):
    """Pending rows the sweeper must send: not given up, past the grace period left to their first send (or
    to the worker holding them), and due."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.PIF_DELIVERY_GRACE_SECONDS)
    return model.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        sent_at__isnull=True,
        attempts__lt=settings.PIF_DELIVERY_ATTEMPTS,
        created_at__lt=grace,
    )


def deliveries_given_up(model):
    return model.objects.filter(sent_at__isnull=True, attempts__gte=settings.PIF_DELIVERY_ATTEMPTS)


def deliveries_resend(*, limit: int = 500) -> int:
    """Beat's sweeper: hand the due rows to the broker again (at most `limit` of each kind per run). A row sent
    twice is sent once (`delivery_claim`). Stops at the first broker failure: the next run tries again.
    Returns how many were handed over."""
    sent = 0
    for kind, model in DELIVERY_MODELS.items():
        for pk in deliveries_due(model).order_by("pk").values_list("pk", flat=True)[:limit]:
            if not task_send(_task(kind), pk):
                return sent
            sent += 1
    return sent


@atomic_service
def delivery_retry(*, actor, kind: str, pk: int, reason: str = ""):
    """A supervisor sends a given-up email, webhook post, hub envelope or TRACES exchange again, once the cause is
    fixed (the SMTP server, the company's URL, the hub, the connection to TRACES NT): its attempts start again from
    zero. Audited."""
    require_role(actor, Role.SUPERVISOR)
    model = DELIVERY_MODELS[kind]
    row = deliveries_given_up(model).select_for_update(no_key=True).filter(pk=pk).first()
    if row is None:
        raise DomainError(_("This delivery is no longer failed: there is nothing to retry."))
    attempts, error = row.attempts, row.last_error
    row.attempts, row.next_attempt_at = 0, timezone.now()
    row.save(update_fields=["attempts", "next_attempt_at"])
    # a hub envelope is an export application's (its event names the application), the others a consignment's
    subject = row.certificate.application if isinstance(row, HubDelivery) else row.consignment
    audit_record_about(
        actor=actor,
        action=AuditAction.DELIVERY_RETRIED,
        subject=subject,
        data={
            "delivery": kind,
            "id": row.pk,
            "event": row.kind,
            "attempts": attempts,
            "error": error[:300],
            "reason": reason,
        },
    )
    task_send_on_commit(_task(kind), row.pk)
    return row
