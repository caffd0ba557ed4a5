"""The supervisors' page of the capacity simulator: edit a scenario, run it on a worker with a progress bar,
read the report. Supervisors and administrators only (`supervisor_required`)."""

import json
import mimetypes

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspection.errors import DomainInvalid
from inspection.models.storage import private_storage
from inspection.supervision.views import supervisor_required

from ..models import SimulationRun
from .runs import simulation_request, simulation_resend, simulation_stalled

EXAMPLE = {
    "days": 365,
    "arrivals": {"per_day": 20, "hours": "06:00-20:00", "working_days_only": True},
    "opening_hours": "07:00-19:00",
    "staff": {"inspector": 3, "certifying_officer": 1, "supervisor": 1},
    "lab_turnaround_hours": {"mean": 72, "distribution": "lognormal"},
    "target_hours": 24,
}
MAX_SCENARIO_CHARS = 20_000


class SimulationForm(forms.Form):
    scenario = forms.CharField(
        label=gettext_lazy("Scenario (JSON)"),
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        max_length=MAX_SCENARIO_CHARS,
        initial=json.dumps(EXAMPLE, indent=2),
    )
    sweep = forms.CharField(
        label=gettext_lazy("Staffing sweep (optional)"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("ROLE=LOW..HIGH, e.g. inspector=1..5: one run per staff count."),
    )

    def clean_scenario(self):
        try:
            data = json.loads(self.cleaned_data["scenario"])
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(data, dict):
            raise forms.ValidationError(_("A scenario is a JSON object."))
        return data


@supervisor_required
def simulation_list(request):
    form = SimulationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = simulation_request(
                    actor=request.user, scenario=form.cleaned_data["scenario"], sweep=form.cleaned_data["sweep"]
                )
            except DomainInvalid as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return redirect("simulation-detail", pk=run.pk)
        status = 400
    page = Paginator(SimulationRun.objects.select_related("requested_by"), 20).get_page(request.GET.get("page"))
    return render(request, "simulation/run_list.html", {"form": form, "page": page}, status=status)


@supervisor_required
def simulation_detail(request, pk):
    run = get_object_or_404(SimulationRun, pk=pk)
    waiting = run.status in (SimulationRun.Status.QUEUED, SimulationRun.Status.RUNNING)
    plots = [name for name in run.files if name.endswith(".svg")]
    context = {
        "run": run,
        "waiting": waiting,
        "stalled": simulation_stalled(run),
        "plots": plots,
        "scenario": json.dumps(run.scenario, indent=2),
    }
    return render(request, "simulation/run_detail.html", context)


@supervisor_required
@require_POST
def simulation_send_again(request, pk):
    run = get_object_or_404(SimulationRun, pk=pk)
    try:
        simulation_resend(actor=request.user, run=run)
    except DomainInvalid:
        pass  # it started meanwhile: the page shows it
    return redirect("simulation-detail", pk=run.pk)


@supervisor_required
def simulation_file(request, pk, name):
    """A file of the run's report: only the names the run recorded, never a path."""
    run = get_object_or_404(SimulationRun, pk=pk, status=SimulationRun.Status.DONE)
    if name not in run.files:
        raise Http404
    with private_storage().open(f"simulations/{run.pk}/{name}") as stored:
        content = stored.read()
    response = HttpResponse(content, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    if not name.endswith(".html"):
        response["Content-Security-Policy"] = "sandbox"  # an SVG opened on its own runs nothing
    return response
