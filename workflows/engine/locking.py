"""The flow lock, with the task read under it.

viewflow's `select_for_update_lock` locks the process row only. A step then reads its task, and on
PostgreSQL a statement that waited for the lock re-reads only the rows it locks: the task would come back
as it was when the statement began, not as the lock's previous holder committed it, and two inspectors
could both claim it (a PostgreSQL test in tests/integration covers it). So the task row is locked with its
process, in the statement that takes the lock."""

import random
import time
from contextlib import contextmanager

from django.db import DatabaseError, transaction
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.lock import SelectForUpdateLock, lock_scope


class TaskReadingLock:
    """The flow's lock, taken while reading one task with its process: with viewflow's
    `select_for_update_lock` (same attempts, wait and error), the task is read joined to its process
    `FOR UPDATE OF` both. With viewflow's `nowait` the statement never waits on the process while holding
    the task row. Any other `lock_impl` is taken as it is, and the task read under it."""

    def __init__(self, task_pk):
        self.task_pk = task_pk
        self.task = None

    def read(self, flow_class, process_pk, select_for_update=None):
        tasks = flow_class.task_class._default_manager.select_related("process")
        if select_for_update is not None:
            tasks = tasks.select_for_update(nowait=select_for_update.nowait, of=("self", "process"), no_key=True)
        return tasks.get(pk=self.task_pk, process_id=process_pk)

    @contextmanager
    def __call__(self, flow_class, process_pk):
        impl = flow_class.lock_impl
        if not isinstance(impl, SelectForUpdateLock):
            with impl(flow_class, process_pk):
                self.task = self.read(flow_class, process_pk)
                yield
            return
        for attempt in range(impl.attempts):  # as viewflow's SelectForUpdateLock.__call__
            with transaction.atomic():
                try:
                    self.task = self.read(flow_class, process_pk, select_for_update=impl)
                except DatabaseError:
                    if attempt == impl.attempts - 1:
                        raise FlowLockFailed(f"Lock failed for {flow_class}") from None
                    time.sleep(((attempt + 1) * random.random() + 2**attempt) / 2.5)  # noqa: S311
                else:
                    yield
                    return


@contextmanager
def task_locked(flow_class, process_pk, task_pk):
    """Hold the flow lock of the process (as `flow_class.lock(process_pk)`, callbacks deferred to its
    release included) and give its task `task_pk`, read with its process under the lock. Raises the task
    class's `DoesNotExist` when the process has no such task."""
    locking = TaskReadingLock(task_pk)
    with lock_scope(locking, flow_class, process_pk):
        yield locking.task
