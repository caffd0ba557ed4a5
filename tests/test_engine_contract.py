"""What `workflows/engine/` relies on in django-viewflow 2.4.0, beyond its documented API: each internal it
names (an attribute starting with `_`) and each behaviour it builds on, pinned here. An upgrade of viewflow
fails the first test, then whichever of the others no longer holds: read the new release's source there,
adapt the adapter, and only then move the version pin."""

import inspect
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import version
from types import SimpleNamespace

from viewflow import this
from viewflow.utils import viewprop
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.flow.nodes import Split, TimerBoundary
from viewflow.workflow.lock import SelectForUpdateLock, after_lock_released, lock_scope
from viewflow.workflow.nodes.boundary import BoundaryEventMixin
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.job import AbstractJobActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.timer import TimerActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from workflows.engine import CeleryJob, DeadlineTimer, ForEach, HumanTask
from workflows.engine.jobs import CeleryJobActivation
from workflows.engine.nodes import ForEachActivation, HumanTaskActivation
from workflows.flows import InspectionFlow


def test_viewflow_is_the_version_the_adapter_was_written_for():
    assert version("django-viewflow") == "2.4.0"


def _activation(activation_class, status, **task):
    """An activation on a task that is not in the database: enough to ask its state machine."""
    task = SimpleNamespace(status=status, process=SimpleNamespace(coerced=None), **task)
    return activation_class(task)


# ---- locking.py


def test_select_for_update_lock_exposes_its_attempts_and_nowait():
    impl = SelectForUpdateLock()
    assert (impl.attempts, impl.nowait) == (5, True)
    assert isinstance(InspectionFlow.lock_impl, SelectForUpdateLock)
    assert issubclass(FlowLockFailed, Exception)


def test_lock_scope_takes_the_lock_impl_and_runs_the_deferred_callbacks_after_it():
    """`task_locked` is `flow_class.lock(pk)` with a lock of its own: both go through `lock_scope`."""
    assert list(inspect.signature(lock_scope).parameters) == ["lock_impl", "flow_class", "process_pk"]
    assert "lock_scope(cls.lock_impl, cls, process_pk)" in inspect.getsource(InspectionFlow.lock)
    events = []

    @contextmanager
    def spy(flow_class, process_pk):
        events.append(("locked", flow_class, process_pk))
        yield
        events.append("released")

    with lock_scope(spy, InspectionFlow, 7):
        after_lock_released(lambda: events.append("callback"))
    assert events == [("locked", InspectionFlow, 7), "released", "callback"]


# ---- nodes.py: HumanTask


def test_a_view_node_has_the_urls_and_views_human_task_wraps():
    for name in ("view", "view_path", "assign_path"):
        assert isinstance(inspect.getattr_static(flow.View, name), property), name
    assert isinstance(inspect.getattr_static(flow.View, "assign_view"), viewprop)
    node = InspectionFlow.documentary_check
    assert node.view_path.name == "execute" and node.assign_path.name == "assign"
    assert str(node.view_path.pattern) == "<int:process_pk>/documentary_check/<int:task_pk>/execute/"


def test_a_view_task_is_claimed_from_new_and_started_from_assigned():
    assert _activation(HumanTaskActivation, STATUS.NEW).claim.can_proceed()
    assert not _activation(HumanTaskActivation, STATUS.ASSIGNED).claim.can_proceed()
    assert _activation(ViewActivation, STATUS.ASSIGNED).start.can_proceed()
    assert _activation(ViewActivation, STATUS.STARTED).execute.can_proceed()
    assert _activation(ViewActivation, STATUS.STARTED).complete.can_proceed()


def test_status_values_are_the_ones_stored():
    assert [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED, STATUS.DONE] == ["NEW", "ASSIGNED", "STARTED", "DONE"]
    assert [STATUS.SCHEDULED, STATUS.CANCELED, STATUS.ERROR, STATUS.REVIVED] == [
        "SCHEDULED",
        "CANCELED",
        "ERROR",
        "REVIVED",
    ]


def test_on_timeout_stores_its_boundary_in_boundary_specs():
    """`HumanTask.OnTimeout` appends to `_boundary_specs` as `Node.OnTimeout` does."""
    node = flow.View(lambda request: None)
    assert node._boundary_specs == []
    node.OnTimeout(timedelta(hours=1), this.elsewhere)
    [(suffix, boundary)] = node._boundary_specs
    assert suffix == "timeout" and type(boundary) is TimerBoundary
    assert "_boundary_specs" in inspect.getsource(flow.View.OnTimeout)


def test_a_boundary_becomes_a_node_attached_to_its_host_as_attached_to():
    timer = InspectionFlow.documentary_check__timeout
    assert type(timer) is DeadlineTimer and timer._attached_to is InspectionFlow.documentary_check
    assert InspectionFlow.follow_up__timeout._attached_to is InspectionFlow.follow_up


def test_a_boundary_is_cancelled_by_its_on_host_finished_listener():
    """viewflow connects `self._on_host_finished` to `task_finished`; `DeadlineTimer` overrides it, with the
    statuses a timer's `cancel` accepts."""
    assert list(inspect.signature(BoundaryEventMixin._on_host_finished).parameters) == ["self", "signal_kwargs"]
    assert "task_finished.connect(self._on_host_finished" in inspect.getsource(BoundaryEventMixin._ready)
    assert "_on_host_finished" in DeadlineTimer.__dict__
    cancellable = {s for s in STATUS if _activation(TimerActivation, s).cancel.can_proceed()}
    assert cancellable == {STATUS.NEW, STATUS.SCHEDULED}


