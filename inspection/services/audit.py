"""The audit chain's checkpoints: the head recorded daily and sent to the supervisors."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from inspection.atomic import atomic_service
from inspection.audit import audit_chain_lock_head
from inspection.models import AuditCheckpoint
from inspection.outbox import task_send_on_commit
from inspection.roles import Role


@atomic_service
def audit_checkpoint_record() -> AuditCheckpoint:
    """Record the chain's head and email it to every active supervisor after commit (`audit_checkpoint_send`).
    Once a checkpoint has left the database (in the supervisors' mailboxes), `verify_audit --since SEQ:HASH`
    detects a chain rewritten before it, even with every hash recomputed. Run daily by beat."""
    seq, head = audit_chain_lock_head()  # locked: the head at commit
    checkpoint = AuditCheckpoint.objects.create(seq=seq, event_hash=head, recorded_at=timezone.now())
    from inspection.tasks import audit_checkpoint_mail

    task_send_on_commit(audit_checkpoint_mail, checkpoint.pk)
    return checkpoint


def audit_checkpoint_send(*, checkpoint_id: int) -> int:
    """Email a checkpoint to every active supervisor (run by a task after the checkpoint's commit: an SMTP
    server that is down is retried, never undoes the checkpoint). Returns how many were written to."""
    checkpoint = AuditCheckpoint.objects.get(pk=checkpoint_id)
    recipients = _supervisor_addresses()
    if recipients:
        context = {"checkpoint": checkpoint, "site_url": settings.SITE_URL}
        send_mail(
            subject=render_to_string("inspection/email/audit_checkpoint_subject.txt", context).strip(),
            message=render_to_string("inspection/email/audit_checkpoint.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    return len(recipients)


def _supervisor_addresses() -> list[str]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.SUPERVISOR)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
