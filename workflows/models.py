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
