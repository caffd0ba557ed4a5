"""Nodes of our own, on viewflow's open-source building blocks (never patched, only subclassed):

- `ForEach`: a parallel split that creates one task per item of a data source (one lab wait per sample);
- `CeleryJob`: a job node run by a Celery worker after commit (viewflow's own is in the PRO edition)."""

import logging

from celery import shared_task
from django.db import transaction
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.fields import import_flow_by_ref
from viewflow.workflow.flow import mixins, views
from viewflow.workflow.flow.nodes import Split
from viewflow.workflow.nodes.job import AbstractJob, AbstractJobActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS

logger = logging.getLogger(__name__)


class ForEachActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        for node, cond, data_source in self.flow_task._branches:
            if cond and not cond(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))
        if not self.next_tasks:
            raise RuntimeError(f"{self.flow_task.name}: no branch to follow")


class ForEach(Split):
    """`.Each(node, data_source)` creates one `node` task per item (stored in `task.data`);
    `.Always(node)` one task, as in a plain split."""

    activation_class = ForEachActivation

    def Each(self, node, data_source):
        self._activate_next.append((node, None, data_source))
        return self


class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.task.save()
        ref, task_id = self.ref(), self.task.external_task_id
        transaction.on_commit(lambda: _enqueue(ref, task_id))

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
        self._func = func

    def _resolve(self, instance):
        super()._resolve(instance)
        self._func = this.resolve(instance, self._func)


def _enqueue(ref: str, task_id: str) -> None:
    """After commit: the step is saved whatever happens here. A broker that is down is logged, and the job
    stays SCHEDULED for `flow_jobs_resend` (beat) to send again."""
    try:
        flow_job_run.apply_async(args=[ref], task_id=task_id)
    except Exception:
        logger.exception("could not enqueue flow job %s; beat will resend it", ref)


@shared_task(bind=True, acks_late=True, max_retries=5)
def flow_job_run(self, ref: str):
    """Run a job node's function. A failure is retried with backoff; the last failure marks the task ERROR
    (an incident for the supervisors).

    Two deliveries may run at once (a redelivery, the resend beat task, a run from code): viewflow's `start`
    admits a STARTED task again, so the function must be idempotent, and only the first to finish routes on.
    """
    flow_ref, process_pk, task_pk = ref.rsplit("/", 2)
    flow_class = import_flow_by_ref(flow_ref)
    with flow_class.lock(process_pk):
        task = flow_class.task_class._default_manager.get(pk=task_pk)
        activation = task.flow_task.activation_class(task)
        if not activation.start.can_proceed():
            return "already done"
        activation.start()
    try:
        task.flow_task._func(activation)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc
        with flow_class.lock(process_pk):
            task.refresh_from_db()
            activation = task.flow_task.activation_class(task)
            if activation.error.can_proceed():
                activation.error(exc)
        raise
    with flow_class.lock(process_pk):
        task.refresh_from_db()
        activation = task.flow_task.activation_class(task)
        if not activation.execute.can_proceed():
            return "already done"
        activation.execute()
    return "done"


@shared_task(acks_late=True)
def flow_jobs_resend(older_than_seconds: int = 300) -> int:
    """Send again the jobs still SCHEDULED long after they were created (a broker that was down at commit,
    a message lost). Harmless when the first message is still coming: a job runs once."""
    from datetime import timedelta

    from django.utils import timezone
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
