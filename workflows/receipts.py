"""Idempotent task forms. Each task form carries a key (a UUID made when the form is drawn, and kept by
the tablet with its draft). The submit that completes the task stores the key on the task row, in the
write that marks it done. The same form sent again, because the tablet never got the answer, finds its
task done under that key: it is sent on as the first submit was, and is not applied a second time. The
check costs no statement: the task is read anyway."""

import uuid

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

FIELD = "idempotency_key"


def _key(request) -> str | None:
    try:
        return str(uuid.UUID(request.POST.get(FIELD, "")))
    except ValueError:
        return None


def receipt_replay(request, task):
    """The answer to a form already accepted for `task` under this request's key, or None. Called under
    the flow lock (with `request.activation` set), so a second copy sent at once waits for the first and
    then finds the task done."""
    key = _key(request)
    if key is None or task.status != STATUS.DONE or (task.data or {}).get(FIELD) != key:
        return None
    if task.owner_id != request.user.pk:
        return None  # someone else's form: refused as any post to a finished task
    messages.info(request, _("This form had already been recorded; it was not applied a second time."))
    return HttpResponseRedirect(task_success_url(request))


def task_success_url(request) -> str:
    """Where a completed task form leads: on to the user's next task of the process with "Execute and
    continue" (viewflow's rule), else back to the day at the post."""
    if "_continue" in request.POST:
        return request.resolver_match.viewset.get_success_url(request)
    return reverse("today")


def receipt_keep(request, task) -> None:
    """Put this request's key on `task`, before the save that completes it."""
    key = _key(request)
    if key is not None:
        task.data = {**(task.data or {}), FIELD: key}
