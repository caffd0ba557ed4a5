"""The URLs of a human task: viewflow's task view wrappers with the same checks, plus what the project
needs of a step sent from a tablet."""

from functools import update_wrapper

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow.status import STATUS

from inspection.atomic import one_transaction
from workflows.receipts import receipt_replay

from .locking import task_locked


class StepRefused(Exception):  # noqa: N818 (not an error: the form is shown again)
    """Raised by a task view whose service refused the input: it rolls back the step's transaction (nothing
    of the step is written), and `respond()` (the form with its errors) is called once the lock is
    released."""

    def __init__(self, respond):
        super().__init__()
        self.respond = respond


def _refusal(user, task) -> str:
    """Why this user may not open or claim this task, said to them (the 403 page shows it)."""
    if task.status == STATUS.DONE:
        return gettext("This task is already done.")
    if task.owner_id == user.pk:  # claimed twice (a double tap): it is theirs already
        return gettext("You have already claimed this task: open it from your tasks.")
    if task.owner_id is not None and task.owner_id != user.pk:
        owner = task.owner
        return gettext("This task has just been taken by %(who)s.") % {
            "who": owner.get_full_name() or owner.get_username()
        }
    return gettext("This task is not for your role.")


def task_view(node, origin_view, *, permission=None, start=False):
    """viewflow's task view wrappers (`flow.utils.wrap_task_view` and `wrap_view`) with the same checks. A
    POST reads the task with its process as it takes the flow lock (`task_locked`) and runs in the lock's
    transaction only, where services take no savepoint of their own (`inspection.atomic.one_transaction`);
    a refused input (`StepRefused`) rolls it all back and the form is shown after the lock is released. A
    refusal says why (`_refusal`). A task form (`start`) sent again after it was accepted is answered as the
    first was (`workflows.receipts`)."""

    def view(request, *args, process_pk, task_pk, **kwargs):
        def call_with_activation(task):
            if task.process.flow_class != node.flow_class:
                raise Http404("No task matches the given query.")
            request.activation = node.activation_class(task)
            if start and request.method == "POST" and (replay := receipt_replay(request, task)) is not None:
                return replay
            if permission is not None and not permission(request.user, task=task):
                raise PermissionDenied(_refusal(request.user, task))
            if start:
                try:
                    request.activation.start(request)
                except TransitionNotAllowed as exc:  # a finished task's form, opened again
                    raise PermissionDenied(_refusal(request.user, task)) from exc
            return origin_view(request, *args, process_pk=process_pk, task_pk=task_pk, **kwargs)

        task_class = node.flow_class.task_class
        try:
            if request.method == "POST":
                with task_locked(node.flow_class, process_pk, task_pk) as task, one_transaction():
                    return call_with_activation(task)
            tasks = task_class._default_manager.select_related("process")
            return call_with_activation(tasks.get(pk=task_pk, process_id=process_pk))
        except task_class.DoesNotExist as exc:
            raise Http404("No task matches the given query.") from exc
        except TransitionNotAllowed as exc:
            raise PermissionDenied(",".join(exc.args)) from exc
        except StepRefused as refused:
            return refused.respond()

    update_wrapper(view, origin_view)
    return view
