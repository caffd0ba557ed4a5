"""The exchange with TRACES NT (docs/decisions/0016-traces-exchange.md): what TRACES must hear of a CHED is an
outbox row written in the transaction of the change, carrying the CHED's SPS XML; a Celery task sends it after
commit through the configured transport (here the local double), and TRACES NT's answer becomes the CHED's
TRACES NT number. A failing transport backs off, is given up to a supervisor, who sends it again; a broker down
at commit leaves the row to beat's sweeper. Only the outside is replaced: the broker and worker, TRACES NT."""

import datetime
import re

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from inspection.models import AuditEvent, Consignment, TracesDoubleMessage, TracesExchange
from inspection.services.amendments import consignment_amend
from inspection.services.consignments import consignment_create
from inspection.services.customs import consignment_traces_reference_set
from inspection.services.traces import traces_exchange_queue
from inspection.tasks import deliveries_resend, traces_exchange_send
from inspection.traces import TracesMessage, TracesReceipt
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_replacement import _replace, _under_checks
from tests.test_split import HALVES, _awaiting_decision, _split
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


class TracesDown:
    """A TRACES NT that cannot be reached."""

    def send(self, message: TracesMessage) -> TracesReceipt:
        raise ConnectionError("TRACES NT: connection refused")


class TracesAnswersTaken:
    """A TRACES NT whose answer names a number another CHED already has."""

    def send(self, message: TracesMessage) -> TracesReceipt:
        return TracesReceipt(traces_reference="CHEDPP.FR.2026.0000001")


def _submit(importer, broker, capture, **overrides) -> Consignment:
    with capture(execute=True):
        response = api_client_for(importer).post(
            "/api/v1/consignments/", part_one(as_json=True, **overrides), format="json"
        )
    assert response.status_code == 201, response.content
    return Consignment.objects.get(reference=response.json()["reference"])


def _past_grace():
    TracesExchange.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))


def _due_now():
    TracesExchange.objects.filter(sent_at__isnull=True).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def test_a_submit_is_sent_to_the_double_and_its_traces_number_recorded(
    importer, broker, django_capture_on_commit_callbacks
):
    consignment = _submit(importer, broker, django_capture_on_commit_callbacks)

    [exchange] = TracesExchange.objects.filter(consignment=consignment)
    assert exchange.kind == "submitted" and exchange.sent_at is None
    assert consignment.reference in exchange.xml and "<rsm:SPSCertificate" in exchange.xml
    assert broker.sent("inspection.tasks.traces_exchange_send") == [(exchange.pk,)]
    broker.work()

    exchange.refresh_from_db()
    consignment.refresh_from_db()
    year = timezone.localdate().year
    assert exchange.sent_at is not None and exchange.attempts == 1
    assert consignment.traces_reference == exchange.traces_reference == f"CHEDPP.FR.{year}.0000001"
    [received] = TracesDoubleMessage.objects.all()
    assert received.local_reference == consignment.reference and received.xml == exchange.xml
    event = AuditEvent.objects.get(consignment=consignment, action="traces_reference.recorded")
    assert event.actor is None and event.data["traces_reference"] == consignment.traces_reference
    # TRACES NT's number is the CHED's, as staff would have recorded it: the API and customs read it
    body = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert consignment.traces_reference in str(body)


def test_an_amendment_and_a_decision_follow_under_the_same_traces_number(
    importer, inspector, officer, broker, django_capture_on_commit_callbacks
):
    _rates("08045000", 0, 0)
    consignment = _submit(importer, broker, django_capture_on_commit_callbacks)
    broker.work()
    with django_capture_on_commit_callbacks(execute=True):
        consignment_amend(
            actor=importer, consignment=consignment, changes={"arrival": {"transport_id": "CMA CGM TROPIC 614N"}}
        )
    broker.work()
    with django_capture_on_commit_callbacks(execute=True):
        _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
        _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    with django_capture_on_commit_callbacks(execute=True):
        broker.work()  # the certificate job, which tells the decision
    broker.work()

    exchanges = TracesExchange.objects.filter(consignment=consignment)
    assert {e.kind for e in exchanges} == {"submitted", "amended", "decided"}
    assert all(e.sent_at is not None for e in exchanges), [(e.kind, e.last_error, e.attempts) for e in exchanges]
    amended = TracesExchange.objects.get(consignment=consignment, kind="amended")
    assert "CMA CGM TROPIC 614N" in amended.xml
    decided = TracesExchange.objects.get(consignment=consignment, kind="decided")
    assert "acceptable_for_internal_market" in decided.xml
    assert set(TracesDoubleMessage.objects.values_list("traces_reference", flat=True)) == {
        Consignment.objects.get(pk=consignment.pk).traces_reference
    }
    assert AuditEvent.objects.filter(consignment=consignment, action="traces_reference.recorded").count() == 1


def test_a_submit_that_fails_writes_no_exchange(importer, broker):
    response = api_client_for(importer).post(
        "/api/v1/consignments/", part_one(as_json=True, country_of_origin="ZZ"), format="json"
    )
    assert response.status_code == 400
    assert not TracesExchange.objects.exists() and not broker.queue


