"""A job node run by a Celery worker after commit (viewflow's own is in the PRO edition), retried, then an
incident for the supervisors (`workflows.incidents`)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.fields import import_flow_by_ref
from viewflow.workflow.flow import mixins, views
from viewflow.workflow.nodes.job import AbstractJob, AbstractJobActivation
from viewflow.workflow.status import STATUS

from inspection.outbox import task_send, task_send_on_commit

from .locking import task_locked


class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.task.save()
        ref, task_id = self.ref(), self.task.external_task_id
        task_send_on_commit(flow_job_run, ref, task_id=task_id)

    @Activation.status.super()
    def execute(self):
        """viewflow's job `execute`, routing on in the caller's transaction: a gateway or the end that fails
        undoes the job's completion with it, and `flow_job_run` retries the job, which ends as an incident
        for the supervisors (with a retry button). viewflow records such a failure on the gateway's task
        instead (`propagate_exception=False`), where no list shows it and nothing can retry it."""
        self.complete()
        self.activate_next()

    def prepare_revived_task(self, task):
        """A job a supervisor retries starts with a fresh count of attempts (viewflow copies the failed one's data):
        the workers that died before the fix must not make it an incident at its first stop."""
        super().prepare_revived_task(task)
        task.data = {key: value for key, value in (task.data or {}).items() if key != "attempts"}

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
    """After commit: the step is saved whatever happens here. A broker that is down is logged (`task_send`), and
    the job stays SCHEDULED for `flow_jobs_resend` (beat) to send again."""
    task_send(flow_job_run, ref, task_id=task_id)


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
        _lease(task, seconds=settings.PIF_JOB_LEASE_SECONDS)
        task.data["attempts"] = (task.data or {}).get("attempts", 0) + 1
        activation.start()  # saves the lease and the attempt with the claim
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
            countdown = min(600, 10 * 2**self.request.retries)
            # the lease covers the wait for the retry: a worker that dies meanwhile leaves it to beat
            until = timezone.now() + timedelta(seconds=countdown + settings.PIF_JOB_LEASE_SECONDS)
            flow_class.task_class._default_manager.filter(pk=task_pk, status=STATUS.STARTED).update(scheduled=until)
            raise self.retry(exc=exc, countdown=countdown) from exc
        with task_locked(flow_class, process_pk, task_pk) as task:
            activation = task.flow_task.activation_class(task)
            if activation.error.can_proceed():
                activation.error(exc)
        raise
    return "done"


def _lease(task, *, seconds: float) -> None:
    """A started job must be done by `task.scheduled` (viewflow uses that column for timers only): past it,
    its worker is taken for dead and beat sends the job again (`flow_jobs_resend`)."""
    task.scheduled = timezone.now() + timedelta(seconds=seconds)
    task.data = task.data or {}


def stuck_jobs(*, now=None):
    """The jobs beat must send again: SCHEDULED ones never picked up (a broker that was down at commit, a message
    lost) and STARTED ones whose lease expired (a worker killed while running them)."""
    from django.db.models import Q
    from viewflow.workflow.models import Task

    now = now or timezone.now()
    never_picked = Q(status=STATUS.SCHEDULED, created__lt=now - timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS))
    lease_expired = Q(status=STATUS.STARTED, scheduled__lt=now)
    return Task.objects.filter(never_picked | lease_expired, flow_task_type="JOB")


@shared_task(acks_late=True, name="workflows.nodes.flow_jobs_resend")
def flow_jobs_resend() -> int:
    """Send again the jobs that are stuck (`stuck_jobs`), each at most once per lease period: the send pushes its
    lease forward, so a job whose message waits behind a backlog is not sent again at every beat (each extra
    delivery would count an attempt). Harmless when a first message is still coming or the first worker still
    runs: a job is claimed under the flow lock and its function is idempotent. A STARTED job that was taken
    `PIF_JOB_ATTEMPTS` times without finishing becomes an incident instead (ERROR), for a supervisor to retry once
    the cause is known; a SCHEDULED one was never taken since it was (re)created, and is always sent again.
    Returns how many were sent again."""
    from django.db.models import Q

    now, sent = timezone.now(), 0
    # a SCHEDULED job sent again carries the time of its next send in `scheduled` (below)
    due = Q(scheduled__isnull=True) | Q(scheduled__lt=now)
    for task in stuck_jobs(now=now).filter(due).select_related("process"):
        flow_class = task.flow_task.flow_class
        if task.status == STATUS.STARTED and (task.data or {}).get("attempts", 0) >= settings.PIF_JOB_ATTEMPTS:
            with task_locked(flow_class, task.process_id, task.pk) as locked:
                activation = locked.flow_task.activation_class(locked)
                if locked.status == STATUS.STARTED and activation.error.can_proceed():
                    attempts = locked.data.get("attempts")
                    try:  # viewflow records the traceback of a raised exception
                        raise JobStuck(f"started {attempts} times without finishing: its workers died")
                    except JobStuck as stuck:
                        activation.error(stuck)
            continue
        # The lease moves forward with the send, only if nobody changed the job meanwhile (a worker claiming it
        # sets its own lease): one send per lease period.
        until = now + timedelta(seconds=settings.PIF_JOB_LEASE_SECONDS)
        moved = (
            type(task)
            ._default_manager.filter(pk=task.pk, status=task.status, scheduled=task.scheduled)
            .update(scheduled=until)
        )
        if moved:
            _enqueue(task.flow_task.activation_class(task).ref(), task.external_task_id)
            sent += 1
    return sent


class JobStuck(RuntimeError):
    """A job whose workers kept dying while they ran it."""
