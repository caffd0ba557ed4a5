"""A replacement CHED: once the checks have started, a corrected Part I is a new CHED that supersedes the old one
(both linked, the old one "replaced" with its inspection stopped, the new one checked again). Over HTTP, as the
importer's system and a certifying officer do it."""

import pytest
from django.db import connection
from django.test import Client
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from inspection.models import AuditEvent, Consignment, ExportApplication
from tests.conftest import api_client_for
from tests.factories import export_application, part_one
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _submit
from workflows.flows import ExportFlow, InspectionFlow
from workflows.models import InspectionProcess

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _replace(user, consignment, body=None, **overrides):
    body = body if body is not None else part_one(as_json=True, **overrides)
    return api_client_for(user).post(f"/api/v1/consignments/{consignment.reference}/replace/", body, format="json")


def _under_checks(importer, inspector, *, identity=0):
    """A CHED whose documentary check is done and whose identity check waits (or, with no identity check,
    awaiting its decision)."""
    _rates("08045000", identity, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    return consignment


def _open_tasks(consignment):
    return Task.objects.filter(process__flow_class=InspectionFlow, process__artifact_object_id=consignment.pk).exclude(
        status__in=[STATUS.DONE, STATUS.CANCELED]
    )


def test_importer_replaces_a_ched_under_checks_and_both_are_linked(importer, inspector):
    old = _under_checks(importer, inspector, identity=100)
    assert old.status == "checking"
    body = part_one(as_json=True, containers=[{"number": "MSCU1234566", "seal": "FX999"}])
    response = _replace(importer, old, body)
    assert response.status_code == 201, response.json()
    new = Consignment.objects.get(reference=response.json()["reference"])
    assert new.reference != old.reference
    assert response.json()["replaces"] == old.reference
    assert response.json()["status"] == "submitted"
    assert response.json()["containers"] == [{"number": "MSCU1234566", "seal": "FX999"}]

    old.refresh_from_db()
    assert old.status == "replaced"
    detail = api_client_for(importer).get(f"/api/v1/consignments/{old.reference}/").json()
    assert detail["replaced_by"] == new.reference and detail["status_label"] == "Replaced"
    # the old inspection is stopped cleanly: no task left open, its process cancelled
    assert not _open_tasks(old).exists()
    assert InspectionProcess.objects.get(flow_class=InspectionFlow, artifact_object_id=old.pk).status == "CANCELED"
    # the new one goes through the checks itself
    assert _open_tasks(new).filter(flow_task=InspectionFlow.documentary_check).exists()
    event = AuditEvent.objects.get(consignment=new, action="consignment.replacement")
    assert event.data["replaces"] == old.reference
    assert event.data["changes"]["containers.0.number"] == ["CSQU3054383", "MSCU1234566"]
    assert AuditEvent.objects.get(consignment=old, action="consignment.replaced").data["replaced_by"] == new.reference


def test_the_replacement_goes_to_its_own_decision(importer, inspector, officer):
    old = _under_checks(importer, inspector)
    assert old.status == "awaiting_decision"
    new = Consignment.objects.get(reference=_replace(importer, old).json()["reference"])
    _do(inspector, new, InspectionFlow.documentary_check, _documentary_ok(new))
    _do(officer, new, InspectionFlow.decide, ACCEPT)
    assert new.status == "accepted"


def test_a_certifying_officer_may_replace_other_staff_may_not(importer, inspector, officer, supervisor):
    old = _under_checks(importer, inspector, identity=100)
    assert _replace(inspector, old).status_code == 403
    assert _replace(supervisor, old).status_code == 403
    response = _replace(officer, old)
    assert response.status_code == 201, response.json()
    assert Consignment.objects.get(reference=response.json()["reference"]).operator_id == old.operator_id


def test_another_companys_ched_is_a_404_and_nothing_changes(importer, other_importer, inspector):
    old = _under_checks(importer, inspector, identity=100)
    assert _replace(other_importer, old).status_code == 404
    old.refresh_from_db()
    assert old.status == "checking" and not old.subsequent.exists()


def test_before_the_checks_start_the_answer_is_amend_instead(importer):
    consignment = _submit(importer)
    response = _replace(importer, consignment)
    assert response.status_code == 409
    assert "amend" in response.json()["detail"]


def test_a_decided_or_already_replaced_ched_cannot_be_replaced(importer, inspector, officer):
    decided = _under_checks(importer, inspector)
    _do(officer, decided, InspectionFlow.decide, ACCEPT)
    assert _replace(importer, decided).status_code == 409

    old = _under_checks(importer, inspector, identity=100)
    assert _replace(importer, old).status_code == 201
    again = _replace(importer, old)
    assert again.status_code == 409 and "replaced" in again.json()["detail"]
    assert old.subsequent.count() == 1


@pytest.mark.parametrize(("override", "field"), [({"bcp": "FRFDF4"}, "bcp"), ({"ched_type": "CHED-D"}, "ched_type")])
def test_the_ched_type_and_bcp_stay(importer, inspector, override, field):
    old = _under_checks(importer, inspector, identity=100)
    body = part_one("CHED-D", as_json=True) if field == "ched_type" else part_one(as_json=True, **override)
    response = _replace(importer, old, body)
    assert response.status_code == 400 and field in response.json()
    old.refresh_from_db()
    assert old.status == "checking"


def test_an_invalid_part_one_is_a_400_and_nothing_is_stored(importer, inspector):
    old = _under_checks(importer, inspector, identity=100)
    count = Consignment.objects.count()
    response = _replace(importer, old, part_one(as_json=True, containers=[{"number": "CSQU3054384", "seal": "X"}]))
    assert response.status_code == 400 and "containers" in response.json()
    assert _replace(importer, old, {"ched_type": "CHED-PP"}).status_code == 400
    assert _replace(importer, old, ["not", "an", "object"]).status_code == 400
    assert Consignment.objects.count() == count
    old.refresh_from_db()
    assert old.status == "checking" and _open_tasks(old).exists()


def test_an_importer_sees_the_link_in_the_portal(importer, inspector):
    old = _under_checks(importer, inspector, identity=100)
    new_reference = _replace(importer, old).json()["reference"]
    client = Client()
    client.force_login(importer)
    page = client.get(f"/consignments/{old.reference}/").content.decode()
    assert new_reference in page
    page = client.get(f"/consignments/{new_reference}/").content.decode()
    assert old.reference in page


def test_the_importer_replaces_through_the_portal_form(importer, inspector):
    from tests.test_amendments import _portal_submit
    from tests.test_portal import _form

    _rates("08045000", 100, 0)
    client, old = _portal_submit(importer)
    _do(inspector, old, InspectionFlow.documentary_check, _documentary_ok(old))
    assert f"/consignments/{old.reference}/replace/" in client.get(f"/consignments/{old.reference}/").content.decode()
    page = client.get(f"/consignments/{old.reference}/replace/").content.decode()
    assert "Submit the replacement CHED" in page
    form = _form(transport_id="CMA CGM FORT SAINTE MARIE 613N", replace="1")
    del form["submit"]
    response = client.post(f"/consignments/{old.reference}/replace/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    new = old.subsequent.get()
    assert response["Location"].endswith(f"/consignments/{new.reference}/")
    assert new.transport_id == "CMA CGM FORT SAINTE MARIE 613N" and new.status == "submitted"


def test_the_portal_offers_no_replacement_before_the_checks_nor_to_another_company(importer, other_importer):
    consignment = _submit(importer)
    client = Client()
    client.force_login(importer)
    assert "/replace/" not in client.get(f"/consignments/{consignment.reference}/").content.decode()
    assert client.get(f"/consignments/{consignment.reference}/replace/").status_code == 404
    client.force_login(other_importer)
    assert client.get(f"/consignments/{consignment.reference}/replace/").status_code == 404


@pytest.mark.parametrize("detained", [True, False])
def test_a_ched_with_a_sample_at_the_lab_is_not_replaced_until_its_result(importer, inspector, lab, detained):
    from inspection.models import Sample
    from tests.test_workflow_paths import _sampled

    old = _sampled(importer, inspector, detained=detained)
    assert old.status == ("awaiting_lab" if detained else "awaiting_decision")
    response = _replace(importer, old)
    assert response.status_code == 409
    assert "awaits its laboratory result" in response.json()["detail"]
    Sample.objects.filter(consignment=old).update(status=Sample.Status.LATE)  # late, still awaited
    assert _replace(importer, old).status_code == 409
    old.refresh_from_db()
    assert old.status == ("awaiting_lab" if detained else "awaiting_decision") and not old.subsequent.exists()
    assert _open_tasks(old).exists()


def test_a_replacement_keeps_the_checks_selected_on_the_ched_it_replaces(importer, inspector):
    from inspection.models import CheckPlan

    _rates("08045000", 0, 100)
    old = _submit(importer)
    _do(inspector, old, InspectionFlow.documentary_check, _documentary_ok(old))
    assert old.check_plan.physical_selected and old.status == "checking"
    _rates("08045000", 0, 0)  # whatever the rates now, the draw and the selection stay
    new = Consignment.objects.get(reference=_replace(importer, old).json()["reference"])
    plan = CheckPlan.objects.get(consignment=new)
    assert plan.physical_selected and plan.identity_selected
    assert plan.physical_draw == old.check_plan.physical_draw
    assert plan.identity_draw == old.check_plan.identity_draw
    assert f"physical check selected on {old.reference}" in plan.rule
    # and a replacement of the replacement is drawn as the first CHED
    _do(inspector, new, InspectionFlow.documentary_check, _documentary_ok(new))
    third = Consignment.objects.get(reference=_replace(importer, new).json()["reference"])
    assert CheckPlan.objects.get(consignment=third).physical_draw == old.check_plan.physical_draw
    assert CheckPlan.objects.get(consignment=third).physical_selected


def _next_pk(model, pk: int) -> None:
    """Make the next row of `model` take the primary key `pk` (SQLite's or PostgreSQL's sequence)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, pk - 1])
        else:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, pk])


def test_replacing_a_ched_leaves_the_export_with_the_same_pk_alone(importer, inspector, exporter):
    """The processes of both flows share one table: stopping the replaced CHED's inspection must not cancel
    the export flow of the application that happens to have the consignment's primary key."""
    old = _under_checks(importer, inspector, identity=100)
    _next_pk(ExportApplication, old.pk)
    response = api_client_for(exporter).post(
        "/api/v1/exports/", {**export_application(), "draft": False}, format="json"
    )
    assert response.status_code == 201, response.json()
    application = ExportApplication.objects.get(reference=response.json()["reference"])
    assert application.pk == old.pk
    export = Process.objects.get(flow_class=ExportFlow, artifact_object_id=application.pk)
    export_tasks = set(export.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED]).values_list("pk", flat=True))
    assert export_tasks

    assert _replace(importer, old).status_code == 201
    assert Process.objects.get(flow_class=InspectionFlow, artifact_object_id=old.pk).status == PROCESS.CANCELED
    export.refresh_from_db()
    assert export.status == PROCESS.NEW
    assert set(export.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED]).values_list("pk", flat=True)) == (
        export_tasks
    )
    application.refresh_from_db()
    assert application.status == "submitted"


