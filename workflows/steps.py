"""Driving human tasks from code (the demo, scripts): claim the task as a user and complete it with a
service call, exactly as its view does, under the flow lock."""

from types import SimpleNamespace

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from inspection.atomic import one_transaction
from inspection.errors import NotPermitted
from inspection.models import Consignment

from .engine import task_locked


def open_task(artifact, node) -> Task | None:
    """The open task of `node` (a node of one flow) in the process of `artifact` (a consignment, an export
    application)."""
    return Task.objects.filter(
        process__artifact_object_id=artifact.pk, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    ).first()


def task_cancel(task: Task) -> None:
    """Cancel an open task and the boundary timers armed on it (viewflow cancels those only when a task
    finishes, not when it is cancelled). Runs under the flow lock of the caller."""
    for timer in task.leading.filter(status=STATUS.SCHEDULED):
        timer.flow_task.activation_class(timer).cancel()
    task.flow_task.activation_class(task).cancel()


def _inspections(consignment: Consignment):
    from .flows import InspectionFlow  # the flow imports this module

    # a proxy's manager does not filter by flow: an export application may share the consignment's pk
    return InspectionFlow.process_class.objects.filter(
        flow_class=InspectionFlow,
        artifact_content_type=ContentType.objects.get_for_model(Consignment),
        artifact_object_id=consignment.pk,
    )


def inspection_lock(consignment: Consignment) -> None:
    """The flow lock of the consignment's inspection (its process row, locked as `InspectionFlow.lock_impl` and the
    task views lock it), held to the end of the caller's transaction; taken before the consignment's row, as a task
    completion does."""
    list(_inspections(consignment).select_for_update(no_key=True).values_list("pk", flat=True))


def inspection_stop(consignment: Consignment) -> None:
    """End a consignment's inspection without a decision (its CHED was replaced or split): viewflow's own
    process cancel, under the flow lock, cancels every open task and timer and marks the process cancelled."""
    for process in _inspections(consignment).exclude(status__in=[PROCESS.DONE, PROCESS.CANCELED]):
        process.flow_class.instance.cancel(process)


def task_complete_as(*, user, task: Task, record, consignment: Consignment | None = None) -> None:
    """Claim `task` for `user` (only if its permission allows, as in the UI) and complete it with
    `record()`, a call to the step's service: all in one transaction under the flow lock, so a step that
    fails leaves the task unclaimed and nothing of the step written (the service takes no savepoint of its
    own: `inspection.atomic`).

    `consignment`, when the caller holds the one `record()` works on, is what the gateways that follow read
    (the services keep it current), instead of reading it again, as a task view's form and gateways share
    `process.consignment`."""
    flow_class = task.flow_task.flow_class
    with task_locked(flow_class, task.process_id, task.pk) as task, one_transaction():  # re-read under the lock
        if consignment is not None:
            if consignment.pk != task.process.artifact_object_id:
                raise ValueError(f"{consignment} is not the consignment of {task}")
            task.process.artifact = consignment
        activation = task.flow_task.activation_class(task)
        if task.owner_id is None:
            if not task.flow_task.can_assign(user, task):
                raise NotPermitted(_("This task is not for you."))
            activation.claim(user)
        elif task.owner_id != user.pk:
            raise NotPermitted(_("This task is assigned to someone else."))
        else:
            activation.start(SimpleNamespace(user=user))
        record()
        activation.execute()
