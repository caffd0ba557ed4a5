"""A task form sent twice under one idempotency key (a tablet that lost the answer and sends again) is
applied once; the second copy is sent where the first went."""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from inspection.models import AuditEvent, Consignment, DocumentaryCheck
from tests.test_workflow_paths import _documentary_ok, _open_task, _rates, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _claimed(user, consignment):
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert client.post(task.reverse("assign")).status_code == 302
    return client, task


def test_a_form_sent_twice_with_its_key_is_applied_once(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    client, task = _claimed(inspector, consignment)
    form = {**_documentary_ok(consignment), "idempotency_key": str(uuid.uuid4())}

    first = client.post(task.reverse("execute"), form)
    assert first.status_code == 302
    again = client.post(task.reverse("execute"), form)

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert "not applied a second time" in " ".join(str(m) for m in get_messages(again.wsgi_request))
    assert DocumentaryCheck.objects.filter(consignment=consignment).count() == 1
    assert AuditEvent.objects.filter(consignment=consignment, action="documentary_check.recorded").count() == 1
    assert Consignment.objects.get(pk=consignment.pk).status == "awaiting_decision"


def test_another_key_or_another_user_on_a_finished_task_is_refused(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    client, task = _claimed(inspector, consignment)
    form = {**_documentary_ok(consignment), "idempotency_key": str(uuid.uuid4())}
    assert client.post(task.reverse("execute"), form).status_code == 302

    other_key = {**form, "idempotency_key": str(uuid.uuid4())}
    assert client.post(task.reverse("execute"), other_key).status_code == 403
    assert client.post(task.reverse("execute"), {**form, "idempotency_key": "not-a-uuid"}).status_code == 403

    colleague = Client()
    colleague.force_login(type(inspector).objects.create_user("ines2", password="pw"))
    assert colleague.post(task.reverse("execute"), form).status_code == 403
    assert DocumentaryCheck.objects.filter(consignment=consignment).count() == 1


def test_a_refused_form_keeps_its_key_and_can_be_corrected(importer, inspector):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    client, task = _claimed(inspector, consignment)
    key = str(uuid.uuid4())
    refused = client.post(
        task.reverse("execute"), {**_documentary_ok(consignment), "result": "not_satisfactory", "idempotency_key": key}
    )
    assert refused.status_code == 200  # the form again, with the reason asked for
    assert f'value="{key}"' in refused.content.decode()
    assert not DocumentaryCheck.objects.filter(consignment=consignment).exists()

    corrected = client.post(task.reverse("execute"), {**_documentary_ok(consignment), "idempotency_key": key})
    assert corrected.status_code == 302
    assert DocumentaryCheck.objects.filter(consignment=consignment).count() == 1


def test_the_refusal_reasons_are_drawn_as_checkboxes_with_a_search(importer, inspector, officer):
    from tests.test_workflow_paths import _do

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    task = _open_task(consignment, InspectionFlow.decide)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer)
    html = client.post(task.reverse("assign"), {"_continue": "1"}, follow=True).content.decode()
    assert 'class="pif-picker__search"' in html
    assert 'type="checkbox" name="reasons" value="AbsenceInvalidCertificate"' in html
    assert "vf-field-checkbox-select" not in html
