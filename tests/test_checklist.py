"""The completeness checklist shown while Part I is filled in: the submit rules themselves, grouped."""

import pytest
from django.test import Client
from django.utils import timezone, translation

from inspection.services.consignments import consignment_create
from inspection.services.part_one import part_one_checklist
from tests.factories import part_one

pytestmark = pytest.mark.django_db


def _items(part):
    with translation.override("en"):
        return {item.label.split(":")[0]: item for item in part_one_checklist(part, now=timezone.now())}


def test_a_complete_part_one_ticks_every_item():
    assert all(item.done for item in part_one_checklist(part_one(), now=timezone.now()))


def test_each_missing_piece_is_named_under_its_item():
    items = _items(part_one(containers=[], accompanying_documents=[], consignor={"name": "X"}))

    assert not items["Containers and their seals (sea freight)"].done
    assert "Sea freight needs at least one container" in items["Containers and their seals (sea freight)"].messages[0]
    documents = items["Accompanying documents"]
    assert not documents.done and documents.label == "Accompanying documents: Phytosanitary certificate"
    assert items["Consignor and consignee"].messages == [
        "Consignor, address: This field is required.",
        "Consignor, country: This field is required.",
    ]
    assert items["Commodity lines"].done and items["BCP, country of origin and purpose"].done


def test_frozen_plants_name_no_phytosanitary_certificate():
    # arrêté du 3 septembre 1990, art. 1: frozen fruit is not a "végétal" (docs/regulation.md, section 3)
    part = part_one(accompanying_documents=[{"type": "COMMERCIAL_INVOICE", "reference": "INV-1"}])
    part["commodities"][0].update(cn_code="08111090", description="Fraises surgelées", species="Fragaria × ananassa")
    documents = _items(part)["Accompanying documents"]
    assert documents.done and documents.label == "Accompanying documents"


def test_a_line_error_names_the_line():
    part = part_one()
    part["commodities"][0]["packages"] = None
    assert _items(part)["Commodity lines"].messages == ["Line 1, packages: This field is required."]


def test_the_form_shows_the_checklist_and_refreshes_it(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    draft = consignment_create(actor=importer, part_one=part_one(containers=[]), draft=True)

    page = client.get(f"/consignments/{draft.reference}/edit/").content.decode()
    assert "Before you submit" in page and "Sea freight needs at least one container" in page

    fresh = client.post(
        "/consignments/checklist/?ched_type=CHED-PP",
        {
            "containers-TOTAL_FORMS": "1",
            "containers-INITIAL_FORMS": "0",
            "containers-0-number": "CSQU3054383",
            "containers-0-seal": "",
            "commodities-TOTAL_FORMS": "0",
            "commodities-INITIAL_FORMS": "0",
            "accompanying_documents-TOTAL_FORMS": "0",
            "accompanying_documents-INITIAL_FORMS": "0",
        },
    ).content.decode()
    assert "Container 1, seal: This field is required." in fresh
    assert "Declare at least one commodity line." in fresh


def test_staff_do_not_get_the_checklist(inspector):
    client = Client()
    client.force_login(inspector)
    assert client.post("/consignments/checklist/").status_code == 404
