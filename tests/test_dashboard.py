"""The dashboard's figures match values computed by hand on a known data set, in a constant number of
queries; supervisors reassign and unassign tasks, each audited with a reason."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.status import STATUS

from inspection.dashboard import Period, dashboard
from inspection.errors import DomainError, NotPermitted
from inspection.models import (
    Analysis,
    AuditEvent,
    CheckPlan,
    Consignment,
    Decision,
    DecisionCode,
    Laboratory,
    LabResult,
    LabResultSubmission,
    Sample,
)
from inspection.services.tasks import task_reassign, task_unassign
from tests.factories import UserFactory
from tests.test_workflow_paths import _open_task, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db
D1, D2 = date(2026, 3, 2), date(2026, 3, 3)


def _at(day: date, hour: int):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour))


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


@pytest.fixture
def known(importer, officer, inspector):
    """Three CHED-PP consignments (origin CR, DO, CR) arrived on D1 at 08:00 (as expected); decided 10 h, 20 h and 30 h
    later (the second refused; the third had an earlier, superseded refusal); physical checks planned at
    50, 50 and 20 % and selected for the first only; two lab results after 2 and 4 days."""
    accept = DecisionCode.objects.get(code="acceptable_for_internal_market")
    refuse = DecisionCode.objects.get(code="non_acceptable")
    consignments = [_submit(importer) for _ in range(3)]
    for c, origin, submitted, (selected, rate), decided_h, code in zip(
        consignments,
        ["CR", "DO", "CR"],
        [_at(D1, 6), _at(D1, 7), _at(D2, 6)],
        [(True, 50), (False, 50), (False, 20)],
        [10, 20, 30],
        [accept, refuse, accept],
        strict=True,
    ):
        Consignment.objects.filter(pk=c.pk).update(
            country_of_origin=origin, submitted_at=submitted, expected_arrival=_at(D1, 8), arrived_at=_at(D1, 8)
        )
        CheckPlan.objects.filter(consignment=c).update(
            physical_selected=selected, physical_rate=rate, planned_at=submitted
        )
        Decision.objects.create(
            consignment=c, code=code, officer=officer, decided_at=_at(D1, 8) + timedelta(hours=decided_h)
        )
    Decision.objects.create(
        consignment=consignments[2], code=refuse, officer=officer, decided_at=_at(D1, 9), superseded=True
    )
    analysis, laboratory = Analysis.objects.first(), Laboratory.objects.first()
    submission = LabResultSubmission.objects.create(lab_user=officer, payload={})
    for n, days in enumerate([2, 4]):
        sample = Sample.objects.create(
            consignment=consignments[0],
            number=f"S{n}",
            analysis=analysis,
            laboratory=laboratory,
            reason="random",
            conservation="chilled",
            detained=True,
            taken_by=inspector,
            taken_at=_at(D1, 9),
            result_due_at=_at(D1, 9) + timedelta(days=3),
        )
        LabResult.objects.create(
            sample=sample,
            submission=submission,
            conclusion="satisfactory",
            received_at=_at(D1, 9) + timedelta(days=days),
            late=days > 3,
        )
    return consignments


def test_the_figures_match_the_hand_computed_values(known, inspector):
    task = _open_task(known[0], InspectionFlow.documentary_check)
    with task.activation() as activation:
        activation.assign(inspector)
    figures = dashboard(Period(D1, D1 + timedelta(days=7)))

    assert [(r["day"], r["n"]) for r in figures["per_day"]] == [(D1, 2), (D2, 1)]
    assert figures["lead_times"] == {"n": 3, "median_h": 20.0, "p90_h": 30.0, "without_arrival": 0}
    assert figures["physical"] == [{"ched_type": "CHED-PP", "n": 3, "selected_pct": 33.3, "planned_pct": 40.0}]
    assert figures["refusals"]["origin"] == [
        {"key": "CR", "n": 2, "refused": 0, "pct": 0.0},
        {"key": "DO", "n": 1, "refused": 1, "pct": 100.0},
    ]
    assert figures["refusals"]["commodity"] == [{"key": "08045000", "n": 3, "refused": 1, "pct": 33.3}]
    [lab] = figures["lab"]
    assert (lab["n"], lab["median_d"], lab["p90_d"], lab["late"]) == (2, 3.0, 4.0, 1)
    assert figures["tasks"]["by_step"] == [{"step": "Documentary check", "ages": [3, 0, 0], "total": 3}]
    assert figures["tasks"]["workload"] == [("ines", 1)]
    # Over a long period the database may read the tables another way (SQLite: not by the period's index).
    assert dashboard(Period(D1 - timedelta(days=200), D1 + timedelta(days=200))) == figures


def test_days_are_local_days_across_a_change_of_utc_offset(importer):
    """In Paris, 29 March 2026 has 23 hours (UTC+1, then UTC+2 from 01:00 UTC)."""
    utc = timezone.get_fixed_timezone(0)
    submitted = [(3, 28, 22, 59), (3, 28, 23, 0), (3, 29, 0, 59), (3, 29, 1, 0), (3, 29, 21, 59), (3, 29, 22, 0)]
    for month, day, hour, minute in submitted:
        c = _submit(importer)
        moment = timezone.datetime(2026, month, day, hour, minute, tzinfo=utc)
        Consignment.objects.filter(pk=c.pk).update(submitted_at=moment)
    with timezone.override("Europe/Paris"):
        for period in [Period(date(2026, 3, 28), date(2026, 3, 30)), Period(date(2025, 12, 1), date(2026, 5, 1))]:
            per_day = [(r["day"], r["n"]) for r in dashboard(period)["per_day"]]
            assert per_day == [(date(2026, 3, 28), 1), (date(2026, 3, 29), 4), (date(2026, 3, 30), 1)]


def test_the_dashboard_page_takes_the_same_queries_with_more_consignments(known, importer, supervisor):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    url = f"/supervision/dashboard/?start={D1}&end={D2}"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        page = client.get(url)
    assert page.status_code == 200 and "CHED-PP" in page.content.decode()
    for _ in range(3):
        _submit(importer)
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before) <= 13  # 12 for the page, 1 for the navigation's permission check


def test_a_bad_period_is_a_clear_400(supervisor):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    response = client.get("/supervision/dashboard/", {"start": D2, "end": D1})
    assert response.status_code == 400 and "after its end" in response.content.decode()


def test_a_supervisor_reassigns_and_unassigns_a_task_with_a_reason(known, inspector, supervisor):
    other = UserFactory(username="ines2", roles=["inspector"])
    task = _open_task(known[0], InspectionFlow.documentary_check)
    task_reassign(actor=supervisor, task_id=task.pk, to_user=inspector, reason="on duty")
    task_reassign(actor=supervisor, task_id=task.pk, to_user=other, reason="ines is ill")
    task.refresh_from_db()
    assert (task.owner, task.status) == (other, STATUS.ASSIGNED)
    task_unassign(actor=supervisor, task_id=task.pk, reason="back to the queue")
    task.refresh_from_db()
    assert (task.owner, task.status) == (None, STATUS.NEW)
    events = AuditEvent.objects.filter(consignment=known[0], action__startswith="task.").order_by("id")
    assert [(e.action, e.data.get("from"), e.data.get("to"), e.data["reason"]) for e in events] == [
        ("task.reassigned", None, "ines", "on duty"),
        ("task.reassigned", "ines", "ines2", "ines is ill"),
        ("task.unassigned", "ines2", None, "back to the queue"),
    ]


def test_reassigning_needs_a_supervisor_a_reason_and_someone_allowed(known, inspector, importer, supervisor):
    task = _open_task(known[0], InspectionFlow.documentary_check)
    with pytest.raises(NotPermitted):
        task_reassign(actor=inspector, task_id=task.pk, to_user=inspector, reason="me")
    with pytest.raises(DomainError):
        task_reassign(actor=supervisor, task_id=task.pk, to_user=inspector, reason="  ")
    with pytest.raises(DomainError):
        task_reassign(actor=supervisor, task_id=task.pk, to_user=importer, reason="why not")
    with pytest.raises(DomainError):
        task_unassign(actor=supervisor, task_id=task.pk, reason="nobody has it")
    assert not AuditEvent.objects.filter(action__startswith="task.").exists()


def test_the_reassign_page(known, inspector, supervisor):
    task = _open_task(known[0], InspectionFlow.documentary_check)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    url = f"/supervision/tasks/{task.pk}/reassign/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"to_user": "", "reason": "x", "reassign": ""}).status_code == 400
    assert client.post(url, {"to_user": inspector.pk, "reason": "on duty", "reassign": ""}).status_code == 302
    task.refresh_from_db()
    assert task.owner == inspector
    inspector_client = Client()
    inspector_client.force_login(inspector)
    assert inspector_client.post(url, {"reason": "mine", "unassign": ""}).status_code == 403
