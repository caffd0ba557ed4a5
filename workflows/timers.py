"""Deadlines that count from the consignment's arrival, kept in step with it: the post confirms a new ETA
or records the goods at the BCP (`inspection.ports.arrival_changed`), and the armed timer moves."""

import datetime

from django.utils import timezone
from viewflow.workflow.status import STATUS

from inspection.models import Consignment


def documentary_check_deadline(consignment: Consignment) -> datetime.datetime:
    """One hour before the goods come (recorded, else expected), the documentary check should have started;
    never before now (a deadline already passed is due at once)."""
    arrival = consignment.arrived_at or consignment.expected_arrival
    return max(arrival - datetime.timedelta(hours=1), timezone.now())


def arrival_deadlines_rearm(consignment: Consignment) -> int:
    """Move the documentary check's armed deadline to the arrival now known. Only a timer still scheduled
    moves: one that fired (its escalation is open) or was cancelled (the check was done) stays as it is.
    Returns the number of timers moved (0 or 1)."""
    from .flows import InspectionFlow  # the flow imports this module for its deadline

    return InspectionFlow.task_class._default_manager.filter(
        process__flow_class=InspectionFlow,  # an export application may share the consignment's pk
        process__artifact_object_id=consignment.pk,
        flow_task_type="TIMER",
        status=STATUS.SCHEDULED,
        previous__flow_task=InspectionFlow.documentary_check,
    ).update(scheduled=documentary_check_deadline(consignment))
