from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class InspectionProcess(Process):
    """The inspection of one consignment. The consignment is the process artifact; every domain record
    (checks, samples, decisions) hangs off the consignment, not the process."""

    class Meta:
        proxy = True
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        permissions = [
            ("can_check", _("Can record checks, samples and follow-ups")),
            ("can_decide", _("Can decide (certifying officer)")),
            ("can_supervise", _("Can countersign refusals and handle escalations")),
        ]

    @property
    def consignment(self):
        return self.artifact


class ExportProcess(Process):
    """The post's work on one export application (`workflows.flows.ExportFlow`): the application is the process
    artifact, and every record (checks, decision, certificates) hangs off the application. Its steps carry the
    inspection's step permissions (`can_check`, `can_decide`): the same roles perform them."""

    class Meta:
        proxy = True
        verbose_name = _("export certificate")
        verbose_name_plural = _("export certificates")

    @property
    def application(self):
        return self.artifact


class SimulationRun(models.Model):
    """A capacity simulation asked for on the supervisors' page (`workflows.simulation.runs`), run by a worker.
    Its report files live in the private storage under `simulations/<id>/`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    scenario = models.JSONField(_("scenario"))
    sweep = models.CharField(_("staffing sweep"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    summary = models.JSONField(_("summary"), null=True, blank=True)
    files = models.JSONField(_("report files"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("capacity simulation")
        verbose_name_plural = _("capacity simulations")

    def __str__(self):
        return f"simulation {self.pk}"
