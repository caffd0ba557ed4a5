"""Celery tasks: thin adapters that take ids, re-fetch, and call one service."""

from celery import shared_task

from inspection.services.audit import audit_checkpoint_record, audit_checkpoint_send
from inspection.services.deliveries import deliveries_resend as deliveries_resend_service
from inspection.services.files import files_unrecorded_delete
from inspection.services.follow_up import follow_up_reminders_send
from inspection.services.heartbeat import heartbeat_worker_seen
from inspection.services.hub import hub_deliveries_poll as hub_deliveries_poll_service
from inspection.services.hub import hub_delivery_deliver
from inspection.services.idempotency import idempotent_requests_purge as idempotent_requests_purge_service
from inspection.services.lab import lab_submissions_purge
from inspection.services.notifications import notification_deliver
from inspection.services.traces import traces_exchange_deliver
from inspection.services.webhooks import webhook_deliver


# One attempt per message: a failure is recorded on the row, with when to try again, and beat's sweeper
# (`deliveries_resend`) sends it then, whether the worker, the broker or the receiver failed.
@shared_task(acks_late=True)
def notification_send(notification_id: int) -> bool:
    return notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True)
def webhook_send(delivery_id: int) -> bool:
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True)
def hub_delivery_send(delivery_id: int) -> bool:
    return hub_delivery_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True)
def hub_deliveries_poll() -> int:
    """Every PIF_IPPC_HUB_POLL_SECONDS (beat): the hub's tracking info of the envelopes it took."""
    return hub_deliveries_poll_service()


@shared_task(acks_late=True)
def traces_exchange_send(exchange_id: int) -> bool:
    return traces_exchange_deliver(exchange_id=exchange_id)


@shared_task(acks_late=True)
def deliveries_resend() -> int:
    """Every minute (beat): send the emails, webhook posts, hub envelopes and TRACES exchanges still pending past
    their first send."""
    return deliveries_resend_service()


@shared_task(acks_late=True)
def files_sweep() -> int:
    """Daily (beat): delete the private files no row records, left by a process that died mid-transaction."""
    return len(files_unrecorded_delete())


@shared_task(acks_late=True)
def idempotent_requests_purge() -> int:
    """Daily (beat): forget the API answers kept for replay past `PIF_IDEMPOTENCY_RETENTION_HOURS`."""
    return idempotent_requests_purge_service()


@shared_task(bind=True, acks_late=True, max_retries=8)
def audit_checkpoint_mail(self, checkpoint_id: int) -> int:
    try:
        return audit_checkpoint_send(checkpoint_id=checkpoint_id)
    except Exception as exc:  # SMTP down: retried with backoff; the checkpoint itself is recorded
        raise self.retry(exc=exc, countdown=min(3600, 2**self.request.retries * 30)) from exc


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
