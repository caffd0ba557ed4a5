from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site
from viewflow.workflow.flow import FlowAppViewset

from .flows import ExportFlow, InspectionFlow
from .task_lists import InboxView, MenuCount, QueueView, inbox_tasks, queue_tasks


class PostFlowViewset(FlowAppViewset):
    """viewflow's flow application, with our own inbox and queue (`task_lists.py`)."""

    inbox_view_class = InboxView
    queue_view_class = QueueView

    def get_context_data(self, request):
        # the side menu's numbers of tasks, on every page of the flow
        return {
            "user_inbox": MenuCount(inbox_tasks(self._flow_class, request.user)),
            "user_queue": MenuCount(queue_tasks(self._flow_class, request.user)),
        }


site = Site(
    title=_("Border control post"),
    viewsets=[
        PostFlowViewset(InspectionFlow, icon="local_shipping"),
        PostFlowViewset(ExportFlow, icon="flight_takeoff"),
    ],
)
