"""CHED-A commodity lines count their animals (box I.31, summed in I.33): required on submit, between 1 and
a million, and no other CHED type gives one. Over HTTP, as importers' systems send it; nothing stored on a 400."""

import copy
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inspection.models import AuditEvent, CommodityLine, Consignment
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import arrival_in, part_one
from tests.test_portal import _client, _form

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"


def _with_animals(ched_type: str, count, *, draft: bool = False) -> dict:
    payload = copy.deepcopy(part_one(ched_type, as_json=True))
    payload["commodities"][0]["number_of_animals"] = count
    if count is ...:
        del payload["commodities"][0]["number_of_animals"]
    if draft:
        payload["draft"] = True
    return payload


def test_a_ched_a_line_keeps_its_number_of_animals(api):
    response = api.post(URL, _with_animals("CHED-A", 3), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["commodities"][0]["number_of_animals"] == 3
    assert CommodityLine.objects.get().number_of_animals == 3
    reference = response.json()["reference"]
    assert api.get(f"{URL}{reference}/").json()["commodities"][0]["number_of_animals"] == 3


@pytest.mark.parametrize(
    ("count", "draft"),
    [(..., False), (None, False), (0, False), (-4, False), (1_000_001, False), (2**40, False), (0, True), ("x", True)],
    ids=["missing", "null", "zero", "negative", "above-a-million", "huge", "zero-in-draft", "not-a-number"],
)
def test_a_ched_a_line_without_a_sound_number_of_animals_is_refused(importer, count, draft):
    for language in ("en", "fr"):
        response = api_client_for(importer, language).post(
            URL, _with_animals("CHED-A", count, draft=draft), format="json"
        )

        assert response.status_code == 400, response.json()
        assert response.json()["commodities"]["0"]["number_of_animals"]
    assert not Consignment.objects.exists() and not CommodityLine.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_missing_number_of_animals_is_named_in_both_languages(importer):
    english = api_client_for(importer, "en").post(URL, _with_animals("CHED-A", None), format="json").json()
    french = api_client_for(importer, "fr").post(URL, _with_animals("CHED-A", None), format="json").json()
    assert english["commodities"]["0"]["number_of_animals"] == ["This field is required."]
    assert french["commodities"]["0"]["number_of_animals"] == ["Ce champ est obligatoire."]


def test_a_draft_may_leave_the_number_of_animals_for_later(api):
    response = api.post(URL, _with_animals("CHED-A", None, draft=True), format="json")
    assert response.status_code == 201
    submit = api.post(f"{URL}{response.json()['reference']}/submit/", format="json")
    assert submit.status_code == 400
    assert "number_of_animals" in submit.json()["commodities"]["0"]


@pytest.mark.parametrize("ched_type", ["CHED-PP", "CHED-P", "CHED-D"])
def test_other_ched_types_give_no_number_of_animals(api, ched_type):
    response = api.post(URL, _with_animals(ched_type, 12), format="json")

    assert response.status_code == 400
    assert "Only CHED-A" in response.json()["commodities"]["0"]["number_of_animals"][0]
    assert not Consignment.objects.exists()
    assert api.post(URL, _with_animals(ched_type, None), format="json").status_code == 201


def test_the_portal_form_takes_the_number_of_animals(importer):
    client = _client(importer)
    form = _form(
        ched_type="CHED-A",
        bcp="FRFDF4",
        transport_mode="air",
        transport_id="AF 652",
        transport_document="057-12345678",
        country_of_dispatch="",  # the CHED-A model has no box I.14
        # I.27-I.29, compulsory for animals (Regulation (EC) No 1/2005)
        after_bcp_transport_mode="road",
        after_bcp_transport_id="FG-123-HJ",
        after_bcp_departure_at=(arrival_in() + datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        transporter_name="Transports Animaliers Caraïbes SARL",
        transporter_address="Zone aéroportuaire, 97232 Le Lamentin",
        **{
            "containers-TOTAL_FORMS": "0",
            "commodities-0-cn_code": "01061900",
            "commodities-0-species": "Canis lupus familiaris",
            "commodities-0-net_weight_kg": "36",
            "commodities-0-packages": "3",
            "commodities-0-package_type": "CG",
            "commodities-0-number_of_animals": "0",
            "accompanying_documents-0-type": "VETERINARY_HEALTH_CERTIFICATE",
        },
    )
    response = client.post("/consignments/new/", form)
    assert response.status_code == 200 and not Consignment.objects.exists()

    form["commodities-0-number_of_animals"] = "3"
    response = client.post("/consignments/new/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert CommodityLine.objects.get().number_of_animals == 3


def test_the_import_reads_an_optional_number_of_animals_column(api, importer):
    draft = consignment_create(actor=importer, part_one=part_one("CHED-A"), draft=True)
    url = f"{URL}{draft.reference}/commodities/import/"
    header = "cn_code,species,net_weight_kg,packages,package_type,number_of_animals\n"

    good = header + "01012100,Equus caballus,1100,2,NE,2\n"
    response = api.post(
        url, {"file": SimpleUploadedFile("l.csv", good.encode()), "replace": "true"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["commodities"][0]["number_of_animals"] == 2

    for count, fragment in (("0", "at least one animal"), ("2000000", "At most"), ("two", "whole number")):
        bad = header + f"01012100,Equus caballus,1100,2,NE,{count}\n"
        response = api.post(url, {"file": SimpleUploadedFile("l.csv", bad.encode())}, format="multipart")
        assert response.status_code == 400
        assert fragment in response.json()["rows"]["2"]["number_of_animals"][0]
    assert CommodityLine.objects.filter(consignment=draft).count() == 1
