"""A worker SIGKILLed while certificate jobs run: beat sends the jobs whose lease expired again, and every one is
done once, with one valid certificate per decision and kind; a PDF written by a job killed before its transaction
committed is left behind (a dead process removes nothing), and the file sweep beat runs takes it, and nothing
else."""

import os
import subprocess
import threading
import time

from django.db import connection
from django.db.models import Count
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import Certificate
from tests.faults.conftest import LEASE_SECONDS, ROOT, figure, wait_for
from tests.faults.flows import certificate_problems, decided, orphan_files
from workflows.flows import InspectionFlow

# 100 as the issue measures it; fewer (PIF_FAULTS_CONSIGNMENTS) to try the suite on a busy machine
CONSIGNMENTS = int(os.environ.get("PIF_FAULTS_CONSIGNMENTS", "100"))
# the worker is killed once this many jobs are done and one runs: early, midway and late in the backlog
KILL_AFTER_DONE = tuple(CONSIGNMENTS * share // 100 for share in (5, 35, 65))
KILLS = len(KILL_AFTER_DONE)
DEADLINE = 180  # seconds: every job done within 3 minutes of the last decision


def _jobs(consignments):
    return Task.objects.filter(
        process__artifact_object_id__in=[c.pk for c in consignments], flow_task=InspectionFlow.issue_certificate
    )


def test_worker_sigkilled_three_times_while_certificate_jobs_run(stack, people):
    kills: list[dict] = []

    def killer():
        """While the jobs run: SIGKILL the worker (with its pool) while certificate jobs run, early, midway and
        late in the backlog, and restart it (as systemd or Kubernetes would)."""
        try:
            jobs = Task.objects.filter(flow_task=InspectionFlow.issue_certificate)
            for done_before in KILL_AFTER_DONE:
                running = wait_for(
                    lambda: (
                        jobs.filter(status=STATUS.DONE).count() >= done_before  # noqa: B023
                        and jobs.filter(status=STATUS.STARTED).count()
                    ),
                    timeout=DEADLINE + 120,
                    interval=0.1,
                )
                if not running:
                    return
                stack.worker().kill()
                kills.append({"at": time.monotonic(), "started_jobs": running})
                time.sleep(1)
                stack.worker_start()
        finally:
            connection.close()

    thread = threading.Thread(target=killer)
    began = time.monotonic()
    thread.start()
    consignments = decided(people, CONSIGNMENTS)
    decisions_done = time.monotonic()
    figure(f"{CONSIGNMENTS} consignments submitted and decided in-process", f"{decisions_done - began:.1f} s")

    jobs = _jobs(consignments)
    finished = wait_for(lambda: jobs.filter(status=STATUS.DONE).count() == CONSIGNMENTS, timeout=DEADLINE, interval=1)
    all_done = time.monotonic()
    thread.join(timeout=30)
    counts = dict(jobs.values_list("status").annotate(n=Count("pk")))
    attempts = [(job.data or {}).get("attempts", 0) for job in jobs]
    orphans = orphan_files(stack.var / "private")
    figure("worker kills (jobs STARTED at each)", [k["started_jobs"] for k in kills])
    figure("jobs by status", counts)
    figure("job attempts (1 / 2 / 3+)", [attempts.count(1), attempts.count(2), sum(a >= 3 for a in attempts)])
    figure("every job done, seconds after the last decision", f"{all_done - decisions_done:.1f}")
    if kills:
        figure("every job done, seconds after the last kill", f"{all_done - kills[-1]['at']:.1f}")
    figure("lease (PIF_JOB_LEASE_SECONDS)", LEASE_SECONDS)
    figure("orphan files (a job killed before its commit)", len(orphans))

    assert len(kills) == KILLS, f"only {len(kills)} kills: the jobs ran out before"
    assert finished, f"not every job done within {DEADLINE} s: {counts}"
    assert certificate_problems(consignments) == []
    # Each kill can leave at most the PDF of the jobs it interrupted. The sweep beat runs daily (here as if its
    # grace period had passed) deletes exactly those, and no file a row records.
    assert len(orphans) <= sum(k["started_jobs"] for k in kills), orphans
    sweep = (
        "from datetime import timedelta; from django.conf import settings; from django.utils import timezone; "
        "from inspection.services.files import files_unrecorded_delete; "
        "later = timezone.now() + timedelta(seconds=settings.PIF_FILE_SWEEP_GRACE_SECONDS + 1); "
        "print('\\n'.join(files_unrecorded_delete(now=later)))"
    )
    swept = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "shell", "--no-imports", "-c", sweep],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(swept.stdout.split()) == orphans, swept.stdout
    assert orphan_files(stack.var / "private") == []
    assert certificate_problems(consignments) == []
    recorded = Certificate.objects.filter(consignment__in=consignments).values_list("file", flat=True)
    assert [name for name in recorded if not (stack.var / "private" / name).is_file()] == []
