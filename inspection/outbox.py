"""The outbox: every side effect of a change that leaves the database (an email, a webhook POST, a flow job) is a
row written in the change's transaction, and only handed to the broker after commit, by `task_send`.

`task_send` never raises: once the transaction has committed, the change has happened, and a broker that is down
must not turn the answer into an error (nor skip the other on-commit hooks, as an exception there does). The row
stays pending, and beat sends it again (`deliveries_resend` for emails and webhooks, `flow_jobs_resend` for
jobs): a write answers success and its effects follow, or fails with nothing stored."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def task_send(task, *args, task_id: str | None = None) -> bool:
    """Hand `task(*args)` to the broker; False, logged, when it cannot be (its row is left for beat)."""
    try:
        task.apply_async(args=args, task_id=task_id)
    except Exception:  # the broker down or unreachable: kombu's OperationalError, a socket error, a timeout
        logger.exception("could not send %s%r to the broker; beat will send it again", task.name, args)
        return False
    return True


def task_send_on_commit(task, *args, task_id: str | None = None) -> None:
    """`task_send` once the current transaction commits (at once outside one); nothing if it rolls back."""
    transaction.on_commit(lambda: task_send(task, *args, task_id=task_id))


def after_commit(func, *args, what: str) -> None:
    """Run `func(*args)` after commit (a file deleted, an email sent) without ever raising into the request: a
    failure is logged, and what it leaves behind is cleaned up by beat (`sweep_files`, the sweeper)."""

    def run():
        try:
            func(*args)
        except Exception:
            logger.exception("after commit: could not %s", what)

    transaction.on_commit(run)
