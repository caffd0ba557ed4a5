"""The certifying officer's split of a consignment into two parts, from the staff's task page: for each commodity
line, what goes to the second part (the rest stays in the first, `split_in_two`). Thin over `services/split.py`,
which the API also calls for any number of parts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from inspection.models import ConsignmentStatus
from inspection.roles import STEP_ROLES, Step, user_roles
from inspection.services.split import QUANTITIES, consignment_split, split_in_two

from .access import visible_consignment
from .refusals import refusal_shown


@login_required
def consignment_split_view(request, reference):
    consignment = visible_consignment(request, reference)
    if STEP_ROLES[Step.DECISION] not in user_roles(request.user):
        raise Http404
    lines = list(consignment.lines.order_by("pk"))
    if request.method == "POST":
        # what goes to the second part, per line (numbered from 1); a comma is a decimal point
        taken = {
            n: {field: request.POST.get(f"line_{n}_{field}", "").strip().replace(",", ".") for field in QUANTITIES}
            for n in range(1, len(lines) + 1)
        }
        with refusal_shown(request, where=str) as refused:
            parts = consignment_split(
                actor=request.user, consignment=consignment, parts=split_in_two(consignment, taken)
            )
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
