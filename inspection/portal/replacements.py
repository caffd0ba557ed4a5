"""The portal's replacement CHED: the importer (or a certifying officer) corrects Part I of a CHED under checks, and
the corrected Part I becomes a new CHED that replaces it (`services/replacements.py`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from inspection.selectors import consignment_part_one
from inspection.services.replacements import consignment_replace, replacement_allowed

from .access import visible_consignment
from .forms import PartOneForms
from .views import _form_context, _save


@login_required
def consignment_replace_view(request, reference):
    consignment = visible_consignment(request, reference)
    if not replacement_allowed(request.user, consignment):
        raise Http404
    code = consignment.ched_type.code
    if request.method == "POST":
        forms = PartOneForms(request.POST, fixed_ched_type=code)
        part = forms.part_one() if forms.is_valid() else None  # for the checklist, before errors are attached
        new = _save(
            request,
            forms,
            lambda typed: consignment_replace(actor=request.user, consignment=consignment, part_one=typed),
        )
        if new:
            messages.success(
                request, _("%(new)s replaces %(old)s.") % {"new": new.reference, "old": consignment.reference}
            )
            return redirect(new)
    else:
        part = consignment_part_one(consignment)
        forms = PartOneForms(part=part, fixed_ched_type=code)
    context = _form_context(forms, code, part)
    context.update(consignment=consignment, replacing=True, lines_form=None)
    return render(request, "portal/consignment_form.html", context)
