"""The Part I boxes of the official CHED models (Implementing Regulation (EU) 2019/1715, Annex II) added after the
first ones: I.3 local reference, I.19 conformity of the goods (CHED-P), I.21 for onward transportation (CHED-PP,
CHED-D), I.22 for transit to (CHED-A, CHED-P, CHED-PP), I.27 means of transport after the BCP, I.29 date of
departure and I.30 journey log (CHED-A). Over HTTP as importers' systems send them (a bad value is a 400 with its
message and nothing stored), and read back from the CHED PDF's text for each type."""

import copy
import datetime
import os

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from inspection.models import AuditEvent, CommodityLine, Consignment
from inspection.portal.forms import PartOneForm
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import arrival_in, part_one
from tests.test_ched_boxes import _label, _pdf_text
from tests.test_portal import _client

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"


def _payload(ched_type, **changes) -> dict:
    payload = copy.deepcopy(part_one(ched_type, as_json=True))
    for path, value in changes.items():
        group, _, key = path.rpartition("__")
        (payload.setdefault(group, {}) if group else payload)[key] = value
    return payload


def _nothing_stored():
    assert not Consignment.objects.exists() and not CommodityLine.objects.exists()
    assert not AuditEvent.objects.filter(action="consignment.created").exists()


def test_a_transit_names_its_third_country_and_exit_bcp(api):
    payload = _payload(
        "CHED-P",
        purpose="transit",
        transit__third_country="DM",
        transit__exit_bcp="FRFDF1 Fort-de-France port",
        after_bcp__transport_mode="sea",
        after_bcp__transport_id="MSC ANTILLES 204S",
    )
    payload["place_of_destination"] = {"name": "", "address": "", "country": ""}

    response = api.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    consignment = Consignment.objects.get()
    assert consignment.transit_country.code == "DM" and consignment.transit_exit_bcp == "FRFDF1 Fort-de-France port"
    assert consignment.after_bcp_transport_mode == "sea" and consignment.after_bcp_transport_id == "MSC ANTILLES 204S"
    detail = api.get(f"{URL}{consignment.reference}/").json()
    assert detail["transit"] == {"third_country": "DM", "exit_bcp": "FRFDF1 Fort-de-France port"}
    assert detail["after_bcp"]["transport_id"] == "MSC ANTILLES 204S"


def test_a_ched_a_keeps_its_departure_and_journey_log(api):
    response = api.post(URL, _payload("CHED-A", journey_log="yes"), format="json")

    assert response.status_code == 201, response.json()
    consignment = Consignment.objects.get()
    assert consignment.journey_log == "yes" and consignment.after_bcp_transport_id == "FG-123-HJ"
    assert consignment.departure_at == consignment.expected_arrival + datetime.timedelta(hours=3)
    assert response.json()["after_bcp"]["departure_at"]


def test_an_onward_transportation_names_its_facility(api):
    payload = _payload(
        "CHED-D",
        purpose="onward_transportation",
        onward_transportation_facility="Entrepôt Caraïbes Logistique, Le Lamentin, FR-972-OTF-3",
        after_bcp__transport_mode="road",
        after_bcp__transport_id="GH-456-JK",
    )

    response = api.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert Consignment.objects.get().onward_facility.startswith("Entrepôt Caraïbes Logistique")


def test_a_ched_p_declares_its_goods_conforming(api):
    response = api.post(URL, _payload("CHED-P", conformity="conforming"), format="json")

    assert response.status_code == 201, response.json()
    assert Consignment.objects.get().conformity == "conforming"


