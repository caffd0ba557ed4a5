"""What an importer may see of a consignment's history: the steps and their outcome, never internal notes
or who in the BCP did them."""

from django.utils.translation import gettext_lazy as _

from inspection.models import AuditAction, CheckResult, LabResult

A = AuditAction
# The actions an importer sees, with the step each one is in the API (`timeline[].step`, part of its contract).
IMPORTER_STEPS = {
    A.CONSIGNMENT_CREATED: "created",
    A.CONSIGNMENT_SUBMITTED: "submitted",
    A.CONSIGNMENT_CANCELLED: "cancelled",
    A.CONSIGNMENT_AMENDED: "amended",
    A.ARRIVAL_MOVED: "arrival_moved",
    A.CONSIGNMENT_REPLACEMENT: "replacement",
    A.CONSIGNMENT_REPLACED: "replaced",
    A.CONSIGNMENT_SPLIT: "split",
    A.CONSIGNMENT_SPLIT_PART: "split_part",
    A.DOCUMENTARY_CHECK_RECORDED: "documentary_check",
    A.IDENTITY_CHECK_RECORDED: "identity_check",
    A.PHYSICAL_CHECK_RECORDED: "physical_check",
    A.LAB_RESULT_RECORDED: "lab_result",
    A.DECISION_RECORDED: "decision",
    A.DECISION_COUNTERSIGNED: "refusal_confirmed",
    A.CERTIFICATE_ISSUED: "certificate",
    A.FOLLOW_UP_RECORDED: "follow_up",
}

# Where the audit data of a replacement or a split names the other CHED(s).
SUCCESSION_OUTCOMES = {
    A.CONSIGNMENT_REPLACEMENT: "replaces",
    A.CONSIGNMENT_REPLACED: "replaced_by",
    A.CONSIGNMENT_SPLIT: "parts",
    A.CONSIGNMENT_SPLIT_PART: "split_from",
}


def _outcome(event) -> str:
    data = event.data or {}
    if "result" in data:
        return str(CheckResult(data["result"]).label)
    if "conclusion" in data:
        return str(LabResult.Conclusion(data["conclusion"]).label)
    if event.action in (A.CONSIGNMENT_AMENDED, A.ARRIVAL_MOVED):
        return ", ".join(data.get("changes", {}))
    if event.action in SUCCESSION_OUTCOMES:  # the other CHED's number
        value = data.get(SUCCESSION_OUTCOMES[event.action], "")
        return ", ".join(value) if isinstance(value, dict) else value
    if event.action == A.PHYSICAL_CHECK_RECORDED and data.get("samples"):
        return str(_("samples taken"))
    return ""


def importer_timeline(events) -> list[dict]:
    """`events`: the consignment's audit events, oldest first (usually prefetched). A refusal shows once a
    supervisor has countersigned it; before that it is still under review."""
    timeline = []
    for event in events:
        if event.action not in IMPORTER_STEPS:
            continue
        if event.action == A.DECISION_RECORDED and event.data.get("to") != "accepted":
            continue
        step, label = IMPORTER_STEPS[event.action], AuditAction.label_of(event.action)
        timeline.append({"at": event.occurred_at, "step": step, "label": label, "outcome": _outcome(event)})
    return timeline


# The actions an exporter sees of its application, with the step each one is in the API.
EXPORTER_STEPS = {
    A.EXPORT_CREATED: "created",
    A.EXPORT_SUBMITTED: "submitted",
    A.EXPORT_CHECKED: "check",
    A.EXPORT_SAMPLED: "sample",
    A.LAB_RESULT_RECORDED: "lab_result",
    A.EXPORT_REFUSED: "refused",
    A.PHYTO_ISSUED: "certificate",
    A.PHYTO_REPLACED: "certificate_replaced",
    A.PHYTO_WITHDRAWN: "certificate_withdrawn",
}


def export_timeline(events) -> list[dict]:
    """`events`: the application's audit events, oldest first. The checks show their kind and result, never
    the inspector's notes."""
    from inspection.models import ExportCheck

    timeline = []
    for event in events:
        if event.action not in EXPORTER_STEPS:
            continue
        data = event.data or {}
        outcome = ""
        if event.action == A.EXPORT_CHECKED:
            outcome = f"{ExportCheck.Kind(data['kind']).label}: {ExportCheck.Result(data['result']).label}"
        elif event.action == A.EXPORT_SAMPLED:  # the certificate waits for its result
            outcome = data.get("sample", "")
        elif event.action == A.LAB_RESULT_RECORDED:
            outcome = f"{data.get('sample', '')}: {LabResult.Conclusion(data['conclusion']).label}"
        elif event.action == A.EXPORT_REFUSED:
            outcome = data.get("reason", "")
        elif event.action == A.PHYTO_ISSUED:
            outcome = data.get("number", "")
        elif event.action == A.PHYTO_REPLACED:
            outcome = f"{data.get('number', '')} → {data.get('replaced_by', '')}"
        elif event.action == A.PHYTO_WITHDRAWN:
            outcome = data.get("number", "")
        step, label = EXPORTER_STEPS[event.action], AuditAction.label_of(event.action)
        timeline.append({"at": event.occurred_at, "step": step, "label": label, "outcome": outcome})
    return timeline
