"""The audit chain's checkpoints: the head recorded hourly, in the database and as a signed file of the witness
folder, and sent daily to the supervisors."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from inspection.atomic import atomic_service
from inspection.audit import audit_chain_lock_head
from inspection.audit_witness import witness_write
from inspection.models import AuditCheckpoint
from inspection.outbox import task_send_on_commit
from inspection.roles import Role


@atomic_service
def audit_checkpoint_record(*, email: bool = True) -> AuditCheckpoint:
    """Record the chain's head: a row of the database, and a new file of the witness folder
    (`PIF_AUDIT_WITNESS_DIR`) signed with the audit key; with `email`, send it to every active supervisor after
    commit (`audit_checkpoint_send`, a task: an SMTP server that is down is retried, never undoes the
    checkpoint). `verify_audit` compares the chain with every witness file: a chain cut, or rewritten, before one
    fails even when the database's rows are gone. The file is written before commit (it names events already
    committed: a rollback leaves a true checkpoint), so that a folder that cannot be written fails the run.
    Run hourly by beat, with the email once a day."""
    seq, head = audit_chain_lock_head()  # locked: the head at commit
    checkpoint = AuditCheckpoint.objects.create(seq=seq, event_hash=head, recorded_at=timezone.now())
    checkpoint.witness_path = witness_write(seq=seq, event_hash=head, recorded_at=checkpoint.recorded_at)
    if email:
        from inspection.tasks import audit_checkpoint_mail

        task_send_on_commit(audit_checkpoint_mail, checkpoint.pk)
    return checkpoint


def audit_checkpoint_send(*, checkpoint_id: int) -> int:
    """Email a checkpoint to every active supervisor (run by a task after the checkpoint's commit). Returns how
    many were written to."""
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
