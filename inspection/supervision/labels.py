"""The names of audit actions, as people read them."""

from django.utils.translation import gettext_lazy as _

ACTIONS = [
    ("consignment.created", _("Pre-notification created")),
    ("consignment.draft_updated", _("Draft updated")),
    ("consignment.submitted", _("Pre-notification submitted")),
    ("consignment.cancelled", _("Pre-notification cancelled")),
    ("checks.planned", _("Checks planned")),
    ("documentary_check.recorded", _("Documentary check")),
    ("identity_check.recorded", _("Identity check")),
    ("physical_check.recorded", _("Physical check")),
    ("sample.waived", _("Sample waived")),
    ("lab_result.recorded", _("Laboratory result")),
    ("lab_result.late", _("Laboratory result late")),
    ("decision.recorded", _("Decision")),
    ("decision.countersigned", _("Refusal countersigned")),
    ("decision.sent_back", _("Refusal sent back")),
    ("consignment.recalled", _("Recall")),
    ("certificate.issued", _("Certificate issued")),
    ("follow_up.recorded", _("Follow-up recorded")),
    ("escalation.acknowledged", _("Escalation handled")),
    ("task.reassigned", _("Task reassigned")),
    ("task.unassigned", _("Task unassigned")),
]
ACTION_LABELS = dict(ACTIONS)


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
