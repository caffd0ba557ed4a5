"""Nodes of our own, on viewflow's open-source building blocks (never patched, only subclassed):

- `ForEach`: a parallel split that creates one task per item of a data source (one lab wait per sample);
- `CeleryJob`: a job node run by a Celery worker after commit (viewflow's own is in the PRO edition)."""

from celery import shared_task
from django.db import transaction
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.fields import import_flow_by_ref
from viewflow.workflow.flow import mixins
from viewflow.workflow.flow.nodes import Split
from viewflow.workflow.nodes.job import AbstractJob, AbstractJobActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS


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
        transaction.on_commit(lambda: flow_job_run.apply_async(args=[ref], task_id=task_id))

    @Activation.status.transition(source=[STATUS.NEW, STATUS.SCHEDULED], target=STATUS.CANCELED)
    def cancel(self):
        self.task.save()


class CeleryJob(mixins.NodeDetailMixin, mixins.NodeCancelMixin, AbstractJob):
    """Runs `func(activation)` in a Celery worker once the transaction that reached it commits. Safe to
    deliver twice: the task is claimed under the flow lock, and a finished one is skipped."""

    activation_class = CeleryJobActivation

    def __init__(self, func, **kwargs):
        super().__init__(**kwargs)
        self._func = func

    def _resolve(self, instance):
        super()._resolve(instance)
        self._func = this.resolve(instance, self._func)


@shared_task(bind=True, acks_late=True, max_retries=5)
def flow_job_run(self, ref: str):
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
        with flow_class.lock(process_pk):
            task.refresh_from_db()
            task.flow_task.activation_class(task).error(exc)
        raise
    with flow_class.lock(process_pk):
        task.refresh_from_db()
        task.flow_task.activation_class(task).execute()
    return "done"
