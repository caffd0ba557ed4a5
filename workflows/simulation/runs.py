"""Simulations asked for on the supervisors' page: the request (checked, recorded and audited in one
transaction, sent to a worker after commit) and the run (claimed once, progress recorded as it goes, the report
written to the private storage)."""

import datetime
import logging
import re
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid
from inspection.models.storage import private_storage
from inspection.outbox import task_send_on_commit
from inspection.roles import STEP_ROLES, Role
from inspection.services.permissions import require_role

from ..models import SimulationRun
from . import ScenarioInvalid, scenario_from, simulate_staffing
from .report import summarise, write_report

logger = logging.getLogger(__name__)
SWEEP = re.compile(r"^(\w+)=(\d+)\.\.(\d+)$")
MAX_SWEEP_RUNS = 10
STALLED_AFTER = datetime.timedelta(minutes=30)


def sweep_parse(sweep: str, *, max_runs: int = MAX_SWEEP_RUNS) -> tuple[str, list[int]] | None:
    """`inspector=1..5` as (role, [1, ..., 5]); None for no sweep. Refuses a role that performs no step or a
    range of more than `max_runs` runs (the page's runs share the workers; the command's are the user's own)."""
    if not sweep:
        return None
    match = SWEEP.match(sweep.strip())
    roles = sorted(set(STEP_ROLES.values()))
    if not match or match.group(1) not in roles:
        raise DomainInvalid(
            {
                "sweep": [
                    _("Write ROLE=LOW..HIGH with a role among %(roles)s, e.g. inspector=1..5.")
                    % {"roles": ", ".join(roles)}
                ]
            }
        )
    low, high = int(match.group(2)), int(match.group(3))
    if not 1 <= low <= high or high - low + 1 > max_runs:
        raise DomainInvalid({"sweep": [_("From 1 to %(n)s runs, LOW no more than HIGH.") % {"n": max_runs}]})
    return match.group(1), list(range(low, high + 1))


def _enqueue_on_commit(run_id: int) -> None:
    """After commit, never raising: a broker that is down leaves the run queued, and the page offers to send it
    again (`simulation_resend`)."""
    from workflows.tasks import simulation_run

    task_send_on_commit(simulation_run, run_id)


@atomic_service
def simulation_request(*, actor, scenario: dict, sweep: str = "") -> SimulationRun:
    """A supervisor asks for a simulation of `scenario` (the README's keys), optionally a staffing sweep. The
    scenario is checked before anything is stored; the run goes to a worker after commit."""
    require_role(actor, Role.SUPERVISOR, Role.ADMIN)
    try:
        scenario_from(scenario)
    except ScenarioInvalid as exc:
        raise DomainInvalid({"scenario": [str(exc)]}) from exc
    sweep_parse(sweep)
    run = SimulationRun.objects.create(requested_by=actor, scenario=scenario, sweep=sweep.strip())
    audit_record(actor=actor, action=AuditAction.SIMULATION_REQUESTED, data={"run": run.pk, "sweep": run.sweep})
    _enqueue_on_commit(run.pk)
    return run


@atomic_service
def simulation_stalled(run: SimulationRun, *, now=None) -> bool:
    """A run whose worker must have died: running for longer than `STALLED_AFTER` (a year takes seconds)."""
    now = now or timezone.now()
    return (
        run.status == SimulationRun.Status.RUNNING
        and run.started_at is not None
        and (now - run.started_at > STALLED_AFTER)
    )


def simulation_resend(*, actor, run: SimulationRun) -> SimulationRun:
    """Send a run to a worker again: one still queued (the broker was down when it was asked for), or one whose
    worker died while running it (`simulation_stalled`), put back in the queue with a conditional update so that
    two clicks send it once."""
    require_role(actor, Role.SUPERVISOR, Role.ADMIN)
    if simulation_stalled(run):
        requeued = SimulationRun.objects.filter(
            pk=run.pk, status=SimulationRun.Status.RUNNING, started_at=run.started_at
        ).update(status=SimulationRun.Status.QUEUED, progress=0, started_at=None)
        if requeued:
            run.refresh_from_db()
    if run.status != SimulationRun.Status.QUEUED:
        raise DomainInvalid({"run": [_("This simulation is no longer waiting for a worker.")]})
    _enqueue_on_commit(run.pk)
    return run


def simulation_perform(*, run_id: int) -> bool:
    """Run a queued simulation once (a second delivery finds it claimed and returns False): progress is
    written as the simulated weeks go by, the report saved under `simulations/<id>/` in the private storage."""
    claimed = SimulationRun.objects.filter(pk=run_id, status=SimulationRun.Status.QUEUED).update(
        status=SimulationRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return False
    run = SimulationRun.objects.get(pk=run_id)
    try:
        base = scenario_from(run.scenario)
        role, counts = sweep_parse(run.sweep) or (None, [None])
        shown = {"percent": 0}

        def progress(done: float, index: int = 0) -> None:
            percent = int(100 * (index + done) / len(counts))
            if percent > shown["percent"]:  # one write per percent at most
                shown["percent"] = percent
                SimulationRun.objects.filter(pk=run_id).update(progress=min(percent, 99))

        models = simulate_staffing(base, role, counts, progress=progress)
        sweep = [(count, summarise(model)) for count, model in zip(counts, models, strict=True)] if role else None
        with tempfile.TemporaryDirectory() as folder:
            summary = write_report(models[-1], Path(folder), sweep=sweep, sweep_role=role)
            names = sorted(path.name for path in Path(folder).iterdir())
            storage = private_storage()
            for name in names:
                path = f"simulations/{run_id}/{name}"
                if storage.exists(path):
                    storage.delete(path)
                storage.save(path, ContentFile((Path(folder) / name).read_bytes()))
    except Exception as exc:
        logger.exception("simulation %s failed", run_id)
        SimulationRun.objects.filter(pk=run_id).update(
            status=SimulationRun.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        return True
    SimulationRun.objects.filter(pk=run_id).update(
        status=SimulationRun.Status.DONE, finished_at=timezone.now(), progress=100, summary=summary, files=names
    )
    return True