@pytest.mark.parametrize(
    ("ched_type", "changes", "path", "message"),
    [
        ("CHED-P", {"conformity": "maybe"}, ("conformity",), '"maybe" is not a valid choice.'),
        ("CHED-PP", {"conformity": "conforming"}, ("conformity",), "The CHED-PP model has no box I.19"),
        (
            "CHED-P",
            {"conformity": "non_conforming"},
            ("conformity",),
            "Non-conforming goods are not placed on the market",
        ),
        (
            "CHED-P",
            {
                "purpose": "transit",
                "transit__third_country": "FR",
                "after_bcp__transport_mode": "sea",
                "after_bcp__transport_id": "MSC ANTILLES 204S",
            },
            ("transit", "third_country"),
            "Goods in transit go to a third country: FR is in the European Union.",
        ),
        ("CHED-P", {"purpose": "transit"}, ("transit", "third_country"), "This field is required."),
        ("CHED-P", {"transit__third_country": "DM"}, ("transit", "third_country"), "Box I.22 is for goods in transit"),
        ("CHED-P", {"transit__third_country": "XX"}, ("transit", "third_country"), "Unknown country code “XX”."),
        ("CHED-D", {"transit__third_country": "DM"}, ("transit", "third_country"), "The CHED-D model has no box I.22"),
        ("CHED-D", {"purpose": "transit"}, ("purpose",), "The CHED-D model has no box I.22 (For transit)"),
        ("CHED-A", {"purpose": "onward_transportation"}, ("purpose",), "The CHED-A model has no box I.21"),
        (
            "CHED-P",
            {"onward_transportation_facility": "Entrepôt X"},
            ("onward_transportation_facility",),
            "The CHED-P model has no box I.21",
        ),
        (
            "CHED-PP",
            {"onward_transportation_facility": "Entrepôt X"},
            ("onward_transportation_facility",),
            "Box I.21 is for goods under onward transportation",
        ),
        (
            "CHED-D",
            {"purpose": "onward_transportation", "after_bcp__transport_mode": "road", "after_bcp__transport_id": "X"},
            ("onward_transportation_facility",),
            "This field is required.",
        ),
        (
            "CHED-D",
            {"purpose": "onward_transportation", "onward_transportation_facility": "Entrepôt X"},
            ("after_bcp", "transport_mode"),
            "This field is required.",
        ),
        ("CHED-A", {"after_bcp__transport_mode": ""}, ("after_bcp", "transport_mode"), "This field is required."),
        ("CHED-A", {"after_bcp__transport_mode": "boat"}, ("after_bcp", "transport_mode"), "not a valid choice"),
        ("CHED-A", {"after_bcp__departure_at": None}, ("after_bcp", "departure_at"), "This field is required."),
        ("CHED-A", {"after_bcp__departure_at": "tomorrow"}, ("after_bcp", "departure_at"), "Datetime has wrong format"),
        (
            "CHED-A",
            {"after_bcp__departure_at": (arrival_in() - datetime.timedelta(hours=1)).isoformat()},
            ("after_bcp", "departure_at"),
            "must come after the expected arrival (box I.10)",
        ),
        ("CHED-A", {"transporter": {"name": "", "address": ""}}, ("transporter", "name"), "This field is required."),
        ("CHED-A", {"journey_log": "perhaps"}, ("journey_log",), '"perhaps" is not a valid choice.'),
        ("CHED-P", {"journey_log": "yes"}, ("journey_log",), "The CHED-P model has no box I.30"),
        (
            "CHED-P",
            {"after_bcp__departure_at": arrival_in(days=8).isoformat()},
            ("after_bcp", "departure_at"),
            "The CHED-P model has no box I.29",
        ),
    ],
)
def test_a_bad_value_in_a_new_box_is_a_400_with_its_message_and_nothing_stored(
    importer, ched_type, changes, path, message
):
    response = api_client_for(importer, "en").post(URL, _payload(ched_type, **changes), format="json")

    assert response.status_code == 400, response.json()
    found = response.json()
    for key in path:
        found = found[key]
    assert message in " ".join(found), found
    _nothing_stored()


def test_a_ched_pp_in_containers_needs_no_means_of_transport_after_the_bcp(api):
    """Box I.27, CHED-PP: "If the container number is indicated in box I.17, the indication of the means of
    transport is not required"."""
    payload = _payload("CHED-PP", purpose="transhipment")
    payload["place_of_destination"] = {"name": "", "address": "", "country": ""}

    assert api.post(URL, payload, format="json").status_code == 201


def test_the_portal_form_offers_the_boxes_of_the_type():
    boxes = PartOneForm(fixed_ched_type="CHED-A").box_fields
    assert {"after_bcp_transport_mode", "after_bcp_departure_at", "journey_log", "transit_third_country"} <= set(boxes)
    assert "conformity" not in boxes and "onward_transportation_facility" not in boxes
    boxes = PartOneForm(fixed_ched_type="CHED-P").box_fields
    assert "conformity" in boxes and "journey_log" not in boxes and "after_bcp_departure_at" not in boxes
    boxes = PartOneForm(fixed_ched_type="CHED-D").box_fields
    assert "onward_transportation_facility" in boxes and "transit_third_country" not in boxes


def _declared(importer, ched_type, **changes):
    part = part_one(ched_type)
    for path, value in changes.items():
        group, _, key = path.rpartition("__")
        (part.setdefault(group, {}) if group else part)[key] = value
    return consignment_create(actor=importer, part_one=part)


