"""The export flow's side of the domain's ports (`inspection.ports`): start the flow of an application just
submitted, and perform one of its steps from outside the task forms (the staff API, the application's page),
through the flow: the step's open task is claimed and completed with the service call, as its form would."""

from django.utils.translation import gettext as _

from inspection.errors import TransitionNotAllowed
from inspection.models import ExportApplication
from inspection.services.permissions import require_step

from .flows import ExportFlow
from .steps import open_task, task_complete_as

# The steps the staff API and the application's page name, and their task in the flow.
STEP_NODES = {
    "documentary": ExportFlow.documentary_check,
    "inspection": ExportFlow.inspection,
    "decision": ExportFlow.decide,
}


def export_flow_start(application: ExportApplication) -> None:
    ExportFlow.submit.run(application=application)


def export_step_complete(*, user, application: ExportApplication, step: str, record) -> None:
    """Claim the open task of `step` for `user` and complete it with `record()`, in one transaction under the
    flow lock (`task_complete_as`). Who may perform the step is asked first (a 403 whatever the task's state);
    a step that is done, or whose turn has not come, is refused."""
    node = STEP_NODES[step]
    require_step(user, node.step)
    task = open_task(application, node)
    if task is None:
        raise TransitionNotAllowed(
            _("This step is not open for this application: it is done, or its turn has not come.")
        )
    task_complete_as(user=user, task=task, record=record)
