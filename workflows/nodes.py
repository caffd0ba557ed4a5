"""Nodes of our own, on viewflow's open-source building blocks (never patched, only subclassed):

- `HumanTask`: viewflow's `View`, which a step driven from code can claim and start in one write, and
  whose deadline timer is cancelled in one UPDATE;
- `Switch` and `If`: viewflow's exclusive gateways, whose task row is written once, already done;
- `ForEach`: a parallel split that creates one task per item of a data source (one lab wait per sample);
- `CeleryJob`: a job node run by a Celery worker after commit (viewflow's own is in the PRO edition);
- `End`: viewflow's `End`, whose task row is written once, already done.

A human task's or the job's routing writes the rows it creates, and their `previous` links, in two
statements at its end (`task_writes_batched`), and a step reads its task as it takes the flow lock
(`task_locked`). Each saving is counted in bench/README.md and docs/decisions/0006 and 0007."""

import logging
import random
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from functools import update_wrapper

from celery import shared_task
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.http import Http404
from django.urls import path
from django.utils.timezone import now
from django.utils.translation import gettext
from viewflow import this
from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowLockFailed, FlowRuntimeError
from viewflow.workflow.fields import import_flow_by_ref
from viewflow.workflow.flow import mixins, views
from viewflow.workflow.flow.nodes import Split, TimerBoundary
from viewflow.workflow.lock import SelectForUpdateLock, lock_scope
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.job import AbstractJob, AbstractJobActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, task_finished, task_started
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from inspection.atomic import one_transaction

from .receipts import receipt_replay

logger = logging.getLogger(__name__)


class _TaskReadingLock:
    """The flow's lock, taken while reading one task with its process: with viewflow's
    `select_for_update_lock` (same attempts, wait and error), the task is read joined to its process
    `FOR UPDATE OF` both, one statement instead of the lock's own and then the read.

    The task row is locked too so that the task read is the one the lock's previous holder committed: a
    statement that waits for a lock gets the newest version of the rows it locks only, and would return the
    task as it was when the statement began (two inspectors would both claim it; tested on PostgreSQL). With
    viewflow's `nowait` the statement never waits on the process while holding the task row."""

    def __init__(self, task_pk):
        self.task_pk = task_pk
        self.task = None

    def _read(self, flow_class, process_pk, select_for_update=None):
        tasks = flow_class.task_class._default_manager.select_related("process")
        if select_for_update is not None:
            tasks = tasks.select_for_update(nowait=select_for_update.nowait, of=("self", "process"))
        return tasks.get(pk=self.task_pk, process_id=process_pk)

    @contextmanager
    def __call__(self, flow_class, process_pk):
        impl = flow_class.lock_impl
        if not isinstance(impl, SelectForUpdateLock):
            with impl(flow_class, process_pk):
                self.task = self._read(flow_class, process_pk)
                yield
            return
        for attempt in range(impl.attempts):  # as viewflow's SelectForUpdateLock.__call__
            with transaction.atomic():
                try:
                    self.task = self._read(flow_class, process_pk, select_for_update=impl)
                except DatabaseError:
                    if attempt == impl.attempts - 1:
                        raise FlowLockFailed(f"Lock failed for {flow_class}") from None
                    time.sleep(((attempt + 1) * random.random() + 2**attempt) / 2.5)  # noqa: S311
                else:
                    yield
                    return


@contextmanager
def task_locked(flow_class, process_pk, task_pk):
    """Hold the flow lock of the process (as `flow_class.lock(process_pk)`) and give its task `task_pk`, read
    with its process under the lock. Raises the task class's `DoesNotExist` when the process has no such
    task."""
    locking = _TaskReadingLock(task_pk)
    with lock_scope(locking, flow_class, process_pk):
        yield locking.task


