"""The goods' arrival at the post is a recorded fact: staff record it from the day page, identity and physical
checks wait for it (Regulation (EU) 2017/625 art. 49(1)), the documentary check's deadline follows the
arrival, and the dashboard's lead time counts from it, never negative."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.dashboard import Period, lead_times
from inspection.errors import DomainInvalid, NotPermitted, TransitionNotAllowed
from inspection.models import AuditEvent, Consignment, IdentityCheck, PhysicalCheck
from inspection.services.consignments import consignment_arrival_confirm, consignment_arrival_record
from tests.factories import arrival_in, goods_arrived
from tests.test_workflow_paths import ACCEPT, IDENTITY_OK, _do, _documentary_ok, _open_task, _rates, _submit
from workflows.flows import InspectionFlow
from workflows.tasks import workflow_timers_fire

pytestmark = pytest.mark.django_db

NOT_ARRIVED = "The goods have not arrived at the post: record their arrival first."


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _arriving_today(importer, hour=11):
    consignment = _submit(importer)
    Consignment.objects.filter(pk=consignment.pk).update(expected_arrival=arrival_in(0, hour))
    consignment.refresh_from_db()
    return consignment


def _arrived_button(consignment):
    return f'action="/workflow/arrivals/{consignment.pk}/arrived/"'


def _deadline(consignment):
    return Task.objects.get(
        process__artifact_object_id=consignment.pk,
        flow_task_type="TIMER",
        previous__flow_task=InspectionFlow.documentary_check,
    )


# ---- recording the arrival, over HTTP as staff do it


def test_staff_tap_goods_arrived_on_the_day_page_and_it_is_audited(importer, inspector):
    _rates("08045000", 100, 100)
    consignment = _arriving_today(importer)
    client = _client(inspector)
    day = client.get("/workflow/today/").content.decode()
    assert "Goods not arrived yet" in day and _arrived_button(consignment) in day

    response = client.post(f"/workflow/arrivals/{consignment.pk}/arrived/", follow=True)

    page = response.content.decode()
    assert f"Arrival of {consignment.reference} recorded: its checks can start." in page
    assert "Goods arrived at" in page and _arrived_button(consignment) not in page
    consignment.refresh_from_db()
    assert consignment.arrived_at is not None and consignment.arrived_at <= timezone.now()
    event = AuditEvent.objects.get(consignment=consignment, action="consignment.arrived")
    assert event.actor == inspector and event.data["arrived_at"] == consignment.arrived_at.isoformat()


def test_recording_an_arrival_twice_says_when_and_changes_nothing(importer, inspector):
    consignment = _arriving_today(importer)
    client = _client(inspector)
    client.post(f"/workflow/arrivals/{consignment.pk}/arrived/")
    consignment.refresh_from_db()
    first = consignment.arrived_at

    page = client.post(f"/workflow/arrivals/{consignment.pk}/arrived/", follow=True).content.decode()

    assert "The arrival of these goods was already recorded, at" in page
    consignment.refresh_from_db()
    assert consignment.arrived_at == first
    assert AuditEvent.objects.filter(consignment=consignment, action="consignment.arrived").count() == 1


def test_only_staff_record_an_arrival_by_post_only(importer, inspector):
    consignment = _arriving_today(importer)
    assert _client(importer).post(f"/workflow/arrivals/{consignment.pk}/arrived/").status_code == 403
    assert _client(inspector).get(f"/workflow/arrivals/{consignment.pk}/arrived/").status_code == 405
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(inspector)
    assert csrf.post(f"/workflow/arrivals/{consignment.pk}/arrived/").status_code == 403
    consignment.refresh_from_db()
    assert consignment.arrived_at is None
    assert not AuditEvent.objects.filter(action="consignment.arrived").exists()
    with pytest.raises(NotPermitted):
        consignment_arrival_record(actor=importer, consignment=consignment, arrived_at=timezone.now())


def test_a_decided_consignment_cannot_be_recorded_as_arrived(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _arriving_today(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)

    page = _client(inspector).post(f"/workflow/arrivals/{consignment.pk}/arrived/", follow=True).content.decode()

    assert "This consignment is already decided: its arrival can no longer be recorded." in page
    consignment.refresh_from_db()
    assert consignment.arrived_at is None


def test_an_arrival_is_neither_in_the_future_nor_before_the_submit(importer, inspector):
    consignment = _submit(importer)
    for arrived_at, message in (
        (timezone.now() + datetime.timedelta(hours=1), "The arrival cannot be in the future."),
        (consignment.submitted_at - datetime.timedelta(minutes=1), "before the consignment was submitted"),
    ):
        with pytest.raises(DomainInvalid) as refused:
            consignment_arrival_record(actor=inspector, consignment=consignment, arrived_at=arrived_at)
        assert message in refused.value.errors["arrived_at"][0]
    consignment.refresh_from_db()
    assert consignment.arrived_at is None

    # a tablet's clock a minute ahead is now, so that no check ever precedes the recorded arrival
    before = timezone.now()
    consignment_arrival_record(
        actor=inspector, consignment=consignment, arrived_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    assert before <= consignment.arrived_at <= timezone.now()


# ---- identity and physical checks wait for the arrival


def test_the_identity_check_form_refuses_goods_not_arrived_and_stores_nothing(importer, inspector):
    _rates("08045000", 100, 100)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    task = _open_task(consignment, InspectionFlow.identity_check)
    client = _client(inspector)
    assert client.post(task.reverse("assign")).status_code == 302

    response = client.post(task.reverse("execute"), IDENTITY_OK)

    assert response.status_code == 200 and NOT_ARRIVED in response.content.decode()
    assert not IdentityCheck.objects.exists()
    assert _open_task(consignment, InspectionFlow.identity_check).pk == task.pk  # still to do

    goods_arrived(consignment, inspector)
    assert client.post(task.reverse("execute"), IDENTITY_OK).status_code == 302
    assert IdentityCheck.objects.filter(consignment=consignment).exists()


def test_the_physical_check_form_refuses_goods_not_arrived_and_stores_nothing(importer, inspector):
    from inspection.models import CheckPlan

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    CheckPlan.objects.filter(consignment=consignment).update(identity_selected=False, physical_selected=True)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    task = _open_task(consignment, InspectionFlow.physical_check)
    client = _client(inspector)
    client.post(task.reverse("assign"))

    response = client.post(
        task.reverse("execute"), {"result": "satisfactory", "samples-TOTAL_FORMS": "0", "samples-INITIAL_FORMS": "0"}
    )

    assert response.status_code == 200 and NOT_ARRIVED in response.content.decode()
    assert not PhysicalCheck.objects.exists()
    consignment.refresh_from_db()
    assert consignment.status == "checking"


def test_the_refusal_speaks_french(importer, inspector):
    from django.utils import translation

    from inspection.services.checks import identity_check_record

    consignment = _submit(importer)
    with translation.override("fr"), pytest.raises(TransitionNotAllowed) as refused:
        identity_check_record(
            actor=inspector,
            consignment=consignment,
            seals_as_declared=True,
            goods_as_declared=True,
            result="satisfactory",
        )
    assert refused.value.message == (
        "Les marchandises ne sont pas arrivées au poste : enregistrez d'abord leur arrivée."
    )


# ---- the documentary check's deadline follows the arrival


def test_a_confirmed_later_eta_moves_the_documentary_check_deadline(importer, inspector):
    consignment = _submit(importer)
    later = consignment.expected_arrival + datetime.timedelta(days=2)

    consignment_arrival_confirm(actor=inspector, consignment=consignment, expected_arrival=later, source="port")

    timer = _deadline(consignment)
    assert timer.status == STATUS.SCHEDULED and timer.scheduled == later - datetime.timedelta(hours=1)


def test_goods_arrived_before_the_documentary_check_make_it_due_now(importer, inspector):
    consignment = _submit(importer)
    assert _deadline(consignment).scheduled > timezone.now() + datetime.timedelta(hours=12)

    goods_arrived(consignment, inspector)

    assert _deadline(consignment).scheduled <= timezone.now()
    workflow_timers_fire()
    assert _deadline(consignment).status == STATUS.DONE
    assert Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check_late
    ).exists()


def test_a_fired_or_cancelled_deadline_is_not_revived(importer, inspector):
    fired = _submit(importer)
    Task.objects.filter(pk=_deadline(fired).pk).update(scheduled=timezone.now())
    workflow_timers_fire()
    done = _submit(importer)
    _do(inspector, done, InspectionFlow.documentary_check, _documentary_ok(done))
    before = {c.pk: (_deadline(c).status, _deadline(c).scheduled) for c in (fired, done)}

    consignment_arrival_confirm(actor=inspector, consignment=fired, expected_arrival=arrival_in(3), source="port")
    goods_arrived(done, inspector)  # its documentary check is done: awaiting the decision

    assert {c.pk: (_deadline(c).status, _deadline(c).scheduled) for c in (fired, done)} == before
    assert before[fired.pk][0] == STATUS.DONE and before[done.pk][0] == STATUS.CANCELED


# ---- lead times


def test_the_lead_time_on_the_demo_pattern_is_not_negative(importer, inspector, officer):
    """The demo's pattern: submitted with an ETA days ahead, checked and decided today. The goods are
    recorded as arrived before the checks, and the figure counts from there."""
    _rates("08045000", 100, 100)
    checked = _submit(importer)  # expected in 7 days
    _do(inspector, checked, InspectionFlow.documentary_check, _documentary_ok(checked))
    _do(inspector, checked, InspectionFlow.identity_check, IDENTITY_OK)  # records the arrival first
    _do(
        inspector,
        checked,
        InspectionFlow.physical_check,
        {"result": "satisfactory", "samples-TOTAL_FORMS": "0", "samples-INITIAL_FORMS": "0"},
    )
    _do(officer, checked, InspectionFlow.decide, ACCEPT)
    _rates("08045000", 0, 0)
    on_documents = _submit(importer)  # expected in 7 days, decided before its goods come
    _do(inspector, on_documents, InspectionFlow.documentary_check, _documentary_ok(on_documents))
    _do(officer, on_documents, InspectionFlow.decide, ACCEPT)

    today = timezone.localdate()
    figures = lead_times(Period(today, today + datetime.timedelta(days=1)))

    assert figures["n"] == 1 and figures["without_arrival"] == 1
    assert 0 <= figures["median_h"] < 1
    checked.refresh_from_db()
    assert checked.arrived_at <= checked.decisions.get().decided_at < checked.expected_arrival
