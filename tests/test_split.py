"""Splitting a consignment: the certifying officer divides a checked consignment into parts, each a CHED numbered
after it with its own decision (part accepted, part refused and destroyed). Over HTTP, as the officer's system,
the staff's task pages and the importer do it."""

import pytest
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditEvent, Consignment
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_ched_boxes import _label, _pdf_text
from tests.test_workflow_paths import (
    ACCEPT,
    _do,
    _documentary_ok,
    _rates,
    _refuse,
    _run_certificate_job,
    _submit,
)
from workflows.flows import InspectionFlow
from workflows.models import InspectionProcess

pytestmark = pytest.mark.django_db

MANGOES = {
    "cn_code": "08045000",
    "description": "Mangues fraîches",
    "species": "Mangifera indica",
    "net_weight_kg": "1000.000",
    "packages": 100,
    "package_type": "CT",
}
AVOCADOS = {**MANGOES, "cn_code": "08044000", "description": "Avocats", "species": "Persea americana"}


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _split(user, consignment, parts):
    return api_client_for(user).post(
        f"/api/v1/consignments/{consignment.reference}/split/", {"parts": parts}, format="json"
    )


def _awaiting_decision(importer, inspector, *, lines=(MANGOES,)):
    _rates("08045000", 0, 0)
    _rates("08044000", 0, 0)
    consignment = _submit(importer, commodities=[dict(line) for line in lines])
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    assert consignment.status == "awaiting_decision"
    return consignment


HALVES = [
    {"lines": [{"line": 1, "net_weight_kg": "700", "packages": 70}]},
    {"lines": [{"line": 1, "net_weight_kg": "300", "packages": 30}]},
]


def test_split_part_accepted_part_refused_and_destroyed(importer, inspector, officer, supervisor):
    parent = _awaiting_decision(importer, inspector)
    response = _split(officer, parent, HALVES)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "split"
    first, second = response.json()["parts"]
    assert (first, second) == (f"{parent.reference}.1", f"{parent.reference}.2")
    assert InspectionProcess.objects.get(artifact_object_id=parent.pk).status == "CANCELED"

    good, bad = Consignment.objects.get(reference=first), Consignment.objects.get(reference=second)
    assert good.status == bad.status == "awaiting_decision"
    assert [(str(line.net_weight_kg), line.packages) for line in good.lines.all()] == [("700.000", 70)]
    _do(officer, good, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(good)
    assert good.status == "accepted"
    assert good.certificates.filter(kind="ched").exists()
    # its CHED names the split consignment in II.1 and prints the checks done on it
    text = _pdf_text(good, good.decisions.get())
    assert f"{_label('previous_ched')} {parent.reference}" in text
    assert f"{_label('documentary_check')} Satisfaisant / Satisfactory" in text

    _do(officer, bad, InspectionFlow.decide, _refuse())
    _do(supervisor, bad, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    _run_certificate_job(bad)
    _do(inspector, bad, InspectionFlow.follow_up, {"outcome": "destroyed", "evidence": "Incinerated, certificate 118"})
    assert bad.status == "closed"

    detail = api_client_for(importer).get(f"/api/v1/consignments/{first}/").json()
    assert detail["split_from"] == parent.reference and detail["status"] == "accepted"
    event = AuditEvent.objects.get(consignment=parent, action="consignment.split")
    assert event.actor == officer and set(event.data["parts"]) == {first, second}


def test_whole_lines_go_to_a_part_without_quantities(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector, lines=(MANGOES, AVOCADOS))
    response = _split(officer, parent, [{"lines": [{"line": 1}]}, {"lines": [{"line": 2}]}])
    assert response.status_code == 201, response.json()
    part = Consignment.objects.get(reference=f"{parent.reference}.2")
    assert list(part.lines.values_list("cn_code", flat=True)) == ["08044000"]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            [
                {"lines": [{"line": 1, "net_weight_kg": "700", "packages": 70}]},
                {"lines": [{"line": 1, "net_weight_kg": "400", "packages": 30}]},
            ],
            "more than",
        ),
        (
            [
                {"lines": [{"line": 1, "net_weight_kg": "700", "packages": 70}]},
                {"lines": [{"line": 1, "net_weight_kg": "200", "packages": 30}]},
            ],
            "less than",
        ),
        ([{"lines": [{"line": 1}]}, {"lines": [{"line": 1}]}], "more than"),
    ],
)
def test_parts_must_add_up_to_the_consignment(importer, inspector, officer, parts, message):
    parent = _awaiting_decision(importer, inspector)
    response = _split(officer, parent, parts)
    assert response.status_code == 400
    assert message in str(response.json()["parts"])
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision" and not parent.subsequent.exists()


