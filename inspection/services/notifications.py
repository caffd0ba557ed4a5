"""Telling operators what happens to their consignments: emails to the company's users (each chooses which
events) and a signed POST to the company's webhook, if it has one. Both are queued in the transaction of the
change (the outbox, `inspection.services.deliveries`) and sent by Celery after commit, then by beat's sweeper
until sent or given up (an incident); a failed send never blocks the workflow nor fails the change.

The entry point is `notify(consignment=..., kind=..., **context)` (`notify_all` for several events at once)."""

import json
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotPermitted
from inspection.models import Consignment, Membership, Notification, NotificationKind, Operator, WebhookDelivery
from inspection.outbox import task_send_on_commit
from inspection.services.customs import customs_notify
from inspection.services.deliveries import delivery_claim, delivery_failed, delivery_sent
from inspection.services.traces import TRACES_EVENTS, traces_exchange_queue


def notify(*, consignment: Consignment, kind: str, **context) -> list[Notification]:
    """Tell the consignment's company that `kind` (a `NotificationKind`) happened. Call it inside the
    transaction of the change: an email is owed to every active user of the company who has an address and
    wants `kind`, and a webhook delivery to the company's URL; all are sent after commit, so a rolled-back
    change tells nobody. `context` (JSON-serialisable, e.g. `certificates=[{number, url, ...}]`) reaches the email
    templates and the webhook payload."""
    return notify_all(consignment=consignment, events=[(kind, context)])


def notify_all(*, consignment: Consignment, events: list[tuple[str, dict]]) -> list[Notification]:
    """`notify` for several events of one change (a decision and its certificates), in order: the company's
    users and webhook are read once for all of them."""
    from inspection.tasks import notification_send, webhook_send

    for kind, _context in events:
        if kind not in NotificationKind.values:
            raise ValueError(f"unknown notification kind {kind!r}")
    events = [(kind, json.loads(json.dumps(context, cls=DjangoJSONEncoder))) for kind, context in events]
    memberships = list(
        Membership.objects.filter(operator_id=consignment.operator_id, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "notification_kinds")
    )
    notifications = Notification.objects.bulk_create(
        Notification(consignment=consignment, recipient_id=user_id, kind=kind, context=context)
        for kind, context in events
        for user_id, kinds in memberships
        if kind in (kinds or [])
    )
    for notification in notifications:
        task_send_on_commit(notification_send, notification.pk)
    operator = Operator.objects.only("webhook_url").get(pk=consignment.operator_id)
    if operator.webhook_url:
        url = settings.SITE_URL + reverse("consignment-detail", kwargs={"reference": consignment.reference})
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                operator_id=consignment.operator_id,
                consignment=consignment,
                kind=kind,
                payload={
                    "event": kind,
                    "consignment": consignment.reference,
                    "status": consignment.status,
                    "occurred_at": timezone.now().isoformat(),
                    "url": url,
                    **context,
                },
            )
            for kind, context in events
        )
        for delivery in deliveries:
            task_send_on_commit(webhook_send, delivery.pk)
    # the customs system hears of decisions taken and revoked (`services/customs.py`)
    customs_notify(consignment=consignment, kinds=[kind for kind, _context in events])
    # and TRACES NT of the notifications it maps (`TRACES_EVENTS`); a split or a replacement queues its own
    traces_exchange_queue(consignment=consignment, kinds=[kind for kind, _context in events if kind in TRACES_EVENTS])
    return notifications


def notification_deliver(*, notification_id: int) -> bool:
    """Send one notification: claim it (`delivery_claim`: one sender at a time, however many messages), send,
    and mark it sent, or record the failure and when to try again (beat's sweeper does). Returns False when
    there was nothing to send."""
    if not delivery_claim(Notification, notification_id):
        return False
    notification = Notification.objects.select_related("consignment", "recipient").get(pk=notification_id)
    context = {
        **notification.context,
        "notification": notification,
        "consignment": notification.consignment,
        "site_url": settings.SITE_URL,
    }
    try:
        send_mail(
            subject=render_to_string(f"inspection/email/{notification.kind}_subject.txt", context).strip(),
            message=render_to_string(f"inspection/email/{notification.kind}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
    except Exception as exc:
        delivery_failed(Notification, notification_id, exc)
        raise
    delivery_sent(Notification, notification_id)
    return True


@atomic_service
def notification_choices_update(*, actor, kinds: list[str]) -> Membership:
    """An importer chooses which events they are emailed about (their own choice only)."""
    membership = Membership.objects.select_for_update(no_key=True).filter(user=actor).first()
    if membership is None:
        raise NotPermitted(_("Only a user of an operator company receives notifications."))
    unknown = set(kinds) - set(NotificationKind.values)
    if unknown:
        raise DomainInvalid({"kinds": [_("Unknown event(s): %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))}]})
    membership.notification_kinds = [k for k in NotificationKind.values if k in kinds]
    membership.save(update_fields=["notification_kinds"])
    audit_record(actor=actor, action=AuditAction.NOTIFICATIONS_CHOSEN, data={"kinds": membership.notification_kinds})
    return membership


@atomic_service
def webhook_configure(*, actor, url: str, new_secret: bool = False) -> Operator:
    """An importer sets (or clears, with an empty URL) the company's webhook. HTTPS only, unless
    `PIF_WEBHOOK_ALLOW_HTTP`. A secret for the HMAC signature is made with the first URL and on request."""
    membership = Membership.objects.filter(user=actor).select_related("operator").first()
    if membership is None:
        raise NotPermitted(_("Only a user of an operator company can set its webhook."))
    operator = Operator.objects.select_for_update(no_key=True).get(pk=membership.operator_id)
    url = (url or "").strip()
    if url and not (url.startswith("https://") or (settings.PIF_WEBHOOK_ALLOW_HTTP and url.startswith("http://"))):
        raise DomainInvalid({"webhook_url": [_("The webhook URL must start with https://.")]})
    operator.webhook_url = url
    if url and (new_secret or not operator.webhook_secret):
        operator.webhook_secret = secrets.token_hex(32)
    operator.save(update_fields=["webhook_url", "webhook_secret"])
    audit_record(
        actor=actor,
        action=AuditAction.WEBHOOK_CONFIGURED,
        data={"operator": operator.pk, "url": url, "new_secret": new_secret},
    )
    return operator
