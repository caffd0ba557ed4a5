"""A flow's graph as plain data, for the code that reasons about the flow without running it (the capacity
simulator): every node with its kind, the step of a human task, and its branches with the name of the gateway
method that chooses each one. Boundary timers (deadlines, escalations) are left out: they never move the
consignment on."""

import dataclasses

from viewflow.workflow import flow
from viewflow.workflow.nodes import TimerBoundary

from .jobs import CeleryJob
from .nodes import ForEach, HumanTask


@dataclasses.dataclass(frozen=True)
class Branch:
    target: str
    # the gateway method choosing this branch (If: its condition, Switch: a case's, ForEach: the data source
    # giving one branch per item); None for the `next`, `else`, default and `always` branches
    condition: str | None = None
    otherwise: bool = False  # an If's `else`


@dataclasses.dataclass(frozen=True)
class GraphNode:
    name: str
    kind: str  # start, task, function, job, handle, if, switch, foreach, join, timer, end
    step: str | None = None  # a human task's step (`inspection.roles.Step`)
    branches: tuple[Branch, ...] = ()
    join_condition: str | None = None


_KINDS = [
    (flow.StartHandle, "start"),
    (HumanTask, "task"),
    (CeleryJob, "job"),
    (flow.Function, "function"),
    (flow.Handle, "handle"),
    (flow.If, "if"),
    (flow.Switch, "switch"),
    (ForEach, "foreach"),
    (flow.Join, "join"),
    (flow.Timer, "timer"),  # an intermediate timer (a boundary one is left out above)
    (flow.End, "end"),
]


def _name(method) -> str | None:
    return getattr(method, "__name__", None) if method is not None else None


def _branches(node) -> tuple[Branch, ...]:
    if isinstance(node, flow.If):
        return (
            Branch(node._on_true.name, _name(node._condition)),
            Branch(node._on_false.name, _name(node._condition), otherwise=True),
        )
    if isinstance(node, flow.Switch):
        return tuple(Branch(target.name, _name(condition)) for target, condition in node._activate_next)
    if isinstance(node, ForEach):
        return tuple(Branch(target.name, _name(source)) for target, _cond, source in node._activate_next)
    return tuple(Branch(edge.dst.name) for edge in node._outgoing())


def flow_graph(flow_class) -> dict[str, GraphNode]:
    """Every node of `flow_class` but its boundary timers, by name. A node of a kind this module does not
    know is an error: whoever reads the graph must be taught it first."""
    graph = {}
    for node in flow_class.instance.nodes():
        if isinstance(node, TimerBoundary):
            continue
        kind = next((kind for cls, kind in _KINDS if isinstance(node, cls)), None)
        if kind is None:
            raise TypeError(
                f"{flow_class.__name__}.{node.name}: a {type(node).__name__} is not in the flow graph's kinds"
            )
        graph[node.name] = GraphNode(
            name=node.name,
            kind=kind,
            step=getattr(node, "step", None),
            branches=_branches(node),
            join_condition=_name(node._continue_on_condition) if kind == "join" else None,
        )
    return graph
