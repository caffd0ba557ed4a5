"""The one adapter over viewflow: the only module of the project that relies on viewflow's internals
(names starting with `_`), each pinned to django-viewflow 2.4.0 by tests/test_engine_contract.py, so that
an upgrade fails there first.

- `locking`: the flow lock, with the task read (and locked) under it (`task_locked`);
- `nodes`: `HumanTask` (claim and start in one write, task URLs of our own, a `DeadlineTimer`) and `ForEach`
  (one task per item);
- `jobs`: `CeleryJob`, run by a worker after commit, retried, then an incident (`flow_job_run`);
- `views`: the task URLs' wrapper (`StepRefused`, refusals explained, forms sent twice answered once).

The gateways and ends are viewflow's own (`flow.If`, `flow.Switch`, `flow.End`)."""

from .jobs import CeleryJob, JobStuck, flow_job_run, flow_jobs_resend, stuck_jobs
from .locking import task_locked
from .nodes import DeadlineTimer, ForEach, HumanTask
from .views import StepRefused

__all__ = [
    "CeleryJob",
    "DeadlineTimer",
    "ForEach",
    "HumanTask",
    "StepRefused",
    "flow_job_run",
    "flow_jobs_resend",
    "stuck_jobs",
    "JobStuck",
    "task_locked",
]