@pytest.mark.parametrize(
    "parts",
    [
        [{"lines": [{"line": 1}]}],  # one part is no split
        [{"lines": [{"line": 1}]}, {"lines": []}],
        [{"lines": [{"line": 1}]}, {"lines": [{"line": 2}]}],  # no such line
        [{"lines": [{"line": 0}]}, {"lines": [{"line": 1}]}],
        [{"lines": [{"line": 1, "net_weight_kg": "-5"}]}, {"lines": [{"line": 1}]}],
        [{"lines": [{"line": 1, "packages": 0}]}, {"lines": [{"line": 1}]}],
        [{"lines": [{"line": "one"}]}, {"lines": [{"line": 1}]}],
        "not a list",
    ],
)
def test_a_bad_split_is_a_400_naming_the_field_and_nothing_changes(importer, inspector, officer, parts):
    parent = _awaiting_decision(importer, inspector)
    count = Consignment.objects.count()
    response = _split(officer, parent, parts)
    assert response.status_code == 400, response.json()
    assert "parts" in response.json()
    assert Consignment.objects.count() == count
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision"


def test_a_line_twice_in_a_part_is_a_400(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    parts = [{"lines": [{"line": 1, "net_weight_kg": "500", "packages": 50}] * 2}, {"lines": [{"line": 1}]}]
    assert _split(officer, parent, parts).status_code == 400


def test_no_split_before_the_checks_are_done_or_after_the_decision(importer, inspector, officer):
    _rates("08045000", 0, 0)
    submitted = _submit(importer)
    assert _split(officer, submitted, HALVES).status_code == 409
    decided = _awaiting_decision(importer, inspector)
    _do(officer, decided, InspectionFlow.decide, ACCEPT)
    response = _split(officer, decided, HALVES)
    assert response.status_code == 409 and "before its decision" in response.json()["detail"]


def test_a_split_consignment_is_not_split_again_nor_replaced(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    assert _split(officer, parent, HALVES).status_code == 201
    assert _split(officer, parent, HALVES).status_code == 409
    response = api_client_for(importer).post(
        f"/api/v1/consignments/{parent.reference}/replace/", part_one(as_json=True), format="json"
    )
    assert response.status_code == 409


def test_only_a_certifying_officer_splits(importer, inspector, supervisor, officer):
    parent = _awaiting_decision(importer, inspector)
    assert _split(importer, parent, HALVES).status_code == 403
    assert _split(inspector, parent, HALVES).status_code == 403
    assert _split(supervisor, parent, HALVES).status_code == 403
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision"


def test_another_company_sees_neither_the_consignment_nor_its_parts(importer, other_importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    assert _split(other_importer, parent, HALVES).status_code == 404
    _split(officer, parent, HALVES)
    other = api_client_for(other_importer)
    assert other.get(f"/api/v1/consignments/{parent.reference}.1/").status_code == 404
    assert other.get("/api/v1/consignments/", {"reference": parent.reference}).json()["count"] == 0
    # the importer finds the parts by the consignment's number
    own = api_client_for(importer).get("/api/v1/consignments/", {"reference": parent.reference}).json()
    assert own["count"] == 3


def test_the_split_is_shown_on_the_portal_and_the_staff_task_page(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    _split(officer, parent, HALVES)
    client = Client()
    client.force_login(importer)
    page = client.get(f"/consignments/{parent.reference}/").content.decode()
    assert f"{parent.reference}.1" in page and f"{parent.reference}.2" in page
    page = client.get(f"/consignments/{parent.reference}.1/").content.decode()
    assert parent.reference in page
    client.force_login(officer)
    task = Task.objects.get(
        process__artifact_object_id=Consignment.objects.get(reference=f"{parent.reference}.1").pk,
        flow_task=InspectionFlow.decide,
        status=STATUS.NEW,
    )
    client.post(task.reverse("assign"))
    page = client.get(task.reverse("execute")).content.decode()
    assert parent.reference in page


def test_the_demo_shows_a_split_and_a_replaced_ched(settings):
    import os

    from django.core.management import call_command

    settings.DEBUG = True
    call_command("demo", consignments=10, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("demo", consignments=10, stdout=open(os.devnull, "w"))  # noqa: SIM115  (safe twice)
    [split] = Consignment.objects.filter(status="split")
    accepted, destroyed = split.subsequent.order_by("pk")
    assert accepted.status == "accepted" and destroyed.status == "closed"
    assert destroyed.follow_up.outcome == "destroyed"
    [replaced] = Consignment.objects.filter(status="replaced")
    assert replaced.subsequent.get().status == "submitted"


def test_the_officer_splits_in_two_from_the_staff_page(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector, lines=(MANGOES, AVOCADOS))
    client = Client()
    client.force_login(officer)
    task = Task.objects.get(process__artifact_object_id=parent.pk, flow_task=InspectionFlow.decide, status=STATUS.NEW)
    client.post(task.reverse("assign"))
    assert f"/consignments/{parent.reference}/split/" in client.get(task.reverse("execute")).content.decode()
    page = client.get(f"/consignments/{parent.reference}/split/")
    assert page.status_code == 200
    # the avocados whole and 250 kg (25 cartons) of the mangoes go to the second part
    form = {
        "line_1_net_weight_kg": "250",
        "line_1_packages": "25",
        "line_2_net_weight_kg": "1000",
        "line_2_packages": "100",
    }
    response = client.post(f"/consignments/{parent.reference}/split/", form)
    assert response.status_code == 302
    first, second = (Consignment.objects.get(reference=f"{parent.reference}.{n}") for n in (1, 2))
    assert list(first.lines.values_list("cn_code", "net_weight_kg", "packages")) == [("08045000", 750, 75)]
    assert list(second.lines.values_list("cn_code", "net_weight_kg", "packages")) == [
        ("08045000", 250, 25),
        ("08044000", 1000, 100),
    ]


def test_the_staff_split_page_shows_why_a_split_is_refused(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    response = client.post(
        f"/consignments/{parent.reference}/split/", {"line_1_net_weight_kg": "abc", "line_1_packages": "5"}, follow=True
    )
    assert "Give a number." in response.content.decode()
    response = client.post(
        f"/consignments/{parent.reference}/split/", {"line_1_net_weight_kg": "2000", "line_1_packages": "50"}
    )
    assert response.status_code == 200 and "Give a quantity above zero." in response.content.decode()
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision"


def test_the_staff_split_page_is_for_certifying_officers(importer, other_importer, inspector):
    parent = _awaiting_decision(importer, inspector)
    for user in (importer, inspector, other_importer):
        client = Client()
        client.force_login(user)
        assert client.get(f"/consignments/{parent.reference}/split/").status_code == 404


def test_a_part_is_not_accepted_when_the_split_consignments_checks_forbid_it(importer, inspector, officer):
    from inspection.errors import DomainInvalid
    from inspection.services.decisions import decision_record

    _rates("08045000", 0, 0)
    parent = _submit(importer, commodities=[dict(MANGOES)])
    failed = {**_documentary_ok(parent), "result": "not_satisfactory", "reason": "Phytosanitary certificate forged"}
    _do(inspector, parent, InspectionFlow.documentary_check, failed)
    assert parent.status == "awaiting_decision"
    response = _split(officer, parent, HALVES)
    assert response.status_code == 201, response.json()
    part = Consignment.objects.get(reference=f"{parent.reference}.1")
    with pytest.raises(DomainInvalid) as refused:
        decision_record(actor=officer, consignment=part, code=ACCEPT["code"])
    assert "documentary check was not satisfactory" in str(refused.value.errors["code"])
    # the officer's task page offers only a refusal, and an acceptance posted anyway is refused
    client = Client()
    client.force_login(officer)
    task = Task.objects.get(process__artifact_object_id=part.pk, flow_task=InspectionFlow.decide, status=STATUS.NEW)
    client.post(task.reverse("assign"))
    assert client.post(task.reverse("execute"), ACCEPT).status_code == 200
    part.refresh_from_db()
    assert part.status == "awaiting_decision" and not part.decisions.exists()


def test_a_sample_result_late_or_awaited_holds_the_split(importer, inspector, officer):
    from inspection.models import Sample
    from tests.test_workflow_paths import _released_pending

    parent = _released_pending(importer, inspector)
    assert _split(officer, parent, HALVES).status_code == 409
    Sample.objects.filter(consignment=parent).update(status=Sample.Status.LATE)
    response = _split(officer, parent, HALVES)
    assert response.status_code == 409 and "awaits its laboratory result" in response.json()["detail"]
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision" and not parent.subsequent.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("NaN", "Give a number."),
        ("Infinity", "Give a number."),
        ("1e999999999", "Give at most 999999999.999."),
        ("1000000000", "Give at most 999999999.999."),
        ("0.0001", "Give the weight to the gram (3 decimals at most)."),
    ],
)
def test_the_staff_split_page_refuses_a_weight_that_is_no_finite_number(importer, inspector, officer, typed, message):
    parent = _awaiting_decision(importer, inspector)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    form = {"line_1_net_weight_kg": typed, "line_1_packages": "50"}
    response = client.post(f"/consignments/{parent.reference}/split/", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    parent.refresh_from_db()
    assert parent.status == "awaiting_decision" and not parent.subsequent.exists()


@pytest.mark.parametrize("packages", ["2.5", "1e99", "NaN"])
def test_a_count_is_a_whole_number_within_its_column(importer, inspector, officer, packages):
    from inspection.errors import DomainInvalid
    from inspection.services.split import consignment_split

    parent = _awaiting_decision(importer, inspector)
    parts = [{"lines": [{"line": 1, "net_weight_kg": "500", "packages": packages}]}, {"lines": [{"line": 1}]}]
    with pytest.raises(DomainInvalid) as refused:
        consignment_split(actor=officer, consignment=parent, parts=parts)
    assert "parts.0.lines.0.packages" in refused.value.errors


def test_split_in_two_keeps_the_rest_in_decimal(importer, inspector):
    from decimal import Decimal

    from inspection.services.split import split_in_two

    parent = _awaiting_decision(importer, inspector, lines=(MANGOES, AVOCADOS))
    parts = split_in_two(parent, {1: {"net_weight_kg": "0.1", "packages": "1"}, 2: {"net_weight_kg": "1000"}})
    assert parts == [
        {"lines": [{"line": 1, "net_weight_kg": Decimal("999.900"), "packages": 99}, {"line": 2, "net_weight_kg": 0}]},
        {"lines": [{"line": 1, "net_weight_kg": "0.1", "packages": "1"}, {"line": 2, "net_weight_kg": "1000"}]},
    ]


def test_a_part_is_not_split_again(importer, inspector, officer):
    parent = _awaiting_decision(importer, inspector)
    assert _split(officer, parent, HALVES).status_code == 201
    part = Consignment.objects.get(reference=f"{parent.reference}.1")
    response = _split(officer, part, [{"lines": [{"line": 1, "net_weight_kg": "350", "packages": 35}]}] * 2)
    assert response.status_code == 409 and "a part is not split again" in response.json()["detail"]
    assert not part.subsequent.exists()


def test_the_flow_lock_is_taken_before_the_consignment_row(importer, inspector, officer):
    """As a task completion: the process (the flow lock) first, then the consignment (see test_replacement)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inspection.services.split import consignment_split
    from tests.test_replacement import _process_reads, _row_reads

    parent = _awaiting_decision(importer, inspector)
    parts = HALVES
    with CaptureQueriesContext(connection) as queries:
        consignment_split(actor=officer, consignment=parent, parts=parts)
    process_reads = _process_reads(queries.captured_queries, parent)
    consignment_reads = _row_reads(queries.captured_queries, "inspection_consignment", parent.pk)
    assert process_reads and consignment_reads
    assert process_reads[0] < consignment_reads[0], "the consignment's row was read before the flow lock"


def test_the_importer_is_told_of_the_split_with_its_parts(importer, inspector, officer, mailoutbox):
    from inspection.models import Notification, WebhookDelivery
    from inspection.services.notifications import notification_deliver

    importer.email = "importer@example.com"
    importer.save(update_fields=["email"])
    parent = _awaiting_decision(importer, inspector)
    operator = parent.operator
    operator.webhook_url = "https://hooks.example.com/pif"
    operator.save(update_fields=["webhook_url"])
    response = _split(officer, parent, HALVES)
    assert response.status_code == 201, response.json()
    first, second = response.json()["parts"]

    notification = Notification.objects.get(consignment=parent, kind="split", recipient=importer)
    assert [part["reference"] for part in notification.context["parts"]] == [first, second]
    delivery = WebhookDelivery.objects.get(consignment=parent, kind="split")
    assert [part["reference"] for part in delivery.payload["parts"]] == [first, second]
    assert delivery.payload["parts"][0]["url"].startswith("http")  # absolute, as the payload's own `url`
    mailoutbox.clear()
    assert notification_deliver(notification_id=notification.pk)
    (mail,) = mailoutbox
    assert mail.subject == f"Lot scindé / Consignment split: {parent.reference}"
    assert f"- {first} : http" in mail.body and f"- {second}: http" in mail.body
    assert f"/consignments/{first}/" in mail.body


def test_a_user_who_wants_no_decision_emails_hears_nothing_of_a_split(importer, inspector, officer):
    from inspection.models import Membership, Notification

    importer.email = "importer@example.com"
    importer.save(update_fields=["email"])
    Membership.objects.filter(user=importer).update(notification_kinds=["submitted"])
    parent = _awaiting_decision(importer, inspector)
    assert _split(officer, parent, HALVES).status_code == 201
    assert not Notification.objects.filter(consignment=parent, kind="split").exists()


def test_traces_hears_of_a_split_once(importer, inspector, officer, settings):
    from inspection.models import TracesExchange

    settings.PIF_TRACES_TRANSPORT = "inspection.traces.LocalTracesDouble"
    parent = _awaiting_decision(importer, inspector)
    assert _split(officer, parent, HALVES).status_code == 201
    assert list(TracesExchange.objects.filter(consignment=parent, kind="split").values_list("kind", flat=True)) == [
        "split"
    ]