@pytest.mark.parametrize("ched_type", ["CHED-A", "CHED-P", "CHED-PP", "CHED-D"])
def test_the_pdf_prints_the_local_reference_and_the_means_of_transport_after_the_bcp(importer, ched_type):
    consignment = _declared(importer, ched_type, after_bcp__transport_mode="road", after_bcp__transport_id="FG-123-HJ")
    text = _pdf_text(consignment)

    assert f"{_label('local_reference')} {consignment.reference}" in text
    assert f"{_label('ched_reference')} non attribuée (DSCE non transmis à TRACES NT)" in text
    assert f"{_label('transport_after_bcp')} Route / Road FG-123-HJ" in text
    assert (_label("conformity") in text) == (ched_type == "CHED-P")
    assert (_label("for_onward_transportation") in text) == (ched_type in ("CHED-PP", "CHED-D"))
    assert (_label("for_transit") in text) == (ched_type != "CHED-D")
    for name in ("departure_date", "journey_log"):
        assert (_label(name) in text) == (ched_type == "CHED-A"), name


def test_the_pdf_of_a_ched_a_prints_its_departure_and_journey_log(importer):
    consignment = _declared(importer, "CHED-A", journey_log="yes")
    text = _pdf_text(consignment)

    local = timezone.localtime(consignment.departure_at)  # Martinique time, as the PDF prints it
    assert f"{_label('departure_date')} {local:%d/%m/%Y %H:%M}" in text
    assert f"{_label('journey_log')} Oui / Yes" in text


def test_the_pdf_of_a_ched_p_prints_its_conformity_and_its_transit(importer):
    consignment = _declared(
        importer,
        "CHED-P",
        purpose="transit",
        conformity="non_conforming",
        transit__third_country="DM",
        transit__exit_bcp="FRFDF1 Fort-de-France port",
        after_bcp__transport_mode="sea",
        after_bcp__transport_id="MSC ANTILLES 204S",
    )
    text = _pdf_text(consignment)

    assert f"{_label('conformity')} Non conforme / Non-conforming" in text
    assert (
        f"{_label('for_transit')} Transit vers un pays tiers / Transit to a third country Dominique (DM) / "
        "Dominica (DM) FRFDF1 Fort-de-France port"
    ) in text
    assert f"{_label('for_internal_market')} –" in text  # the regime boxes not chosen print empty


def test_the_pdf_of_a_ched_d_under_onward_transportation_prints_the_facility(importer):
    consignment = _declared(
        importer,
        "CHED-D",
        purpose="onward_transportation",
        onward_transportation_facility="Entrepôt Caraïbes Logistique, FR-972-OTF-3",
        after_bcp__transport_mode="road",
        after_bcp__transport_id="GH-456-JK",
    )
    text = _pdf_text(consignment)

    assert (
        f"{_label('for_onward_transportation')} Acheminement ultérieur vers une installation autorisée / Onward "
        "transportation to an authorised facility Entrepôt Caraïbes Logistique, FR-972-OTF-3"
    ) in text


def test_the_demo_fills_the_new_boxes_realistically():
    with override_settings(DEBUG=True):
        call_command("demo", consignments=24, stdout=open(os.devnull, "w"))  # the seeded draw holds CHED-As
    submitted = Consignment.objects.exclude(status="draft")
    animals = submitted.filter(ched_type__code="CHED-A")
    assert animals.exists()
    for consignment in animals:
        assert consignment.after_bcp_transport_mode == "road" and consignment.after_bcp_transport_id
        assert consignment.departure_at > consignment.expected_arrival and consignment.journey_log == "no"
    assert set(submitted.filter(ched_type__code="CHED-P").values_list("conformity", flat=True)) <= {"conforming"}
    assert not submitted.exclude(ched_type__code="CHED-A").exclude(journey_log="").exists()


def test_the_portal_detail_lists_the_new_boxes(importer):
    consignment = _declared(importer, "CHED-A", journey_log="yes")

    page = _client(importer).get(f"/consignments/{consignment.reference}/").content.decode()

    assert "I.27" in page and "FG-123-HJ" in page
    assert "I.29" in page and "I.30" in page


def test_the_purposes_code_list_follows_the_regime_boxes_of_each_model(api):
    def codes(ched_type):
        rows = api.get(f"/api/v1/reference/purposes/?ched_type={ched_type}").json()["results"]
        return {row["code"]: row for row in rows}

    assert "onward_transportation" not in codes("CHED-A") and "transit" in codes("CHED-A")
    assert "transit" not in codes("CHED-D") and "onward_transportation" in codes("CHED-D")
    row = codes("CHED-PP")["onward_transportation"]
    assert row["details"]["box"] == "I.21" and row["ched_types"] == ["CHED-D", "CHED-PP"]
