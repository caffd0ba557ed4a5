"""A request id for every request (the client's `X-Request-ID` when it is a sane token, else a new one), sent
back in the answer, put on every log record, and carried into the Celery tasks the request queues (a message
header), so that one id follows a submit from the web to the worker that sends its notifications."""

import contextvars
import logging
import re
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
current = contextvars.ContextVar("request_id", default="")


def request_id_of(value: str | None) -> str:
    """The client's id when it is 1-64 letters, digits, dots, dashes or underscores; else a new one (a client
    cannot put a line break or a megabyte into our logs)."""
    return value if value and _SANE.match(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_of(request.headers.get(HEADER))
        token = current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record (empty outside a request or a task)."""

    def filter(self, record):
        record.request_id = current.get()
        return True


@before_task_publish.connect(dispatch_uid="pif-request-id-publish")
def _publish_with_request_id(headers=None, **kwargs):
    request_id = current.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@task_prerun.connect(dispatch_uid="pif-request-id-prerun")
def _task_with_request_id(task=None, **kwargs):
    request_id = getattr(task.request, "request_id", None) or (task.request.headers or {}).get("request_id")
    task.request._pif_request_token = current.set(request_id_of(request_id))


@task_postrun.connect(dispatch_uid="pif-request-id-postrun")
def _task_done(task=None, **kwargs):
    token = getattr(task.request, "_pif_request_token", None)
    if token is not None:
        current.reset(token)
