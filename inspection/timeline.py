"""What an importer may see of a consignment's history: the steps and their outcome, never internal notes
or who in the BCP did them."""

from django.utils.translation import gettext_lazy as _

from inspection.models import CheckResult, LabResult

IMPORTER_STEPS = {
    "consignment.created": ("created", _("Pre-notification created")),
    "consignment.submitted": ("submitted", _("Pre-notification submitted")),
    "consignment.cancelled": ("cancelled", _("Pre-notification cancelled")),
    "documentary_check.recorded": ("documentary_check", _("Documentary check")),
    "identity_check.recorded": ("identity_check", _("Identity check")),
    "physical_check.recorded": ("physical_check", _("Physical check")),
    "lab_result.recorded": ("lab_result", _("Laboratory result")),
    "decision.recorded": ("decision", _("Decision")),
    "decision.countersigned": ("refusal_confirmed", _("Refusal confirmed")),
    "certificate.issued": ("certificate", _("Certificate issued")),
    "follow_up.recorded": ("follow_up", _("Follow-up recorded")),
}


def _outcome(event) -> str:
    data = event.data or {}
    if "result" in data:
        return str(CheckResult(data["result"]).label)
    if "conclusion" in data:
        return str(LabResult.Conclusion(data["conclusion"]).label)
    if event.action == "physical_check.recorded" and data.get("samples"):
        return str(_("samples taken"))
    return ""


def importer_timeline(events) -> list[dict]:
    """`events`: the consignment's audit events, oldest first (usually prefetched). A refusal shows once a
    supervisor has countersigned it; before that it is still under review."""
    timeline = []
    for event in events:
        if event.action not in IMPORTER_STEPS:
            continue
        if event.action == "decision.recorded" and event.data.get("to") != "accepted":
            continue
        step, label = IMPORTER_STEPS[event.action]
        timeline.append({"at": event.occurred_at, "step": step, "label": str(label), "outcome": _outcome(event)})
    return timeline
