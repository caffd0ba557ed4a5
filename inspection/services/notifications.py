"""Emails to operators. Queued in the transaction of the change, sent by a Celery task after commit."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from inspection.models import Consignment, Notification


def notifications_queue(*, consignment: Consignment, kind: str) -> list[Notification]:
    """Owe `kind` to every active user of the consignment's operator who has an email address."""
    from inspection.tasks import notification_send

    users = consignment.operator.memberships.filter(user__is_active=True).exclude(user__email="")
    notifications = Notification.objects.bulk_create(
        Notification(consignment=consignment, recipient_id=user_id, kind=kind)
        for user_id in users.values_list("user_id", flat=True)
    )
    for notification in notifications:
        notification_send.delay_on_commit(notification.pk)
    return notifications


def notification_deliver(*, notification_id: int) -> bool:
    """Send one notification at most once: claim it with a conditional update, send, and give the claim
    back if the send fails (the task retries). Returns False when there was nothing to send."""
    claimed = Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("consignment", "recipient").get(pk=notification_id)
    context = {"notification": notification, "consignment": notification.consignment, "site_url": settings.SITE_URL}
    try:
        send_mail(
            subject=render_to_string(f"inspection/email/{notification.kind}_subject.txt", context).strip(),
            message=render_to_string(f"inspection/email/{notification.kind}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
    except Exception as exc:
        with transaction.atomic():
            Notification.objects.filter(pk=notification_id).update(sent_at=None, last_error=repr(exc)[:2000])
        raise
    return True