def _row_reads(queries, table: str, pk: int) -> list[int]:
    """The positions of the queries that read one row of `table` by its primary key."""
    key = f'"{table}"."id" = {pk}'
    return [n for n, query in enumerate(queries) if f'FROM "{table}"' in query["sql"] and key in query["sql"]]


def _process_reads(queries, consignment) -> list[int]:
    """The positions of the queries that read the consignment's process (by its artifact or its primary key)."""
    process = InspectionProcess.objects.get(flow_class=InspectionFlow, artifact_object_id=consignment.pk)
    keys = (f'"viewflow_process"."id" = {process.pk}', f'"viewflow_process"."artifact_object_id" = {consignment.pk}')
    return [
        n
        for n, query in enumerate(queries)
        if 'FROM "viewflow_process"' in query["sql"] and any(key in query["sql"] for key in keys)
    ]


def test_the_flow_lock_is_taken_before_the_consignment_row(importer, inspector):
    """A task completion locks the process (viewflow's flow lock), then the consignment; a replacement takes them
    in the same order, or the two could deadlock on PostgreSQL."""
    from django.test.utils import CaptureQueriesContext

    old = _under_checks(importer, inspector, identity=100)
    with CaptureQueriesContext(connection) as queries:
        assert _replace(importer, old).status_code == 201
    process_reads = _process_reads(queries.captured_queries, old)
    consignment_reads = _row_reads(queries.captured_queries, "inspection_consignment", old.pk)
    assert process_reads and consignment_reads
    assert process_reads[0] < consignment_reads[0], "the consignment's row was read before the flow lock"


