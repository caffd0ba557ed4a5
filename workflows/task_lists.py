"""The staff task lists of a flow: the inbox (my tasks) and the queue (the tasks my role may claim).

They replace viewflow's lists, whose cost grows with the number of open tasks: two `COUNT(*)` over them
(the paginator and the side menu) and a sort of all of them joined to their process. Here a page is a
seek ("keyset") page: newest first on `(created, id)`, read in that order from the index `(status,
created, id)` (`workflows/migrations/0003`), and the next page starts after the last row shown. No total
is counted; the side menu counts at most `MENU_COUNT_CAP` tasks. So a page costs the same at 100 or
10,000 open tasks."""

import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views import FlowInboxListView, FlowQueueListView
from viewflow.workflow.flow.views.filters import FlowUserTaskListFilter
from viewflow.workflow.status import STATUS

from inspection.roles import may_perform

MENU_COUNT_CAP = 99
CURSOR_PARAM = "after"


def _human_nodes(flow_class) -> list:
    return [node for node in flow_class.instance.nodes() if node.task_type == "HUMAN"]


def inbox_tasks(flow_class, user):
    """The tasks of `flow_class` assigned to `user` and not yet done (viewflow's inbox)."""
    return flow_class.task_class._default_manager.filter(
        flow_task__in=_human_nodes(flow_class), owner=user, status=STATUS.ASSIGNED
    )


def queue_tasks(flow_class, user):
    """The unclaimed tasks of `flow_class` that `user` may claim: those of the steps their roles perform
    (`inspection.roles.STEP_ROLES`, as the nodes' `can_assign`). A superuser is no exception: staff
    administration is not inspection (docs/decisions/0008). The flow is told by the task's node rather than
    by a join to its process."""
    claimable = [node for node in _human_nodes(flow_class) if may_perform(user, node.step)]
    return flow_class.task_class._default_manager.filter(flow_task__in=claimable, status=STATUS.NEW)


class TaskListFilter(FlowUserTaskListFilter):
    """viewflow's task list filters without its per-process drop-down, which lists every open process
    (10,000 options at a busy post), and with the step choices taken from the flow rather than from a
    DISTINCT over every open task."""

    class Meta(FlowUserTaskListFilter.Meta):
        fields = ("flow_task", "created")

    def __init__(self, *args, **kwargs):
        super(FlowUserTaskListFilter, self).__init__(*args, **kwargs)
        flow_class = type(self.request.resolver_match.flow)
        self.filters["flow_task"].field.choices = [
            (get_task_ref(node), str(node.task_title)) for node in _human_nodes(flow_class)
        ]


TaskListFilter.base_filters.pop("process", None)


class MenuCount:
    """The side menu's number of tasks, counted no further than the cap ("99+")."""

    def __init__(self, tasks):
        self.tasks = tasks

    @property
    def count(self) -> str:
        found = self.tasks.order_by()[: MENU_COUNT_CAP + 1].count()
        return f"{MENU_COUNT_CAP}+" if found > MENU_COUNT_CAP else str(found)


class SeekPage:
    """What the list template needs of a page: its rows and where the next one starts."""

    def __init__(self, rows: list, *, has_next: bool, is_first: bool):
        self.object_list = rows
        self.has_next = has_next
        self.is_first = is_first

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def next_cursor(self) -> str:
        last = self.object_list[-1]
        return f"{last.created.isoformat()}_{last.pk}"


def parse_cursor(value: str | None) -> tuple[datetime.datetime, int] | None:
    """`<created, ISO 8601>_<id>` of the last row of the previous page; anything else means the first page."""
    created, _sep, pk = (value or "").rpartition("_")
    moment = parse_datetime(created) if created else None
    if moment is None or moment.tzinfo is None or not pk.isdigit():
        return None
    return moment, int(pk)


class SeekListMixin:
    """Lists a flow's tasks newest first, one seek page at a time (see the module docstring). The rows
    cannot be re-sorted by column: the order is the index's."""

    template_name = "workflows/task_list.html"
    filterset_class = TaskListFilter
    columns = ("task_id", "task_title", "brief", "created_at")

    def created_at(self, task):
        return task.created

    created_at.short_description = _("Created")

    def get_ordering(self):
        return ["-created", "-pk"]

    def get_queryset(self):
        # each row shows what it is about (the flow's summary template): fetch them all at once, not one per row
        queryset = super().get_queryset().select_related("process").prefetch_related(*self.flow_class.summary_prefetch)
        return queryset.order_by("-created", "-pk")

    def paginate_queryset(self, queryset, page_size):
        cursor = parse_cursor(self.request.GET.get(CURSOR_PARAM))
        if cursor is not None:
            created, pk = cursor
            # (created, id) < cursor, written so that the index range starts at the cursor
            queryset = queryset.filter(created__lte=created).exclude(created=created, pk__gte=pk)
        rows = list(queryset[: page_size + 1])
        page = SeekPage(rows[:page_size], has_next=len(rows) > page_size, is_first=cursor is None)
        return None, page, page.object_list, page.has_next or not page.is_first

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        query = self.request.GET.copy()
        query.pop(CURSOR_PARAM, None)
        context["first_page_query"] = query.urlencode()
        if page.has_next:
            query[CURSOR_PARAM] = page.next_cursor
            context["next_page_query"] = query.urlencode()
        return context


class InboxView(SeekListMixin, FlowInboxListView):
    @property
    def queryset(self):
        return inbox_tasks(self.flow_class, self.request.user)


class QueueView(SeekListMixin, FlowQueueListView):
    @property
    def queryset(self):
        return queue_tasks(self.flow_class, self.request.user)
