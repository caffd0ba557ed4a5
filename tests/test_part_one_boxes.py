"""The Part I boxes of the official CHED models (Implementing Regulation (EU) 2019/1715, Annex II) that
`inspection.part_one_schema` declares: place of destination (I.7), region of origin (I.12), country of dispatch
(I.14), establishment of origin (I.15), transport conditions (I.16), transporter (I.28), gross weight (I.34).
Over HTTP, through the API and the portal, as importers send them; a bad value is a 400 with its message and
nothing stored."""

import copy
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from inspection import part_one_schema
from inspection.api.serializers import PartOneSerializer
from inspection.certificates.boxes import BOXES
from inspection.models import AuditEvent, CommodityLine, Consignment
from inspection.portal.forms import PartOneForm
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_portal import _client, _form

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"
RESEARCH = {
    b["number"]: b
    for b in json.loads((Path(settings.BASE_DIR) / "docs/regulation/ched-boxes.json").read_text())["boxes"]
}


def _payload(ched_type="CHED-P", **changes) -> dict:
    payload = copy.deepcopy(part_one(ched_type, as_json=True))
    for path, value in changes.items():
        keys = path.split("__")
        target = payload
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value
    return payload


def _nothing_stored():
    assert not Consignment.objects.exists() and not CommodityLine.objects.exists()
    assert not AuditEvent.objects.filter(action="consignment.created").exists()


def test_every_field_of_the_schema_names_a_researched_box_and_a_column():
    for field in part_one_schema.PART_ONE:
        assert field.box in BOXES, field.path
        assert field.number in RESEARCH, field.path
        assert field.model_field is not None  # the column exists
        assert field.ched_types <= frozenset(RESEARCH[field.number]["applies_to"]), field.path
        assert field.required <= field.ched_types, field.path
    # the API serializer holds every field of the schema, under its path
    serializer = PartOneSerializer()
    for field in part_one_schema.PART_ONE:
        if field.on_line:
            assert field.key in serializer.fields["commodities"].child.fields, field.path
        elif field.group:
            assert field.key in serializer.fields[field.group].fields, field.path
        else:
            assert field.path in serializer.fields, field.path


def test_a_ched_p_keeps_its_boxes_and_gives_them_back(api):
    payload = _payload("CHED-P", region_of_origin="BR-SC", country_of_dispatch="PA")

    response = api.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    consignment = Consignment.objects.get()
    assert consignment.destination_name == "Antilles Primeurs SARL, entrepôt du Lamentin"
    assert consignment.destination_country.code == "MQ"
    assert consignment.destination_approval_number == "FR 972.12.001 CE"
    assert consignment.country_of_dispatch.code == "PA" and consignment.region_of_origin == "BR-SC"
    assert consignment.transport_conditions == "frozen"
    assert str(consignment.total_gross_weight_kg) == "1380.000"
    assert consignment.lines.get().establishment_of_origin == "Frigorífico del Cibao, est. 1234"
    detail = api.get(f"{URL}{consignment.reference}/").json()
    assert detail["place_of_destination"]["country"] == "MQ"
    assert detail["country_of_dispatch"] == "PA" and detail["region_of_origin"] == "BR-SC"
    assert detail["transport_conditions"] == "frozen" and detail["total_gross_weight_kg"] == "1380.000"
    assert detail["commodities"][0]["establishment_of_origin"] == "Frigorífico del Cibao, est. 1234"


def test_a_ched_a_keeps_its_transporter(api):
    response = api.post(URL, _payload("CHED-A"), format="json")

    assert response.status_code == 201, response.json()
    assert Consignment.objects.get().transporter_approval_number == "FR-972-T1-0042"
    assert response.json()["transporter"]["name"] == "Transports Animaliers Caraïbes SARL"


@pytest.mark.parametrize("draft", [False, True])
@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"country_of_dispatch": "XX"}, ("country_of_dispatch",), "Unknown country code “XX”."),
        ({"place_of_destination__country": "ZZ"}, ("place_of_destination", "country"), "Unknown country code “ZZ”."),
        ({"total_gross_weight_kg": "-5.000"}, ("total_gross_weight_kg",), "must be greater than 0 kg"),
        ({"total_gross_weight_kg": "0"}, ("total_gross_weight_kg",), "must be greater than 0 kg"),
        ({"transport_conditions": "warm"}, ("transport_conditions",), '"warm" is not a valid choice.'),
        ({"total_gross_weight_kg": "12345678901234"}, ("total_gross_weight_kg",), "no more than 12 digits"),
    ],
)
def test_a_bad_box_value_is_a_400_with_its_message_and_nothing_stored(importer, change, path, message, draft):
    payload = _payload("CHED-P", **change)
    if draft:
        payload["draft"] = True

    response = api_client_for(importer, "en").post(URL, payload, format="json")

    assert response.status_code == 400, response.json()
    found = response.json()
    for key in path:
        found = found[key]
    assert message in found[0], found
    _nothing_stored()


@pytest.mark.parametrize(
    ("ched_type", "change", "path", "message"),
    [
        ("CHED-A", {"country_of_dispatch": "US"}, ("country_of_dispatch",), "The CHED-A model has no box I.14"),
        ("CHED-PP", {"transport_conditions": "chilled"}, ("transport_conditions",), "no box I.16"),
        ("CHED-PP", {"total_gross_weight_kg": "1300.000"}, ("total_gross_weight_kg",), "no box I.34"),
        (
            "CHED-P",
            {"transporter": {"name": "X", "address": "", "approval_number": ""}},
            ("transporter", "name"),
            "no box I.28",
        ),
    ],
)
def test_a_box_the_model_of_the_type_does_not_have_is_refused(importer, ched_type, change, path, message):
    response = api_client_for(importer, "en").post(URL, _payload(ched_type, **change), format="json")

    assert response.status_code == 400, response.json()
    found = response.json()
    for key in path:
        found = found[key]
    assert message in found[0], found
    _nothing_stored()


