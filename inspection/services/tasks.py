"""Supervisors' actions on workflow tasks: reassign or unassign a human task, audited with a reason."""

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.audit import AuditAction, audit_record_about
from inspection.errors import DomainError, NotPermitted
from inspection.roles import Role, may_perform, user_roles

OPEN = (STATUS.NEW, STATUS.ASSIGNED)


def _check(actor, reason: str) -> str:
    if not user_roles(actor) & {Role.SUPERVISOR, Role.ADMIN}:
        raise NotPermitted(_("Only a supervisor may reassign work."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason."))
    return reason


def _locked_open_task(task_id: int) -> Task:
    task = Task.objects.select_related("owner", "process").get(pk=task_id)
    if task.flow_task_type != "HUMAN" or task.status not in OPEN:
        raise DomainError(_("This task is no longer open."))
    return task


def task_reassign(*, actor, task_id: int, to_user, reason: str) -> Task:
    """Give an open human task to `to_user`, who must hold the role that performs its step (as if they
    claimed it themselves; a superuser without it may not), taking it from its owner if it has one. Under
    the flow lock, audited with the reason."""
    reason = _check(actor, reason)
    task = _locked_open_task(task_id)
    step = task.flow_task.step  # every human task of the flow names its step (docs/decisions/0008)
    if not may_perform(to_user, step):
        raise DomainError(_("%(user)s may not do this step.") % {"user": to_user.get_username()})
    with transaction.atomic(), task.activation() as activation:
        task = activation.task  # re-read under the lock
        if task.status not in OPEN:
            raise DomainError(_("This task is no longer open."))
        previous = task.owner.get_username() if task.owner_id else None
        if task.status == STATUS.ASSIGNED:
            activation.reassign(to_user)
        else:
            activation.assign(to_user)
        audit_record_about(
            actor=actor,
            action=AuditAction.TASK_REASSIGNED,
            subject=task.process.artifact,
            data={
                "task": task.pk,
                "step": task.flow_task.name,
                "from": previous,
                "to": to_user.get_username(),
                "reason": reason,
            },
        )
    return task


def task_unassign(*, actor, task_id: int, reason: str) -> Task:
    """Put an assigned human task back in the queue of its role. Under the flow lock, audited with the reason."""
    reason = _check(actor, reason)
    task = _locked_open_task(task_id)
    with transaction.atomic(), task.activation() as activation:
        task = activation.task  # re-read under the lock
        if task.status != STATUS.ASSIGNED:
            raise DomainError(_("This task is not assigned to anyone."))
        previous = task.owner.get_username()
        activation.unassign()
        audit_record_about(
            actor=actor,
            action=AuditAction.TASK_UNASSIGNED,
            subject=task.process.artifact,
            data={"task": task.pk, "step": task.flow_task.name, "from": previous, "reason": reason},
        )
    return task
