"""Celery beat's side of the flow: fire the due timers (lab and documentary-check deadlines)."""

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from .engine import flow_job_run  # noqa: F401  (registers the job runner with the worker)


@shared_task(acks_late=True)
def workflow_timers_fire() -> int:
    """Run by beat every `PIF_TIMER_INTERVAL` seconds; one beat only (README, Production)."""
    return fire_due_timers()


@shared_task(acks_late=True)
def simulation_run(run_id: int) -> bool:
    """A capacity simulation asked for on the supervisors' page (`simulation.runs`)."""
    from .simulation.runs import simulation_perform

    return simulation_perform(run_id=run_id)