class _TaskWrites:
    """The task rows and `previous` links that one routing creates (a task done, its gateways, the next
    task), written at its end in two statements, bulk INSERTs that return the ids on PostgreSQL and SQLite
    (3.35 or later), instead of two statements per task. A node whose create needs the row of the task
    before it (a viewflow node, a task with a deadline timer or an `onCreate`) has the pending rows written
    first (`write_pending`)."""

    def __init__(self):
        self.tasks, self.links = [], []

    def flush(self):
        tasks, links = self.tasks, self.links
        self.tasks, self.links = [], []
        if tasks:
            for task in tasks:
                task.flow_task_type = task.flow_task_type or task.flow_task.task_type  # as Task.save does
            type(tasks[0])._default_manager.bulk_create(tasks)
        if links:
            through = type(links[0][0]).previous.through
            through._default_manager.bulk_create(
                through(from_task_id=task.pk, to_task_id=previous.pk) for task, previous in links
            )


_PENDING: ContextVar[_TaskWrites | None] = ContextVar("pending_task_writes", default=None)


@contextmanager
def task_writes_batched():
    """Within it, the nodes that can (`writes_batched`) leave their rows and links to one write at the end."""
    if _PENDING.get() is not None:  # the outermost batch writes
        yield
        return
    writes = _TaskWrites()
    token = _PENDING.set(writes)
    try:
        yield
        writes.flush()
    finally:
        _PENDING.reset(token)


def write_pending(before_node=None):
    """Write the pending rows now, unless `before_node` (about to be created) can wait for them."""
    writes = _PENDING.get()
    if writes is not None and not getattr(before_node, "writes_batched", False):
        writes.flush()


class UnsavedTaskMixin:
    """An activation whose task row is not written yet is equal only to itself (a model instance without a
    primary key cannot be hashed)."""

    def __eq__(self, other):
        if self.task.pk is None:
            return self is other
        return super().__eq__(other)

    def __hash__(self):
        return id(self) if self.task.pk is None else super().__hash__()


