"""What the domain asks of the inspection workflow, without importing it: the domain never imports
`workflows` (the workflow wires the domain's steps together, not the reverse). The workflow app connects
its entry points at start-up (`workflows.apps.WorkflowsConfig.ready`)."""

from collections.abc import Callable
from typing import Any

_connected: dict[str, Callable[..., Any]] = {}


class PortNotConnected(RuntimeError):  # noqa: N818 (reads as what happened)
    """The workflow app is not installed or not ready: nothing starts an inspection or receives a result."""


def ports_connect(
    *,
    start_inspection: Callable[..., Any],
    receive_lab_result: Callable[..., Any],
    arrival_changed: Callable[..., Any],
    start_export: Callable[..., Any],
    export_step: Callable[..., Any],
    inspection_stop: Callable[..., Any] | None = None,
    start_decision: Callable[..., Any] | None = None,
    inspection_lock: Callable[..., Any] | None = None,
) -> None:
    """Called once by the workflow app when Django is ready."""
    _connected.update(
        start_inspection=start_inspection,
        receive_lab_result=receive_lab_result,
        arrival_changed=arrival_changed,
        start_export=start_export,
        export_step=export_step,
    )
    if inspection_stop is not None:
        _connected["inspection_stop"] = inspection_stop
    if start_decision is not None:
        _connected["start_decision"] = start_decision
    if inspection_lock is not None:
        _connected["inspection_lock"] = inspection_lock


def _port(name: str) -> Callable[..., Any]:
    try:
        return _connected[name]
    except KeyError:
        raise PortNotConnected(
            f"No workflow is connected to `{name}`: is `workflows` in INSTALLED_APPS (its ready() connects it)?"
        ) from None


def start_inspection(consignment) -> None:
    """Start the inspection of a consignment just submitted, in the caller's transaction (a submit and its
    inspection exist together)."""
    _port("start_inspection")(consignment)


def receive_lab_result(**result):
    """A lab result (`lab_result_record`'s arguments) reaching the sample's wait in the inspection, or
    recorded directly when nothing waits for it. Returns what `lab_result_record` returns."""
    return _port("receive_lab_result")(**result)


def arrival_changed(consignment) -> None:
    """The consignment's arrival moved (a confirmed ETA) or happened (recorded at the post), in the caller's
    transaction: the inspection's deadlines that count from the arrival follow it."""
    _port("arrival_changed")(consignment)


def start_export(application) -> None:
    """Start the post's work on an export application just submitted, in the caller's transaction."""
    _port("start_export")(application)


def export_step(*, user, application, step: str, record: Callable[[], Any]) -> None:
    """Perform one step of an export application's flow as `user` (`step`: "documentary", "inspection" or
    "decision"), `record()` being the step's service call: the open task of that step is claimed and completed
    with it, as its task form would (the staff API and the application's page go through the flow too)."""
    _port("export_step")(user=user, application=application, step=step, record=record)


def inspection_stop(consignment) -> None:
    """The consignment's inspection ends without a decision (its CHED was replaced or split), in the caller's
    transaction: every open task and timer of it is cancelled."""
    _port("inspection_stop")(consignment)


def inspection_lock(consignment) -> None:
    """Take the flow lock of the consignment's inspection, in the caller's transaction, before the caller locks
    the consignment: a task completion takes the flow lock first and the consignment's row second, so a service
    that stops the inspection (a replacement, a split) takes them in the same order and never deadlocks with it."""
    _port("inspection_lock")(consignment)


def start_decision(consignment) -> None:
    """Start the inspection of one part of a split consignment at its decision (its checks are its parent's),
    in the caller's transaction."""
    _port("start_decision")(consignment)