@pytest.mark.parametrize(
    ("ched_type", "change", "path"),
    [
        ("CHED-P", {"transport_conditions": ""}, ("transport_conditions",)),
        ("CHED-D", {"transport_conditions": ""}, ("transport_conditions",)),
        ("CHED-PP", {"country_of_dispatch": ""}, ("country_of_dispatch",)),
        ("CHED-P", {"commodities__0__establishment_of_origin": ""}, ("commodities", "0", "establishment_of_origin")),
        ("CHED-A", {"place_of_destination__name": ""}, ("place_of_destination", "name")),
        ("CHED-PP", {"place_of_destination__country": ""}, ("place_of_destination", "country")),
    ],
)
def test_a_submit_requires_the_boxes_of_its_type(importer, ched_type, change, path):
    response = api_client_for(importer, "en").post(URL, _payload(ched_type, **change), format="json")

    assert response.status_code == 400, response.json()
    found = response.json()
    for key in path:
        found = found[key]
    assert found == ["This field is required."]
    _nothing_stored()


def test_a_draft_may_leave_the_boxes_for_later(api):
    payload = _payload("CHED-P", transport_conditions="", country_of_dispatch="", place_of_destination={})
    payload["draft"] = True

    assert api.post(URL, payload, format="json").status_code == 201


def test_the_gross_weight_weighs_at_least_the_net_weight(importer):
    response = api_client_for(importer, "en").post(URL, _payload("CHED-P", total_gross_weight_kg="1000"), format="json")

    assert response.status_code == 400
    assert "less than the total net weight of the lines (1250.500 kg)" in response.json()["total_gross_weight_kg"][0]
    _nothing_stored()


def test_the_place_of_destination_is_in_the_union(importer):
    response = api_client_for(importer, "en").post(
        URL, _payload("CHED-P", place_of_destination__country="DM"), format="json"
    )

    assert response.status_code == 400
    assert "DM is not" in response.json()["place_of_destination"]["country"][0]
    _nothing_stored()


def test_goods_in_transit_name_no_place_of_destination(api):
    payload = _payload(
        "CHED-PP",
        purpose="transit",
        place_of_destination={"name": "", "address": "", "country": ""},
        transit={"third_country": "DM", "exit_bcp": ""},  # box I.22, which a transit needs instead
    )

    response = api.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert Consignment.objects.get().destination_name == ""


def test_the_portal_form_takes_the_boxes_of_the_type(importer):
    client = _client(importer)
    page = client.get("/consignments/new/?ched_type=CHED-PP").content.decode()
    assert "I.14 Country of dispatch" in page and "I.7 Place of destination" in page

    response = client.post("/consignments/new/", _form(region_of_origin="DO-25"))

    assert response.status_code == 302, response.content.decode()[:2000]
    consignment = Consignment.objects.get()
    assert consignment.country_of_dispatch.code == "DO" and consignment.region_of_origin == "DO-25"
    assert consignment.destination_country.code == "MQ"
    detail = client.get(response.url).content.decode()
    assert "I.7 Place of destination" in detail and "Antilles Primeurs SARL, entrepôt du Lamentin" in detail
    assert "I.14 Country of dispatch" in detail and "I.12 Region of origin" in detail and "DO-25" in detail


def test_the_portal_form_refuses_a_bad_box_and_stores_nothing(importer):
    client = _client(importer)

    response = client.post("/consignments/new/", _form(country_of_dispatch=""))

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post("/consignments/new/", _form(transport_conditions="frozen"))
    assert response.status_code == 200
    assert "The CHED-PP model has no box I.16" in response.content.decode()
    _nothing_stored()


def test_the_form_of_a_type_shows_only_its_boxes():
    boxes = PartOneForm(fixed_ched_type="CHED-A").box_fields
    assert "transporter_name" in boxes and "country_of_dispatch" not in boxes and "transport_conditions" not in boxes
    boxes = PartOneForm(fixed_ched_type="CHED-P").box_fields
    assert "transport_conditions" in boxes and "transporter_name" not in boxes


def test_the_commodity_import_reads_the_establishment_of_origin(api, importer):
    draft = consignment_create(actor=importer, part_one=part_one("CHED-P"), draft=True)
    url = f"{URL}{draft.reference}/commodities/import/"
    header = "cn_code,species,net_weight_kg,packages,package_type,establishment_of_origin\n"

    good = header + "02023090,Bos taurus,1250.5,250,CT,Frigorífico Sul Ltda SIF 2518\n"
    response = api.post(
        url, {"file": SimpleUploadedFile("l.csv", good.encode()), "replace": "true"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["commodities"][0]["establishment_of_origin"] == "Frigorífico Sul Ltda SIF 2518"

    bad = header + "02023090,Bos taurus,1250.5,250,CT," + "x" * 101 + "\n"
    response = api.post(url, {"file": SimpleUploadedFile("l.csv", bad.encode()), "replace": "true"}, format="multipart")
    assert response.status_code == 400
    assert "At most 100 characters" in response.json()["rows"]["2"]["establishment_of_origin"][0]
    assert CommodityLine.objects.get(consignment=draft).establishment_of_origin == "Frigorífico Sul Ltda SIF 2518"