def test_the_files_uploaded_to_the_replaced_ched_are_carried_to_the_replacement(importer, inspector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inspection.models import AccompanyingDocument
    from tests.factories import pdf_bytes

    old = _under_checks(importer, inspector, identity=100)
    content = pdf_bytes()
    upload = {
        "file": SimpleUploadedFile("health.pdf", content, content_type="application/pdf"),
        "type": "PHYTOSANITARY_CERTIFICATE",
    }
    uploaded = api_client_for(importer).post(
        f"/api/v1/consignments/{old.reference}/documents/", {**upload, "reference": "CVED-77"}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    response = _replace(importer, old)
    assert response.status_code == 201, response.json()
    new = Consignment.objects.get(reference=response.json()["reference"])

    (carried,) = new.documents.exclude(file="")
    original = AccompanyingDocument.objects.get(pk=uploaded.json()["id"])
    assert (carried.reference, carried.filename, carried.sha256) == ("CVED-77", "health.pdf", original.sha256)
    assert carried.file.name != original.file.name and carried.file.read() == content
    original.refresh_from_db()
    assert original.consignment == old and original.file.read() == content  # the old CHED keeps its evidence
    files = api_client_for(importer).get(f"/api/v1/consignments/{new.reference}/").json()["files"]
    assert [f["id"] for f in files] == [carried.pk]
    event = AuditEvent.objects.get(consignment=new, action="document.uploaded")
    assert event.data["carried_from"] == old.reference and event.data["sha256"] == original.sha256


def test_a_file_lost_from_the_storage_does_not_stop_the_replacement(importer, inspector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inspection.models import AccompanyingDocument
    from tests.factories import pdf_bytes

    old = _under_checks(importer, inspector, identity=100)
    upload = {
        "file": SimpleUploadedFile("health.pdf", pdf_bytes(), content_type="application/pdf"),
        "type": "PHYTOSANITARY_CERTIFICATE",
        "reference": "CVED-77",
    }
    uploaded = api_client_for(importer).post(
        f"/api/v1/consignments/{old.reference}/documents/", upload, format="multipart"
    )
    document = AccompanyingDocument.objects.get(pk=uploaded.json()["id"])
    document.file.storage.delete(document.file.name)
    response = _replace(importer, old)
    assert response.status_code == 201, response.json()
    new = Consignment.objects.get(reference=response.json()["reference"])
    assert not new.documents.exclude(file="").exists()
