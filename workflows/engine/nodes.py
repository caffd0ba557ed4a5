"""The flow's own nodes, on viewflow's open-source ones (subclassed, never patched)."""

from django.urls import path
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow.nodes import Split, TimerBoundary
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import task_started
from viewflow.workflow.status import STATUS

from .views import task_view


class HumanTaskActivation(ViewActivation):
    @Activation.status.transition(
        source=STATUS.NEW,
        target=STATUS.STARTED,
        permission=lambda activation, user: activation.flow_task.can_assign(user, activation.task),
    )
    def claim(self, user):
        """Assign and start at once, for a step driven from code that completes in the same transaction
        (`workflows.steps.task_complete_as`): a step that fails leaves its task unclaimed, and the
        completing save writes the owner too (viewflow's `assign` saves the task on its own)."""
        self.task.owner = user
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.task.started = now()


class DeadlineTimer(TimerBoundary):
    """viewflow's timer boundary, cancelled when its host task finishes as viewflow's is, in one UPDATE
    (viewflow reads each armed timer, then its process, then saves it)."""

    def _on_host_finished(self, **signal_kwargs):
        host_task = signal_kwargs["task"]
        if host_task.flow_task != self._attached_to:
            return
        self.flow_class.task_class._default_manager.filter(
            flow_task=self,
            process_id=host_task.process_id,
            previous=host_task,
            status__in=[STATUS.NEW, STATUS.SCHEDULED],  # the sources of a timer's `cancel`
        ).update(status=STATUS.CANCELED, finished=now())


class HumanTask(flow.View):
    """A user task (viewflow's `View`) that code can claim and start in one write
    (`HumanTaskActivation.claim`), whose URLs read the task under the flow lock and explain a refusal
    (`views.task_view`), and whose deadline is a `DeadlineTimer`."""

    activation_class = HumanTaskActivation

    @property
    def view_path(self):
        view = task_view(self, self.view, permission=self.can_execute, start=True)
        return path(f"<int:process_pk>/{self.name}/<int:task_pk>/execute/", view, name="execute")

    @property
    def assign_path(self):
        view = task_view(self, self.assign_view, permission=self.can_assign)
        return path(f"<int:process_pk>/{self.name}/<int:task_pk>/assign/", view, name="assign")

    def can_execute(self, user, task):
        """Only the owner (compared by id: viewflow loads the owner's row to compare)."""
        return task.owner_id is not None and user is not None and task.owner_id == user.pk

    def OnTimeout(self, delay, then, interrupting=True, title=None):
        """viewflow's `OnTimeout` (base `Node.OnTimeout`), with a `DeadlineTimer`."""
        boundary = DeadlineTimer(None, delay=delay, interrupting=interrupting).Next(then)
        if title is not None:
            boundary.Annotation(title=title)
        self._boundary_specs.append(("timeout", boundary))
        return self


class ForEachActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        """viewflow's `SplitActivation.activate`, with one task per item of a branch's data source (its
        `create_next` gives each task its item as `task.data`)."""
        for node, cond, data_source in self.flow_task._activate_next:
            if cond and not cond(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))
        if not self.next_tasks:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class ForEach(Split):
    """A parallel split: `.Each(node, data_source)` creates one `node` task per item (stored in
    `task.data`; viewflow 2.4's open-source `Split.Next` takes no data source), `.Always(node)` one task."""

    activation_class = ForEachActivation

    def Each(self, node, data_source):
        self._activate_next.append((node, None, data_source))
        return self
