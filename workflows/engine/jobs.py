"""A job node run by a Celery worker after commit (viewflow's own is in the PRO edition), retried, then an
incident for the supervisors (`workflows.incidents`)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.fields import import_flow_by_ref
from viewflow.workflow.flow import mixins, views
from viewflow.workflow.nodes.job import AbstractJob, AbstractJobActivation
from viewflow.workflow.status import STATUS

from .locking import task_locked

logger = logging.getLogger(__name__)


class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.task.save()
        ref, task_id = self.ref(), self.task.external_task_id
        transaction.on_commit(lambda: _enqueue(ref, task_id))

    @Activation.status.super()
    def execute(self):
        """viewflow's job `execute`, routing on in the caller's transaction: a gateway or the end that fails
        undoes the job's completion with it, and `flow_job_run` retries the job, which ends as an incident
        for the supervisors (with a retry button). viewflow records such a failure on the gateway's task
        instead (`propagate_exception=False`), where no list shows it and nothing can retry it."""
        self.complete()
        self.activate_next()

    @Activation.status.transition(source=[STATUS.NEW, STATUS.SCHEDULED], target=STATUS.CANCELED)
    def cancel(self):
        self.task.save()


class CeleryJob(mixins.NodeDetailMixin, mixins.NodeCancelMixin, AbstractJob):
    """Runs `func(activation)` in a Celery worker once the transaction that reached it commits. Safe to
    deliver twice: the task is claimed under the flow lock, and a finished one is skipped."""

    activation_class = CeleryJobActivation
    index_view_class = views.IndexTaskView
    detail_view_class = views.DetailTaskView

    def __init__(self, func, **kwargs):
        super().__init__(**kwargs)
        self.func = func

    @property
    def func(self):
        """The job's function: a callable, or a `this.method` of the flow, resolved on the flow."""
        return this.resolve(self.flow_class.instance, self.func_ref)

    @func.setter
    def func(self, func):
        self.func_ref = func


def _enqueue(ref: str, task_id: str) -> None:
    """After commit: the step is saved whatever happens here. A broker that is down is logged, and the job
    stays SCHEDULED for `flow_jobs_resend` (beat) to send again."""
    try:
        flow_job_run.apply_async(args=[ref], task_id=task_id)
    except Exception:
        logger.exception("could not enqueue flow job %s; beat will resend it", ref)


# The task names are those of the module these tasks lived in (workflows/nodes.py), so that messages
# already queued, and the beat schedule, still find them.
@shared_task(bind=True, acks_late=True, max_retries=5, name="workflows.nodes.flow_job_run")
def flow_job_run(self, ref: str):
    """Run a job node's function, then mark it done and route on. A failure of either is retried with
    backoff; the last failure marks the task ERROR (an incident for the supervisors).

    Two deliveries may run at once (a redelivery, the resend beat task, a run from code): viewflow's `start`
    admits a STARTED task again, so the function must be idempotent, and only the first to finish routes on.
    """
    flow_ref, process_pk, task_pk = ref.rsplit("/", 2)
    flow_class = import_flow_by_ref(flow_ref)
    with task_locked(flow_class, process_pk, task_pk) as task:
        activation = task.flow_task.activation_class(task)
        if not activation.start.can_proceed():
            return "already done"
        activation.start()
    try:
        task.flow_task.func(activation)
        # done, and routed on (`CeleryJobActivation.execute`): a failure here is retried as the job's own
        with task_locked(flow_class, process_pk, task_pk) as task:
            activation = task.flow_task.activation_class(task)
            if not activation.execute.can_proceed():
                return "already done"
            activation.execute()
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc
        with task_locked(flow_class, process_pk, task_pk) as task:
            activation = task.flow_task.activation_class(task)
            if activation.error.can_proceed():
                activation.error(exc)
        raise
    return "done"


@shared_task(acks_late=True, name="workflows.nodes.flow_jobs_resend")
def flow_jobs_resend(older_than_seconds: int = 300) -> int:
    """Send again the jobs still SCHEDULED long after they were created (a broker that was down at commit,
    a message lost). Harmless when the first message is still coming: a job runs once."""
    from viewflow.workflow.models import Task

    stale = Task.objects.filter(
        flow_task_type="JOB",
        status=STATUS.SCHEDULED,
        created__lt=timezone.now() - timedelta(seconds=older_than_seconds),
    )
    count = 0
    for task in stale:
        _enqueue(task.flow_task.activation_class(task).ref(), task.external_task_id)
        count += 1
    return count
