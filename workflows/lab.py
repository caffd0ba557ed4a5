"""A lab result reaching the flow: it completes the sample's wait when there is one."""

from django.db.models import Q
from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.services.lab import lab_result_record

from .flows import ExportFlow, InspectionFlow
from .steps import task_cancel

_WAITS = (
    Q(flow_task=InspectionFlow.lab_result)
    | Q(flow_task=InspectionFlow.released_result)
    | Q(flow_task=ExportFlow.lab_result)  # an export application's sample
)


def lab_result_receive(**result):
    """Apply a result (`lab_result_record`'s arguments) through the sample's open wait task, or directly
    when nothing waits for it (a sample released pending its result, or a result already applied)."""
    sample = result["sample"]
    task = Task.objects.filter(_WAITS, status=STATUS.NEW, data__sample=sample.pk).first()
    if task is not None:
        try:
            return task.flow_task.run(task, **result)
        except TransitionNotAllowed:
            pass  # the wait was completed meanwhile: the direct path below is idempotent
    return lab_result_record(**result)


def lab_wait_cancel(*, sample) -> None:
    """Stop waiting for a sample's result (the supervisor waived it), with the wait's deadline timer.
    Runs under the flow lock of the task that decided it."""
    for task in Task.objects.filter(_WAITS, status=STATUS.NEW, data__sample=sample.pk):
        task_cancel(task)
