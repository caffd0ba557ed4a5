"""The inspector's home: today's and tomorrow's arrivals at their post with what each needs, their tasks and
the queue by arrival, one tap to claim and open."""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inspection.models import Bcp, Consignment, StaffPost
from tests.factories import arrival_in
from tests.test_workflow_paths import _open_task, _rates, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _arriving(importer, *, days, hour, **overrides):
    consignment = _submit(importer, **overrides)
    Consignment.objects.filter(pk=consignment.pk).update(expected_arrival=arrival_in(days, hour))
    return consignment


def _page(user, **query):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get("/workflow/today/", query)
    assert response.status_code == 200
    return client, response.content.decode()


def test_arrivals_of_today_and_tomorrow_at_the_post_with_their_needs(importer, inspector):
    StaffPost.objects.create(user=inspector, bcp=Bcp.objects.get(code="FRFDF1"))
    _rates("08045000", 0, 100)
    late = _arriving(importer, days=0, hour=16)
    early = _arriving(importer, days=0, hour=7)
    tomorrow = _arriving(importer, days=1, hour=9)
    next_week = _arriving(importer, days=7, hour=9)
    airport = _arriving(importer, days=0, hour=10, ched_type="CHED-A")

    _, html = _page(inspector)
    today_part, tomorrow_part = html.split('id="arrivals-tomorrow"')[0], html.split('id="arrivals-tomorrow"')[1]
    today_part = today_part.split('id="arrivals-today"')[1]
    assert today_part.index(early.reference) < today_part.index(late.reference)  # by arrival time
    assert tomorrow.reference in tomorrow_part.split('id="my-tasks"')[0]
    assert next_week.reference not in today_part and next_week.reference not in tomorrow_part.split('id="my-tasks"')[0]
    assert airport.reference not in today_part  # another post
    assert "Physical" in today_part and "Identity" in today_part  # a physical check brings the identity check
    assert today_part.count("Claim and open") == 2

    _, airport_html = _page(inspector, bcp="FRFDF4")
    assert airport.reference in airport_html.split('id="arrivals-tomorrow"')[0]


def test_one_tap_claims_and_opens_and_the_task_then_reads_open(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _arriving(importer, days=0, hour=11)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client, html = _page(inspector)
    claim = f"{task.reverse('assign')}?back={quote(task.reverse('execute'), safe='')}"
    assert f'action="{claim}"' in html

    response = client.post(claim)
    assert response.url == task.reverse("execute")  # straight to the form
    task.refresh_from_db()
    assert task.owner == inspector

    _, html = _page(inspector)
    my_tasks = html.split('id="my-tasks"')[1].split('id="queue"')[0]
    assert consignment.reference in my_tasks and f'href="{task.reverse("execute")}"' in my_tasks


def test_an_officer_sees_no_check_to_claim_and_a_taken_task_names_its_inspector(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _arriving(importer, days=0, hour=11)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client()
    client.force_login(inspector)
    client.post(task.reverse("assign"))

    _, html = _page(officer)
    assert consignment.reference in html
    assert "Claim and open" not in html
    assert "Taken by" in html


def test_importers_and_anonymous_users_have_no_home_here(importer):
    client = Client()
    assert client.get("/workflow/today/").status_code == 302  # to the login page
    client.force_login(importer)
    assert client.get("/workflow/today/").status_code == 403
    assert client.get("/").url == "/consignments/"


def test_staff_land_on_the_day_at_their_post(inspector):
    client = Client()
    client.force_login(inspector)
    assert client.get("/").url == "/workflow/today/"


def test_the_page_costs_the_same_with_more_arrivals_and_tasks(importer, inspector):
    _rates("08045000", 0, 0)
    _arriving(importer, days=0, hour=8)
    _arriving(importer, days=3, hour=8)
    client, _ = _page(inspector)
    with CaptureQueriesContext(connection) as few:
        client.get("/workflow/today/")
    for hour in range(9, 15):
        _arriving(importer, days=0, hour=hour)
        _arriving(importer, days=3, hour=hour)
    with CaptureQueriesContext(connection) as many:
        client.get("/workflow/today/")
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_post_confirms_an_arrival_time_audited_and_staff_only(importer, inspector):
    from inspection.errors import NotPermitted, TransitionNotAllowed
    from inspection.models import AuditEvent
    from inspection.services.consignments import consignment_arrival_confirm

    consignment = _submit(importer)
    when = arrival_in(0, 15)
    with pytest.raises(NotPermitted):
        consignment_arrival_confirm(actor=importer, consignment=consignment, expected_arrival=when, source="x")
    consignment_arrival_confirm(actor=inspector, consignment=consignment, expected_arrival=when, source="port")
    consignment.refresh_from_db()
    assert consignment.expected_arrival == when
    event = AuditEvent.objects.filter(consignment=consignment, action="arrival.confirmed").get()
    assert event.data["source"] == "port" and event.actor == inspector

    Consignment.objects.filter(pk=consignment.pk).update(status="accepted")
    with pytest.raises(TransitionNotAllowed):
        consignment_arrival_confirm(actor=inspector, consignment=consignment, expected_arrival=when, source="port")


def test_the_second_inspector_to_claim_a_task_is_told_who_has_it(importer, inspector):
    from tests.factories import UserFactory

    _rates("08045000", 0, 0)
    consignment = _arriving(importer, days=0, hour=11)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    first, _ = _page(inspector)
    late, html = _page(UserFactory(username="ines2", roles=["inspector"]))
    claim = f"{task.reverse('assign')}?back={quote(task.reverse('execute'), safe='')}"
    assert f'action="{claim}"' in html  # both saw the task free

    assert first.post(claim).status_code == 302
    refused = late.post(claim)
    assert refused.status_code == 403
    name = inspector.get_full_name() or inspector.username
    assert f"This task has just been taken by {name}." in refused.content.decode()
    again = first.post(claim)  # the winner's double tap
    assert again.status_code == 403
    assert "You have already claimed this task" in again.content.decode()


def test_a_finished_task_opened_again_says_so(importer, inspector):
    from tests.test_workflow_paths import _do, _documentary_ok

    _rates("08045000", 0, 0)
    consignment = _arriving(importer, days=0, hour=11)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    client, _ = _page(inspector)
    response = client.get(task.reverse("execute"))
    assert response.status_code == 403
    assert "This task is already done." in response.content.decode()


def test_a_replaced_or_split_ched_is_no_longer_an_arrival(importer, inspector):
    StaffPost.objects.create(user=inspector, bcp=Bcp.objects.get(code="FRFDF1"))
    _rates("08045000", 0, 0)
    replaced = _arriving(importer, days=0, hour=9)
    split = _arriving(importer, days=0, hour=10)
    expected = _arriving(importer, days=0, hour=11)
    Consignment.objects.filter(pk=replaced.pk).update(status="replaced")
    Consignment.objects.filter(pk=split.pk).update(status="split")
    client, html = _page(inspector)
    arrivals = html.split('id="arrivals-today"')[1].split('id="arrivals-tomorrow"')[0]
    assert expected.reference in arrivals
    assert replaced.reference not in arrivals and split.reference not in arrivals
    assert client.post(f"/workflow/arrivals/{split.pk}/arrived/").status_code == 404