class HumanTaskActivation(UnsavedTaskMixin, ViewActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        """viewflow's, with the row and its link left to the routing's one write (`task_writes_batched`)."""
        writes = _PENDING.get()
        if writes is None or not flow_task.writes_batched:
            write_pending()
            return super().create(flow_task, prev_activation, token, data=data, seed=seed)
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner, task.status = owner, STATUS.ASSIGNED
        writes.tasks.append(task)
        writes.links.append((task, prev_activation.task))
        return activation

    @Activation.status.super()
    def activate_next(self):
        with task_writes_batched():
            super().activate_next.original()

    @Activation.status.transition(
        source=STATUS.NEW,
        target=STATUS.STARTED,
        permission=lambda activation, user: activation.flow_task.can_assign(user, activation.task),
    )
    def claim(self, user):
        """Assign and start at once, for a step driven from code that completes in the same transaction:
        the completing save writes the owner too (viewflow's `assign` saves the task on its own)."""
        self.task.owner = user
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.task.started = now()


class DeadlineTimer(TimerBoundary):
    """A timer boundary cancelled in one UPDATE when its host task finishes (viewflow reads each armed
    timer, then its process, then saves it)."""

    def _on_host_finished(self, **signal_kwargs):
        host_task = signal_kwargs["task"]
        if host_task.flow_task != self._attached_to:
            return
        self.flow_class.task_class._default_manager.filter(
            flow_task=self,
            process_id=host_task.process_id,
            previous=host_task,
            status__in=[STATUS.NEW, STATUS.SCHEDULED],  # the sources of a timer's `cancel`
        ).update(status=STATUS.CANCELED, finished=now())


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


def _task_view(node, origin_view, *, permission=None, start=False):
    """viewflow's task view wrappers (`flow.utils.wrap_task_view` and `wrap_view`) with the same checks,
    minus three reads and two savepoints: a POST reads the task with its process as it takes the flow lock
    (`task_locked`), and runs in the lock's transaction only (viewflow nests a second `atomic` in it), where
    services take no savepoint of their own (`inspection.atomic.one_transaction`). A task form (`start`) sent
    again after it was accepted is answered as the first was (`workflows.receipts`)."""

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


class HumanTask(flow.View):
    """A user task (viewflow's `View`): see `HumanTaskActivation.claim`, `DeadlineTimer` and `_task_view`."""

    activation_class = HumanTaskActivation

    @property
    def view_path(self):
        view = _task_view(self, self.view, permission=self.can_execute, start=True)
        return path(f"<int:process_pk>/{self.name}/<int:task_pk>/execute/", view, name="execute")

    @property
    def assign_path(self):
        view = _task_view(self, self.assign_view, permission=self.can_assign)
        return path(f"<int:process_pk>/{self.name}/<int:task_pk>/assign/", view, name="assign")

    @property
    def writes_batched(self):
        """A deadline timer and an `onCreate` need the task's row at once."""
        return not self._boundary_events and self._on_create is None

    def can_execute(self, user, task):
        """Only the owner (compared by id: viewflow loads the owner's row to compare)."""
        return task.owner_id is not None and user is not None and task.owner_id == user.pk

    def OnTimeout(self, delay, then, interrupting=True, title=None):
        boundary = DeadlineTimer(None, delay=delay, interrupting=interrupting).Next(then)
        if title is not None:
            boundary.Annotation(title=title)
        self._boundary_specs.append(("timeout", boundary))
        return self


class WrittenOnceMixin(UnsavedTaskMixin):
    """For a node that finishes (or is scheduled) as soon as it is reached: its task row is inserted once,
    in its final state, instead of inserted NEW and then updated; within a routing that batches
    (`task_writes_batched`), together with the other rows it creates. Until then `previous_task` is the task
    that reached it (`task.previous` needs the row)."""

    previous_task = None
    row_needed_at_once = False  # a split's tokens carry its id

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        activation.previous_task = prev_activation.task
        return activation

    def write_task(self):
        writes = _PENDING.get()
        if self.task.pk is not None:  # revived, or written first to record an error
            self.task.save()
        elif writes is None:
            self.task.save()
            self.task.previous.add(self.previous_task)
        elif self.row_needed_at_once:
            self.task.save()
            writes.links.append((self.task, self.previous_task))
        else:
            writes.tasks.append(self.task)
            writes.links.append((self.task, self.previous_task))

    def write_task_now(self):
        """Outside the batch: the row is needed at once (to record an error on it)."""
        write_pending()
        unwritten = self.task.pk is None
        self.task.save()
        if unwritten:
            self.task.previous.add(self.previous_task)

    def complete_written_once(self):
        self.task.finished = now()
        self.write_task()
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class GatewayWrittenOnceMixin(WrittenOnceMixin):
    """An exclusive gateway, written once. Its conditions only read, so they need no savepoint where an
    error propagates (it rolls back the caller's transaction anyway; our job routes on that way, see
    `CeleryJobActivation.execute`). In a context that records errors on the task instead (a timer routing
    on), they run in a savepoint, and a failure is recorded on the task as viewflow's gateways do."""

    def activate_written_once(self):
        if context.propagate_exception:
            self.decide()
            return
        try:
            with transaction.atomic():
                self.decide()
        except Exception:
            self.write_task_now()
            with self.exception_guard():  # marks the task ERROR and keeps the traceback
                raise


class SwitchWrittenOnceActivation(GatewayWrittenOnceMixin, SwitchActivation):
    @Activation.status.super()
    def activate(self):
        self.activate_written_once()

    @Activation.status.super()
    def complete(self):
        self.complete_written_once()

    @Activation.status.super()
    def create_next(self):
        write_pending(before_node=self.next_task)
        yield from super().create_next.original()

    def decide(self):
        for node, cond in self.flow_task._branches:
            if cond is None or cond(self):
                self.next_task = node
                return
        raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class IfWrittenOnceActivation(GatewayWrittenOnceMixin, IfActivation):
    @Activation.status.super()
    def activate(self):
        self.activate_written_once()

    @Activation.status.super()
    def complete(self):
        self.complete_written_once()

    @Activation.status.super()
    def create_next(self):
        flow_task = self.flow_task
        write_pending(before_node=flow_task._on_true if self._condition_result else flow_task._on_false)
        yield from super().create_next.original()

    def decide(self):
        self._condition_result = self.flow_task._condition(self)


class Switch(flow.Switch):
    """viewflow's `Switch`, written once (`GatewayWrittenOnceMixin`)."""

    activation_class = SwitchWrittenOnceActivation
    writes_batched = True


class If(flow.If):
    """viewflow's `If`, written once (`GatewayWrittenOnceMixin`)."""

    activation_class = IfWrittenOnceActivation
    writes_batched = True


class EndWrittenOnceActivation(WrittenOnceMixin, EndActivation):
    @Activation.status.super()
    def activate(self):
        """viewflow's `EndActivation.activate`: the process is done when no other task is open (counting the
        rows still pending in the routing's batch). Its savepoint only where a failure is recorded on the task
        (a job or a timer routing on), as for the gateways."""
        if context.propagate_exception:
            self.finish_process()
            return
        try:
            with transaction.atomic():
                self.finish_process()
        except Exception:
            self.write_task_now()
            with self.exception_guard():
                raise

    def finish_process(self):
        self.task.started = now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        writes = _PENDING.get()
        still_open = sum(1 for task in writes.tasks if task.finished is None) if writes is not None else 0
        tasks = self.flow_class.task_class._default_manager.filter(process=self.process, finished__isnull=True)
        if self.task.pk is not None:
            tasks = tasks.exclude(pk=self.task.pk)
        if still_open == 0 and not tasks.exists():
            self.process.status = STATUS.DONE
            self.process.finished = now()
            self.process.save()
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)

    @Activation.status.super()
    def complete(self):
        self.complete_written_once()


