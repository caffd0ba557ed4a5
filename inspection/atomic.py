"""How a service is atomic. Every service that changes state runs in a transaction of its own, or, nested in
its caller's, in a savepoint: a rule that refuses the input (a `DomainError`) rolls back whatever the
service had written, and the caller may catch the error and go on (a form shows it, a test checks that
nothing was stored).

A workflow step is one transaction under the flow lock that claims the task, calls one service and routes the
flow on. There a refused input must undo the whole step anyway, so the savepoint (two statements) buys
nothing: inside `one_transaction()` services take none, and an error in one marks the whole transaction for
rollback. Django then refuses any further query in it, so a caller cannot go on by mistake and commit half a
step (the task views re-render the form after the lock is released; `workflows.views.StepRefused`)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import transaction

_ONE_TRANSACTION: ContextVar[bool] = ContextVar("one_transaction", default=False)


@contextmanager
def one_transaction() -> Iterator[None]:
    """Within the caller's atomic block, nested services take no savepoint (see the module docstring)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("one_transaction() needs an open atomic block")
    token = _ONE_TRANSACTION.set(True)
    try:
        yield
    finally:
        _ONE_TRANSACTION.reset(token)


def atomic_service(func: Callable) -> Callable:
    """`transaction.atomic` for a service: a transaction, or a savepoint in its caller's, or, inside
    `one_transaction()`, just the caller's transaction."""

    @wraps(func)
    def run(*args, **kwargs):
        with transaction.atomic(savepoint=not _ONE_TRANSACTION.get()):
            return func(*args, **kwargs)

    return run
