"""Domain errors as HTTP answers: a clear message, never a 500."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler
from viewflow.workflow.lock import FlowLockFailed

from inspection.errors import DomainError, DomainInvalid, NotFound, NotPermitted, TransitionNotAllowed
from inspection.services.lab import UnknownSample


def nest_errors(errors: dict[str, list[str]]) -> dict:
    """`{"commodities.1.cn_code": [m]}` → `{"commodities": {"1": {"cn_code": [m]}}}`, as DRF 3.18 nests its own
    errors for lists. A message on a list and on one of its items at once lands under `non_field_errors`."""
    nested: dict = {}
    for path, messages in errors.items():
        keys = path.split(".") if path else ["non_field_errors"]
        node = nested
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if isinstance(child, list):
                child = node[key] = {"non_field_errors": child}
            node = child
        if isinstance(node.get(keys[-1]), dict):
            node[keys[-1]].setdefault("non_field_errors", []).extend(messages)
        else:
            node.setdefault(keys[-1], []).extend(messages)
    return nested


def api_exception_handler(exc, context):
    if isinstance(exc, DomainInvalid):
        return Response(nest_errors(exc.errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, NotPermitted):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, TransitionNotAllowed):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotFound):
        return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, UnknownSample):
        return Response({"sample": [exc.message]}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, FlowLockFailed):
        return Response({"detail": "This item is busy; try again in a moment."}, status=status.HTTP_409_CONFLICT)
    return exception_handler(exc, context)