def test_a_rolled_back_change_leaves_no_exchange(importer):
    consignment = consignment_create(actor=importer, part_one=part_one())
    before = TracesExchange.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        traces_exchange_queue(consignment=consignment, kinds=["decided"])
        raise RuntimeError("the change fails after its exchange was written")
    assert TracesExchange.objects.count() == before


def test_drafts_national_entries_and_a_switched_off_exchange_send_nothing(importer, settings):
    consignment_create(actor=importer, part_one=part_one(), draft=True)
    national = part_one(country_of_origin="FR", country_of_dispatch="FR")
    national["ched_type"] = "NAT-PP"
    consignment_create(actor=importer, part_one=national)  # not a CHED: never for TRACES NT
    assert not TracesExchange.objects.exists()
    settings.PIF_TRACES_TRANSPORT = ""
    consignment_create(actor=importer, part_one=part_one())
    assert not TracesExchange.objects.exists()


def test_a_message_sent_twice_reaches_the_double_once(importer, broker, django_capture_on_commit_callbacks):
    consignment = _submit(importer, broker, django_capture_on_commit_callbacks)
    [exchange] = TracesExchange.objects.filter(consignment=consignment)
    _past_grace()
    TracesExchange.objects.update(next_attempt_at=None)
    deliveries_resend.run()  # the sweeper's message, besides the first send's
    assert broker.sent("inspection.tasks.traces_exchange_send") == [(exchange.pk,), (exchange.pk,)]
    broker.work()
    assert TracesDoubleMessage.objects.count() == 1
    assert TracesExchange.objects.get(pk=exchange.pk).attempts == 1  # the second send found it sent


def test_failing_transport_backs_off_gives_up_and_a_supervisor_sends_again(
    importer, inspector, supervisor, broker, settings, django_capture_on_commit_callbacks
):
    settings.PIF_DELIVERY_ATTEMPTS = 3
    settings.PIF_TRACES_TRANSPORT = "tests.test_traces_exchange.TracesDown"
    consignment = _submit(importer, broker, django_capture_on_commit_callbacks)
    [exchange] = TracesExchange.objects.filter(consignment=consignment)
    [failure] = [r for r in broker.work() if isinstance(r, Exception)]
    assert isinstance(failure, ConnectionError)
    exchange.refresh_from_db()
    assert exchange.sent_at is None and exchange.attempts == 1 and "connection refused" in exchange.last_error
    assert exchange.next_attempt_at > timezone.now() + datetime.timedelta(seconds=20)  # backoff
    _past_grace()
    assert broker.sent("inspection.tasks.traces_exchange_send") == []
    deliveries_resend.run()
    assert broker.sent("inspection.tasks.traces_exchange_send") == []  # not due yet
    for _attempt in (2, 3):
        _due_now()
        deliveries_resend.run()
        broker.work()
    _due_now()
    deliveries_resend.run()
    assert broker.sent("inspection.tasks.traces_exchange_send") == []  # given up after PIF_DELIVERY_ATTEMPTS
    assert TracesExchange.objects.get(pk=exchange.pk).attempts == 3
    assert Consignment.objects.get(pk=consignment.pk).traces_reference == ""

    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(supervisor)
    page = staff.get("/workflow/incidents/").content.decode()
    retry_url = f"/workflow/incidents/deliveries/traces/{exchange.pk}/retry/"
    assert "TRACES NT" in page and consignment.reference in page and retry_url in page
    staff.force_login(inspector)
    assert staff.post(retry_url, {"reason": "x"}).status_code == 404  # supervisors only
    staff.force_login(supervisor)

    settings.PIF_TRACES_TRANSPORT = "inspection.traces.LocalTracesDouble"
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(retry_url, {"reason": "TRACES NT back"}).status_code == 302
    assert broker.work() == [True]
    assert Consignment.objects.get(pk=consignment.pk).traces_reference.startswith("CHEDPP.FR.")
    event = AuditEvent.objects.get(action="delivery.retried")
    assert event.data["delivery"] == "traces" and event.data["reason"] == "TRACES NT back"


def test_a_broker_down_at_commit_leaves_the_exchange_to_the_sweeper(
    importer, broker, django_capture_on_commit_callbacks
):
    broker.down = True
    consignment = _submit(importer, broker, django_capture_on_commit_callbacks)  # 201 all the same
    [exchange] = TracesExchange.objects.filter(consignment=consignment)
    assert exchange.sent_at is None and exchange.attempts == 0
    broker.down = False
    deliveries_resend.run()
    assert broker.sent("inspection.tasks.traces_exchange_send") == []  # too young: its first send may be on its way
    _past_grace()
    deliveries_resend.run()
    assert broker.sent("inspection.tasks.traces_exchange_send") == [(exchange.pk,)]
    broker.work()
    assert TracesExchange.objects.get(pk=exchange.pk).sent_at is not None
    assert Consignment.objects.get(pk=consignment.pk).traces_reference


