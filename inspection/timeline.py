"""What an importer may see of a consignment's history: the steps and their outcome, never internal notes
or who in the BCP did them."""

from django.utils.translation import gettext_lazy as _

IMPORTER_STEPS = {
    "consignment.created": ("created", _("Pre-notification created")),
    "consignment.submitted": ("submitted", _("Pre-notification submitted")),
    "consignment.cancelled": ("cancelled", _("Pre-notification cancelled")),
}


def importer_timeline(events) -> list[dict]:
    """`events`: the consignment's audit events, oldest first (usually prefetched)."""
    return [
        {"at": e.occurred_at, "step": IMPORTER_STEPS[e.action][0], "label": str(IMPORTER_STEPS[e.action][1])}
        for e in events
        if e.action in IMPORTER_STEPS
    ]
