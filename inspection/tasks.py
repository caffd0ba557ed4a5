"""Celery tasks: thin adapters that take ids, re-fetch, and call one service."""

from celery import shared_task

from inspection.services.audit import audit_checkpoint_record
from inspection.services.follow_up import follow_up_reminders_send
from inspection.services.heartbeat import heartbeat_worker_seen
from inspection.services.lab import lab_submissions_purge
from inspection.services.notifications import notification_deliver
from inspection.services.webhooks import webhook_deliver


@shared_task(bind=True, acks_late=True, max_retries=8, retry_backoff=True)
def notification_send(self, notification_id: int) -> bool:
    try:
        return notification_deliver(notification_id=notification_id)
    except Exception as exc:  # SMTP down, etc.: never blocks the workflow, retried with backoff
        raise self.retry(exc=exc, countdown=min(600, 2**self.request.retries * 10)) from exc


@shared_task(bind=True, acks_late=True, max_retries=8, retry_backoff=True)
def webhook_send(self, delivery_id: int) -> bool:
    try:
        return webhook_deliver(delivery_id=delivery_id)
    except Exception as exc:  # the receiver is down or refuses: retried with backoff, the workflow goes on
        raise self.retry(exc=exc, countdown=min(600, 2**self.request.retries * 10)) from exc


@shared_task(acks_late=True)
def follow_up_reminders() -> int:
    """Run by beat: tell companies whose follow-up deadline nears."""
    return follow_up_reminders_send()


@shared_task(acks_late=True)
def audit_checkpoint(email: bool = True) -> int:
    """Hourly (beat): record the audit chain's head, in the database and the witness folder; once a day also
    email it to the supervisors."""
    return audit_checkpoint_record(email=email).seq


@shared_task(acks_late=True)
def lab_submissions_purge_old() -> int:
    """Daily (beat): delete the refused lab posts kept past their retention period."""
    return lab_submissions_purge()


@shared_task(acks_late=True)
def heartbeat() -> str:
    """Sent only by beat, every `PIF_HEARTBEAT_SECONDS`: a worker ran it now (beat records its own send time as
    it publishes; see `inspection.services.heartbeat`)."""
    return heartbeat_worker_seen().isoformat()
