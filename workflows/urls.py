from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow import FlowAppViewset
from viewflow.workflow.flow.views import FlowInboxListView, FlowQueueListView
from viewflow.workflow.flow.views.filters import FlowUserTaskListFilter

from .flows import InspectionFlow


class TaskListFilter(FlowUserTaskListFilter):
    """The task lists' filters without viewflow's per-process drop-down, which lists every open process
    (10,000 options at a busy post: most of the page's time), and with the step choices taken from the flow
    rather than from a DISTINCT over every open task."""

    class Meta(FlowUserTaskListFilter.Meta):
        fields = ("flow_task", "created")

    def __init__(self, *args, **kwargs):
        super(FlowUserTaskListFilter, self).__init__(*args, **kwargs)
        self.filters["flow_task"].field.choices = [
            (get_task_ref(node), str(node.task_title))
            for node in InspectionFlow.instance.nodes()
            if node.task_type == "HUMAN"
        ]


TaskListFilter.base_filters.pop("process", None)


class TaskListMixin:
    """Each row shows its consignment (`SUMMARY` in flows.py): fetch them all at once, not one per row."""

    filterset_class = TaskListFilter

    def get_queryset(self):
        return super().get_queryset().select_related("process").prefetch_related("process__artifact__bcp")


class InboxView(TaskListMixin, FlowInboxListView):
    pass


class QueueView(TaskListMixin, FlowQueueListView):
    pass


class InspectionViewset(FlowAppViewset):
    inbox_view_class = InboxView
    queue_view_class = QueueView


site = Site(
    title=_("Border control post"),
    viewsets=[InspectionViewset(InspectionFlow, icon="local_shipping")],
)
