"""`Idempotency-Key` on the API's writes: a client that sends a write again with the same key (a retry after a
lost answer, a killed connection) gets the first answer again and nothing is written twice; the same key with
another request is a 422. The key is the client's (1 to 100 characters), kept per user."""

import hashlib
import json
import re
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from inspection.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = IdempotentRequest._meta.get_field("key").max_length
# Printable ASCII, no space at either end (a header's value loses them on the way), as the schema says.
KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{KEY_MAX_LENGTH - 2}}}[!-~])?$"

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER,
    description=(
        "Optional, 1 to 100 printable ASCII characters of your choice (a UUID). Sent again with the same request, "
        "the first answer comes back (with `Idempotent-Replayed: true`) and nothing is written twice; with "
        "another request, 422."
    ),
)


class _Taken(Exception):  # noqa: N818 (control flow: another request holds the key)
    pass


def _fingerprint(request) -> str:
    """The request's method, path and content: a multipart form by its fields and files' contents (its body
    may be larger than Django keeps in memory), any other body as it came."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.content_type.startswith("multipart/form-data"):
        for name in sorted(request.data):
            for value in request.data.getlist(name):
                digest.update(f"{name}=".encode())
                if hasattr(value, "chunks"):
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(str(value).encode())
                digest.update(b"\n")
    else:
        digest.update(request.body)  # read before the parsers, which then read it from memory
    return digest.hexdigest()


def _replay(earlier: IdempotentRequest, fingerprint: str) -> Response:
    if earlier.fingerprint != fingerprint:
        return Response(
            {"detail": _("This Idempotency-Key was used for another request: use a new key for a new request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(earlier.body, status=earlier.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(view_method):
    """For a DRF view method that writes: its successful answer is kept with the key, in the transaction of the
    write, so a write and its record commit or roll back together. Two requests with one key at once: the second
    waits on the key's unique index, rolls its own write back and answers the first's answer."""

    @wraps(view_method)
    def run(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        key = key.strip()
        if not re.fullmatch(KEY_PATTERN, key):
            message = _("Give 1 to %(max)d printable ASCII characters.") % {"max": KEY_MAX_LENGTH}
            raise ValidationError({HEADER: [message]})
        fingerprint = _fingerprint(request)
        earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
        if earlier is not None:
            return _replay(earlier, fingerprint)
        try:
            with transaction.atomic():
                response = view_method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    try:
                        with transaction.atomic():
                            IdempotentRequest.objects.create(
                                user=request.user,
                                key=key,
                                fingerprint=fingerprint,
                                status_code=response.status_code,
                                body=json.loads(JSONRenderer().render(response.data) or b"null"),
                            )
                    except IntegrityError:
                        raise _Taken from None  # rolls our write back
        except _Taken:
            return _replay(IdempotentRequest.objects.get(user=request.user, key=key), fingerprint)
        return response

    return run
