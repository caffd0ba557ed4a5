"""The line at the top of a consignment's page: where it stands and what, if anything, the importer does next."""

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from inspection.models import Consignment, ConsignmentStatus

S = ConsignmentStatus


def importer_next_step(consignment: Consignment, decision: dict | None) -> str:
    """What happens next, in the importer's words. A refusal not yet countersigned reads as a decision being
    taken: the importer learns of a refusal once it is final (`consignment_decision`)."""
    status = consignment.status
    if status == S.DRAFT:
        return _("Complete Part I and submit it before the goods arrive: the post checks nothing until then.")
    if status in (S.SUBMITTED, S.CHECKING):
        if consignment.arrived_at is None and consignment.expected_arrival:
            return _("Present the goods at %(bcp)s on arrival (expected %(when)s); the post checks them.") % {
                "bcp": consignment.bcp.name if consignment.bcp else _("the post"),
                "when": date_format(localtime(consignment.expected_arrival), "SHORT_DATETIME_FORMAT"),
            }
        return _("The post is checking the consignment. Nothing to do for now.")
    if status == S.AWAITING_LAB:
        return _("Samples are at the laboratory: the decision waits for their results.")
    if status in (S.AWAITING_DECISION, S.AWAITING_COUNTERSIGN):
        return _("The checks are done: the decision is being taken.")
    if status == S.ACCEPTED:
        return _("The signed CHED is under Certificates: give its number to your customs broker.")
    if status == S.REFUSED:
        if decision and decision.get("measure_deadline"):
            return _("Carry out the measure by %(date)s; the post follows it up.") % {
                "date": date_format(decision["measure_deadline"], "SHORT_DATE_FORMAT")
            }
        return _("The refusal notice is under Certificates.")
    if status == S.REPLACED:
        return _("This CHED was replaced: follow the replacement CHED.")
    if status == S.SPLIT:
        return _("The post split this consignment: each part has its own CHED and decision.")
    return _("Nothing left to do.")