def test_an_answer_naming_another_cheds_number_is_kept_on_the_exchange_not_recorded(importer, settings):
    first = consignment_create(actor=importer, part_one=part_one())
    Consignment.objects.filter(pk=first.pk).update(traces_reference="CHEDPP.FR.2026.0000001")
    settings.PIF_TRACES_TRANSPORT = "tests.test_traces_exchange.TracesAnswersTaken"
    second = consignment_create(actor=importer, part_one=part_one())
    exchange = TracesExchange.objects.get(consignment=second)
    assert traces_exchange_send.run(exchange.pk) is True
    exchange.refresh_from_db()
    assert exchange.sent_at is not None and exchange.traces_reference == "CHEDPP.FR.2026.0000001"
    assert "Another CHED already has" in exchange.last_error
    assert Consignment.objects.get(pk=second.pk).traces_reference == ""


class TracesAnswersWhileStaffRecord:
    """A TRACES NT that answers its own number after staff, while the message travelled, recorded another."""

    staff = None

    def send(self, message: TracesMessage) -> TracesReceipt:
        consignment_traces_reference_set(
            actor=self.staff,
            consignment=Consignment.objects.get(reference=message.local_reference),
            traces_reference="CHEDPP.FR.2026.0000777",
        )
        return TracesReceipt(traces_reference="CHEDPP.FR.2026.0000001")


def test_an_answer_never_overwrites_the_number_staff_recorded_meanwhile(importer, inspector, settings, monkeypatch):
    settings.PIF_TRACES_TRANSPORT = "tests.test_traces_exchange.TracesAnswersWhileStaffRecord"
    monkeypatch.setattr(TracesAnswersWhileStaffRecord, "staff", inspector)
    consignment = consignment_create(actor=importer, part_one=part_one())
    exchange = TracesExchange.objects.get(consignment=consignment)
    assert traces_exchange_send.run(exchange.pk) is True
    exchange.refresh_from_db()
    assert exchange.sent_at is not None and exchange.traces_reference == "CHEDPP.FR.2026.0000001"
    assert Consignment.objects.get(pk=consignment.pk).traces_reference == "CHEDPP.FR.2026.0000777"
    assert "CHEDPP.FR.2026.0000001" in exchange.last_error and "CHEDPP.FR.2026.0000777" in exchange.last_error
    recorded = AuditEvent.objects.filter(consignment=consignment, action="traces_reference.recorded")
    assert [event.actor for event in recorded] == [inspector]


def test_recording_a_traces_number_is_the_staff_service_only():
    """No public service writes a TRACES number without checking who asks: the exchange records through the
    staff's rules, privately."""
    from inspection.services import customs

    assert not hasattr(customs, "traces_reference_record")


def _kinds(consignment) -> list[str]:
    return list(TracesExchange.objects.filter(consignment=consignment).order_by("pk").values_list("kind", flat=True))


def _send_all() -> None:
    for pk in TracesExchange.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        assert traces_exchange_send.run(pk) is True


def test_a_replacement_tells_traces_the_old_ched_is_replaced_and_submits_the_new_once(importer, inspector):
    old = _under_checks(importer, inspector)
    _send_all()
    response = _replace(importer, old)
    assert response.status_code == 201, response.content
    new = Consignment.objects.get(reference=response.json()["reference"])

    assert _kinds(old) == ["submitted", "replaced"]
    assert _kinds(new) == ["submitted"]  # `notify`'s, not a second one
    replaced = TracesExchange.objects.get(consignment=old, kind="replaced")
    assert re.search(r"StatusCode[^>]*>replaced<", replaced.xml)
    _send_all()
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.traces_reference and new.traces_reference != old.traces_reference
    assert {m.local_reference for m in TracesDoubleMessage.objects.filter(kind="replaced")} == {old.reference}


def test_a_split_tells_traces_the_ched_is_split_and_submits_each_part(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    _send_all()
    response = _split(officer, parent, HALVES)
    assert response.status_code == 201, response.content
    parts = [Consignment.objects.get(reference=reference) for reference in response.json()["parts"]]

    assert _kinds(parent) == ["submitted", "split"]
    split = TracesExchange.objects.get(consignment=parent, kind="split")
    assert re.search(r"StatusCode[^>]*>split<", split.xml)
    for part in parts:
        assert _kinds(part) == ["submitted"]
        assert part.reference in TracesExchange.objects.get(consignment=part).xml
    _send_all()
    numbers = {Consignment.objects.get(pk=part.pk).traces_reference for part in parts}
    assert len(numbers) == 2 and "" not in numbers


def test_a_refused_split_or_replacement_tells_traces_nothing(importer, inspector, officer):
    consignment = _awaiting_decision(importer, inspector)
    assert _split(officer, consignment, HALVES[:1]).status_code == 400
    assert _replace(importer, consignment, country_of_origin="ZZ").status_code == 400
    assert _kinds(consignment) == ["submitted"]
    assert TracesExchange.objects.count() == 1
