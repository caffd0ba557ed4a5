"""The certifying officer's split of a consignment into two parts, from the staff's task page: for each commodity
line, what goes to the second part (the rest stays in the first). Thin over `services/split.py`, which the API
also calls for any number of parts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from inspection.models import ConsignmentStatus
from inspection.roles import STEP_ROLES, Step, user_roles
from inspection.services.split import QUANTITIES, consignment_split

from .access import visible_consignment
from .refusals import refusal_shown


def _number(text: str):
    """A typed quantity, or None when left empty; anything else than a number is refused by the service."""
    text = (text or "").strip().replace(",", ".")
    return text or None


def two_parts(lines, post) -> list[dict]:
    """The service's `parts` from the form: the second part takes what is typed for each line, the first keeps
    the rest; a line typed whole goes to the second part only."""
    first, second = [], []
    for n, line in enumerate(lines, start=1):
        taken = {field: _number(post.get(f"line_{n}_{field}")) for field in QUANTITIES}
        taken = {field: value for field, value in taken.items() if value is not None}
        if not taken:
            first.append({"line": n})
            continue
        declared = {field: getattr(line, field) for field in QUANTITIES if getattr(line, field) is not None}
        try:
            whole = all(float(taken.get(field, -1)) == float(value) for field, value in declared.items())
            kept = {field: value - type(value)(taken[field]) for field, value in declared.items() if field in taken}
        except (TypeError, ValueError, ArithmeticError):
            whole, kept = False, {}
        second.append({"line": n, **taken})
        if not whole:
            first.append({"line": n, **kept})
    return [{"lines": first}, {"lines": second}]


@login_required
def consignment_split_view(request, reference):
    consignment = visible_consignment(request, reference)
    if STEP_ROLES[Step.DECISION] not in user_roles(request.user):
        raise Http404
    lines = list(consignment.lines.order_by("pk"))
    if request.method == "POST":
        with refusal_shown(request, where=lambda field: f"{field}: ") as refused:
            parts = consignment_split(actor=request.user, consignment=consignment, parts=two_parts(lines, request.POST))
        if not refused:
            messages.success(
                request,
                _("%(ref)s split into %(parts)s.")
                % {"ref": consignment.reference, "parts": ", ".join(p.reference for p in parts)},
            )
            return redirect(consignment)
    return render(
        request,
        "portal/consignment_split.html",
        {
            "consignment": consignment,
            "lines": lines,
            "open": consignment.status == ConsignmentStatus.AWAITING_DECISION,
        },
    )
