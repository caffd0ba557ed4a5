"""The exporter's portal pages: the list, a new application (one line), its page; another company's is a 404.
The post's buttons on the page are steps of the export flow (their tasks claimed and completed)."""

import pytest
from django.test import Client

from inspection.models import ExportApplication, ExportStatus
from tests.conftest import api_client_for, export_certificate_job_run
from tests.factories import export_application, requirements_in_force

pytestmark = pytest.mark.django_db

FORM = {
    "consignee_name": "Fresh Tropics Inc.",
    "consignee_address": "2100 rue Notre-Dame O, Montréal QC",
    "consignee_country": "CA",
    "destination_country": "CA",
    "destination_point_of_entry": "Montréal",
    "destination_unlocode": "CAMTR",
    "conveyance_mode": "sea",
    "conveyance_id": "CMA CGM FORT SAINT LOUIS",
    "description": "Ananas frais",
    "hs_code": "08043000",
    "botanical_name": "Ananas comosus",
    "eppo_code": "ANHCO",
    "net_weight_kg": "6000",
    "packages": "600",
    "package_type": "CT",
    "place_of_production": "Morne-Rouge",
}


def _client(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_exporter_applies_in_the_portal(exporter):
    client = _client(exporter)
    assert client.get("/").url == "/exports/"
    assert client.get("/exports/new/").status_code == 200
    response = client.post("/exports/new/", {**FORM, "submit": "1"})
    application = ExportApplication.objects.get()
    assert response.status_code == 302 and response.url == f"/exports/{application.reference}/"
    assert application.status == ExportStatus.SUBMITTED and application.lines.get().packages == 600
    page = client.get(response.url).content.decode()
    assert "Ananas comosus" in page and "Export application submitted" in page
    assert application.reference in client.get("/exports/").content.decode()


def test_bad_input_shows_on_its_field_and_stores_nothing(exporter):
    response = _client(exporter, "fr").post("/exports/new/", {**FORM, "hs_code": "0804", "packages": "many"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Un code SH a 6, 8 ou 10 chiffres." in page and "Un nombre entier de colis, au moins 1." in page
    assert not ExportApplication.objects.exists()


def test_another_company_and_importers_see_nothing(exporter, other_exporter, importer):
    reference = api_client_for(exporter).post("/api/v1/exports/", export_application(), format="json").json()
    reference = reference["reference"]
    assert _client(other_exporter).get(f"/exports/{reference}/").status_code == 404
    assert reference not in _client(other_exporter).get("/exports/").content.decode()
    for url in ("/exports/", "/exports/new/", f"/exports/{reference}/"):
        assert _client(importer).get(url).status_code == 404


def test_the_post_checks_and_issues_from_the_application_page(exporter, inspector, officer):
    reference = api_client_for(exporter).post(
        "/api/v1/exports/", {**export_application(), "draft": False}, format="json"
    )
    reference = reference.json()["reference"]
    page = f"/exports/{reference}/"
    inspecting, deciding = _client(inspector), _client(officer)
    assert reference in inspecting.get("/exports/?status=submitted").content.decode()
    assert 'name="kind" value="documentary"' in inspecting.get(page).content.decode()
    checklist = {"requirements_met": requirements_in_force(reference)}
    inspecting.post(f"{page}check/", {"kind": "documentary", "result": "satisfactory", **checklist})
    assert 'name="kind" value="inspection"' in inspecting.get(page).content.decode()
    refused = inspecting.post(f"{page}check/", {"kind": "inspection", "result": "not_satisfactory"}, follow=True)
    assert "Say what was not satisfactory." in refused.content.decode()
    inspecting.post(f"{page}check/", {"kind": "inspection", "result": "satisfactory"})
    assert inspecting.post(f"{page}issue/", follow=True).status_code == 200  # refused, shown as a message
    assert ExportApplication.objects.get().status == ExportStatus.CHECKING
    assert 'action="/exports/' + reference + '/issue/"' in deciding.get(page).content.decode()
    deciding.post(f"{page}issue/", follow=True)
    assert ExportApplication.objects.get().decided_by == officer  # decided: the certificate job makes it
    assert "/issue/" not in deciding.get(page).content.decode()  # decided once
    export_certificate_job_run(reference)
    assert ExportApplication.objects.get().status == ExportStatus.ISSUED
    assert f"{reference}-P1" in deciding.get(page).content.decode()
    withdrawn = deciding.post(f"{page}withdraw/", {"reason": "not shipped"}, follow=True)
    assert withdrawn.status_code == 200
    assert ExportApplication.objects.get().certificates.get().status == "revoked"


def test_exporter_cannot_take_the_posts_steps(exporter, other_exporter):
    reference = api_client_for(exporter).post(
        "/api/v1/exports/", {**export_application(), "draft": False}, format="json"
    )
    reference = reference.json()["reference"]
    mine = _client(exporter).post(f"/exports/{reference}/check/", {"kind": "documentary", "result": "satisfactory"})
    assert mine.status_code == 302 and not ExportApplication.objects.get().checks.exists()
    assert _client(other_exporter).post(f"/exports/{reference}/issue/").status_code == 404


def test_the_documentary_check_form_lists_the_destinations_requirements(exporter, inspector):
    from tests.factories import destination_requirement

    requirement = destination_requirement()
    reference = api_client_for(exporter).post(
        "/api/v1/exports/", {**export_application(), "draft": False}, format="json"
    )
    page = f"/exports/{reference.json()['reference']}/"
    assert "Test declaration on bananas" in _client(exporter).get(page).content.decode()
    client = _client(inspector)
    assert f'name="requirements_met" value="{requirement.pk}"' in client.get(page).content.decode()
    missing = client.post(f"{page}check/", {"kind": "documentary", "result": "satisfactory"}, follow=True)
    assert "Confirm the destination&#x27;s requirement" in missing.content.decode()
    every = requirements_in_force(reference.json()["reference"])
    client.post(f"{page}check/", {"kind": "documentary", "result": "satisfactory", "requirements_met": every})
    assert requirement.pk in [r["id"] for r in ExportApplication.objects.get().checks.get().requirements]


def test_exporter_makes_an_api_token_in_the_portal_for_its_system(exporter):
    import re

    from rest_framework.test import APIClient

    page = _client(exporter).post("/account/tokens/", {"name": "ERP export"}).content.decode()
    key = re.search(r'<code class="secret" id="new-key">([^<]+)</code>', page).group(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/exports/", export_application(), format="json").status_code == 201