# ---- nodes.py: ForEach


def test_a_split_keeps_its_branches_in_activate_next_as_node_case_data_source():
    first, second = object(), object()
    split = Split().Next(first, case=bool).Always(second)
    assert split._activate_next == [(first, bool, None), (second, None, None)]
    assert split._branches is split._activate_next  # what viewflow's own activation reads
    assert ForEach().Each(first, list)._activate_next == [(first, None, list)]


def test_a_split_resolves_its_branches_data_source_included():
    [(node, case, data_source)] = InspectionFlow.each_sample._activate_next
    assert node is InspectionFlow.lab_result and case is None
    assert data_source == InspectionFlow.instance.detained_samples


def test_a_split_creates_one_task_per_next_task_with_its_data():
    """`ForEachActivation.activate` fills `next_tasks` with (node, data); viewflow's `create_next` does the
    rest."""
    created = []
    node = SimpleNamespace(_create=lambda **kwargs: created.append(kwargs) or kwargs)
    activation = _activation(ForEachActivation, STATUS.DONE, token=Token("start"), pk=3)
    activation.next_tasks = [(node, {"sample": 1}), (node, {"sample": 2})]
    list(activation.create_next())
    assert [(c["data"], c["token"].token) for c in created] == [
        ({"sample": 1}, "start/3_1"),
        ({"sample": 2}, "start/3_2"),
    ]
    assert issubclass(ForEachActivation, SplitActivation) and "next_tasks" in vars(activation)


# ---- the gateways and ends are viewflow's


def test_a_gateway_is_written_before_its_condition_runs():
    """`is_recall` walks from the gateway's task to the wait before it: the row and its link exist."""
    assert IfActivation.create.__func__ is Activation.create.__func__
    assert SwitchActivation.create.__func__ is Activation.create.__func__
    source = inspect.getsource(Activation.create)
    assert source.index("task.save()") < source.index("task.previous.add(prev_activation.task)")


def test_a_gateway_failure_propagates_under_the_default_context():
    """A job routes on under the default context, so a failing gateway fails the job (retried)."""
    assert context.propagate_exception is True
    # viewflow's job records a gateway's failure on the gateway's task instead: what `CeleryJobActivation` overrides
    assert "with Context(propagate_exception=False):\n            self.activate_next()" in inspect.getsource(
        AbstractJobActivation
    )
    assert "Context" not in inspect.getsource(CeleryJobActivation)


# ---- jobs.py


def test_a_job_is_started_again_when_redelivered_and_fails_from_started():
    assert _activation(AbstractJobActivation, STATUS.SCHEDULED).start.can_proceed()
    assert _activation(AbstractJobActivation, STATUS.STARTED).start.can_proceed()
    assert not _activation(AbstractJobActivation, STATUS.DONE).start.can_proceed()
    assert _activation(AbstractJobActivation, STATUS.STARTED).error.can_proceed()
    assert _activation(CeleryJobActivation, STATUS.NEW).activate.can_proceed()
    assert _activation(CeleryJobActivation, STATUS.SCHEDULED).cancel.can_proceed()


def test_a_job_task_gets_its_external_id_on_create_and_revive():
    assert "external_task_id=str(uuid.uuid4())" in inspect.getsource(AbstractJobActivation.create)
    task = SimpleNamespace(external_task_id=None)
    AbstractJobActivation.prepare_revived_task(None, task)
    assert task.external_task_id


def test_this_resolves_a_flow_method_and_leaves_a_callable_as_it_is():
    assert this.resolve(InspectionFlow.instance, this.issue) == InspectionFlow.instance.issue
    assert this.resolve(InspectionFlow.instance, len) is len
    assert InspectionFlow.issue_certificate.func == InspectionFlow.instance.issue
    assert isinstance(InspectionFlow.issue_certificate, CeleryJob)
    assert isinstance(InspectionFlow.documentary_check, HumanTask)


def test_the_job_tasks_keep_the_celery_names_queued_messages_and_beat_use():
    from django.conf import settings

    from workflows.engine import flow_job_run, flow_jobs_resend

    assert flow_job_run.name == "workflows.nodes.flow_job_run"
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert flow_jobs_resend.name == "workflows.nodes.flow_jobs_resend" and flow_jobs_resend.name in scheduled


def test_the_flow_graph_reads_gateways_splits_and_joins():
    """`engine.graph` reads If (`_condition`, `_on_true`, `_on_false`), Switch and ForEach (`_activate_next`),
    Join (`_continue_on_condition`) and every node's `_outgoing()`: the capacity simulator walks this graph."""
    from workflows.engine.graph import Branch, flow_graph
    from workflows.flows import InspectionFlow

    graph = flow_graph(InspectionFlow)
    assert graph["submit"].kind == "start" and graph["submit"].branches == (Branch("plan_checks"),)
    assert graph["after_documents"].branches == (
        Branch("identity_check", "needs_identity_check"),
        Branch("physical_check", "needs_physical_check"),
        Branch("decide"),
    )
    assert graph["is_refused"].branches == (
        Branch("countersign", "is_refusal"),
        Branch("issue_certificate", "is_refusal", otherwise=True),
    )
    assert graph["each_released_sample"].branches == (
        Branch("released_result", "released_samples"),
        Branch("consignment_detained"),
    )
    assert graph["lab_results_in"].join_condition == "only_escalations_left"
    assert graph["decide"].kind == "task" and graph["decide"].step == "decision"
    assert graph["issue_certificate"].kind == "job" and graph["lab_result"].kind == "handle"
    assert not any(name.endswith("__timeout") for name in graph)
