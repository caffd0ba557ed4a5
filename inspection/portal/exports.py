"""The exporter's pages: its applications for phytosanitary certificates, one application with its timeline
and certificates, and a new application (one line of goods; the API takes more). Staff see every
application; another company's is a 404."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inspection.api.exports import certificate_links
from inspection.errors import DomainError, DomainInvalid
from inspection.models import AuditEvent, ExportStatus, PhytosanitaryCertificate, TransportMode
from inspection.ports import export_step
from inspection.roles import Role, is_staff_user, user_roles
from inspection.selectors import destination_requirements, export_applications_visible_to
from inspection.services.export_decisions import export_decision_record
from inspection.services.exports import export_application_create, export_check_record
from inspection.services.hub import hub_prefetch
from inspection.services.phyto import phyto_certificate_replace, phyto_certificate_withdraw
from inspection.timeline import export_timeline


def _may_see_exports(user) -> bool:
    return Role.EXPORTER in user_roles(user) or is_staff_user(user)


@login_required
def export_list(request):
    if not _may_see_exports(request.user):
        raise Http404
    qs = export_applications_visible_to(request.user).prefetch_related(
        "certificates", hub_prefetch("certificates__hub_deliveries")
    )
    if request.GET.get("status") in ExportStatus.values:  # the post's work: ?status=submitted, ?status=checking
        qs = qs.filter(status=request.GET["status"])
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    rows = [{"a": a, "certificates": [certificate_links(c) for c in a.certificates.all()]} for a in page]
    return render(
        request,
        "portal/export_list.html",
        {"page": page, "rows": rows, "can_create": Role.EXPORTER in user_roles(request.user)},
    )


@login_required
def export_detail(request, application):
    found = get_object_or_404(
        export_applications_visible_to(request.user).prefetch_related("lines", "checks"), reference=application
    )
    events = AuditEvent.objects.filter(consignment=None, data__export=found.reference).order_by("seq")
    certificates = (
        PhytosanitaryCertificate.objects.filter(application=found)
        .order_by("issued_at", "pk")
        .prefetch_related(hub_prefetch())
    )
    roles = user_roles(request.user)
    done = {check.kind for check in found.checks.all()}
    # after documents that are not satisfactory, the officer refuses: nothing is inspected (the export flow)
    failed = any(check.result != "satisfactory" for check in found.checks.all())
    return render(
        request,
        "portal/export_detail.html",
        {
            "a": found,
            "requirements": destination_requirements(found),
            "checks": found.checks.all(),
            "next_check": next(
                (kind for kind in ("documentary", "inspection") if kind not in done),
                None,
            )
            if Role.INSPECTOR in roles
            and found.status in (ExportStatus.SUBMITTED, ExportStatus.CHECKING)
            and not failed
            else None,
            # until decided: an issue decided is a certificate being made by a worker
            "can_decide": Role.CERTIFYING_OFFICER in roles
            and found.status == ExportStatus.CHECKING
            and found.decided_by_id is None
            and (failed or done == {"documentary", "inspection"}),
            "can_amend": bool(roles & {Role.CERTIFYING_OFFICER, Role.SUPERVISOR})
            and found.status == ExportStatus.ISSUED,
            "timeline": export_timeline(events),
            "certificates": [certificate_links(c) for c in certificates],
        },
    )


class ExportApplicationForm(forms.Form):
    """The boxes of the certificate, one line of goods. Every rule is the service's (its errors come back on
    these fields, named after the API's paths)."""

    consignee_name = forms.CharField(label=_("consignee name"), required=False)
    consignee_address = forms.CharField(label=_("consignee address"), required=False, widget=forms.Textarea)
    consignee_country = forms.CharField(label=_("consignee country"), required=False, max_length=2)
    destination_country = forms.CharField(label=_("country of destination"), required=False, max_length=2)
    destination_point_of_entry = forms.CharField(label=_("declared point of entry"), required=False)
    destination_unlocode = forms.CharField(label=_("UN/LOCODE of the point of entry"), required=False)
    conveyance_mode = forms.ChoiceField(
        label=_("means of conveyance"), required=False, choices=[("", "–"), *TransportMode.choices]
    )
    conveyance_id = forms.CharField(label=_("vessel, flight or vehicle"), required=False)
    distinguishing_marks = forms.CharField(label=_("distinguishing marks"), required=False)
    additional_declarations = forms.CharField(label=_("additional declarations"), required=False, widget=forms.Textarea)
    description = forms.CharField(label=_("description"), required=False)
    hs_code = forms.CharField(label=_("HS code"), required=False)
    botanical_name = forms.CharField(label=_("botanical name"), required=False)
    eppo_code = forms.CharField(label=_("EPPO code"), required=False)
    net_weight_kg = forms.CharField(label=_("quantity (net weight, kg)"), required=False)
    packages = forms.CharField(label=_("number of packages"), required=False)
    package_type = forms.CharField(label=_("package type"), required=False)
    place_of_production = forms.CharField(label=_("place of production"), required=False)

    def application(self) -> dict:
        d = self.cleaned_data
        packages = d["packages"].strip()
        return {
            "consignee": {
                "name": d["consignee_name"],
                "address": d["consignee_address"],
                "country": d["consignee_country"],
            },
            "destination": {
                "country": d["destination_country"],
                "point_of_entry": d["destination_point_of_entry"],
                "unlocode": d["destination_unlocode"],
            },
            "conveyance": {"mode": d["conveyance_mode"], "id": d["conveyance_id"]},
            "distinguishing_marks": d["distinguishing_marks"],
            "additional_declarations": d["additional_declarations"],
            "lines": [
                {
                    "description": d["description"],
                    "hs_code": d["hs_code"],
                    "botanical_name": d["botanical_name"],
                    "eppo_code": d["eppo_code"],
                    "net_weight_kg": d["net_weight_kg"],
                    "packages": int(packages) if packages.isdigit() else packages,
                    "package_type": d["package_type"],
                    "place_of_production": d["place_of_production"],
                }
            ],
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for path, messages_ in errors.items():
            name = path.replace("lines.0.", "").replace(".", "_")
            for message in messages_:
                self.add_error(name if name in self.fields else None, message)


@login_required
def export_new(request):
    if Role.EXPORTER not in user_roles(request.user):
        raise Http404
    form = ExportApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = export_application_create(
                actor=request.user, application=form.application(), draft="submit" not in request.POST
            )
        except DomainInvalid as exc:
            form.add_service_errors(exc.errors)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Application %(reference)s saved.") % {"reference": created.reference})
            return redirect("portal:export-detail", application=created.reference)
    return render(request, "portal/export_form.html", {"form": form})


# --- the post's steps, from the application's page (the API's `checks`, `issue`, `refuse`, ...): the checks and
# the decision are steps of the export flow (`inspection.ports.export_step`), replacement and withdrawal not ------


def _staff_step(request, application: str, run) -> HttpResponseRedirect:
    """Run one service on a visible application; a refusal is shown as a message on its page."""
    found = get_object_or_404(export_applications_visible_to(request.user), reference=application)
    try:
        run(found)
    except DomainInvalid as exc:
        for errors in exc.errors.values():
            for error in errors:
                messages.error(request, error)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Recorded for %(reference)s.") % {"reference": found.reference})
    return redirect("portal:export-detail", application=found.reference)


def _flow_step(request, application: str, step: str, service) -> HttpResponseRedirect:
    """One step of the application's export flow (its open task claimed and completed), `service(found)` being
    the step's service call."""
    return _staff_step(
        request,
        application,
        lambda found: export_step(user=request.user, application=found, step=step, record=lambda: service(found)),
    )


@login_required
@require_POST
def export_check_view(request, application):
    kind = request.POST.get("kind", "")
    if kind not in ("documentary", "inspection"):
        raise Http404
    return _flow_step(
        request,
        application,
        kind,
        lambda found: export_check_record(
            actor=request.user,
            application=found,
            kind=kind,
            result=request.POST.get("result", ""),
            notes=request.POST.get("notes", "")[:2000],
            requirements_met=request.POST.getlist("requirements_met"),
        ),
    )


@login_required
@require_POST
def export_issue_view(request, application):
    return _flow_step(
        request,
        application,
        "decision",
        lambda found: export_decision_record(actor=request.user, application=found, issue=True),
    )


@login_required
@require_POST
def export_refuse_view(request, application):
    reason = request.POST.get("reason", "")[:2000]
    return _flow_step(
        request,
        application,
        "decision",
        lambda found: export_decision_record(actor=request.user, application=found, issue=False, reason=reason),
    )


@login_required
@require_POST
def export_withdraw_view(request, application):
    reason = request.POST.get("reason", "")[:2000]
    return _staff_step(
        request,
        application,
        lambda found: phyto_certificate_withdraw(actor=request.user, application=found, reason=reason),
    )


@login_required
@require_POST
def export_replace_view(request, application):
    reason = request.POST.get("reason", "")[:2000]
    return _staff_step(
        request,
        application,
        lambda found: phyto_certificate_replace(actor=request.user, application=found, reason=reason),
    )