class End(flow.End):
    """viewflow's `End`, written once (`WrittenOnceMixin`): its row is inserted done, with the other rows of
    the routing."""

    activation_class = EndWrittenOnceActivation
    writes_batched = True


class ForEachActivation(WrittenOnceMixin, SplitActivation):
    row_needed_at_once = True

    @Activation.status.super()
    def complete(self):
        self.complete_written_once()

    @Activation.status.super()
    def create_next(self):
        """viewflow's `SplitActivation.create_next`, with the pending rows written only before a node that
        needs them."""
        token_source = Token.split_token_source(self.task.token, self.task.pk)
        joins_last = sorted(self.next_tasks, key=lambda item: isinstance(item[0], flow.Join))  # as viewflow
        for node, data in joins_last:
            write_pending(before_node=node)
            yield node._create(prev_activation=self, token=next(token_source), data=data)

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
    writes_batched = True

    def Each(self, node, data_source):
        self._activate_next.append((node, None, data_source))
        return self


class CeleryJobActivation(WrittenOnceMixin, AbstractJobActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = super().create(flow_task, prev_activation, token, data=data, seed=seed)
        activation.task.external_task_id = str(uuid.uuid4())  # as viewflow's job does
        return activation

    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.write_task()  # inserted SCHEDULED, maybe with the other rows of the routing
        task_id = self.task.external_task_id
        transaction.on_commit(lambda: _enqueue(self.ref(), task_id))  # the row has its id by then

    @Activation.status.super()
    def activate_next(self):
        with task_writes_batched():
            super().activate_next.original()

    @Activation.status.super()
    def execute(self):
        """viewflow's job `execute`, routing on in the caller's transaction: a gateway or the end that fails
        undoes the job's completion with it, and `flow_job_run` retries the job, which ends as an incident
        for the supervisors (with a retry button). viewflow records such a failure on the gateway's task
        instead, in a savepoint, where no list shows it and nothing can retry it."""
        self.complete()
        self.activate_next()

    @Activation.status.transition(source=[STATUS.NEW, STATUS.SCHEDULED], target=STATUS.CANCELED)
    def cancel(self):
        self.task.save()


class CeleryJob(mixins.NodeDetailMixin, mixins.NodeCancelMixin, AbstractJob):
    """Runs `func(activation)` in a Celery worker once the transaction that reached it commits. Safe to
    deliver twice: the task is claimed under the flow lock, and a finished one is skipped."""

    activation_class = CeleryJobActivation
    writes_batched = True
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
        task.flow_task._func(activation)
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
