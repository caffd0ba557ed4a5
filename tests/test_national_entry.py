"""The national plant-health entry (docs/regulation.md, section 3): plants from mainland France and the other
Member States enter Martinique with a phytosanitary certificate of the country of origin and a check at the
post (arrêté du 3 septembre 1990, Annex III B-1), not with a CHED. Over HTTP, as the importer and the post
would."""

import pytest
from django.test import Client

from inspection.models import Certificate, Consignment, Decision
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_certificates import _pdf, _text
from tests.test_decision_rules import _claimed, _offers
from tests.test_part_one_rules import _dig
from tests.test_portal import _client as _portal_client
from tests.test_portal import _form as _portal_form
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _run_certificate_job
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _national(**overrides) -> dict:
    """Mangoes from a grower in the Var, shipped from Marseille to Fort-de-France."""
    part = part_one("CHED-PP", as_json=True, **{"country_of_origin": "FR", **overrides})
    part["ched_type"] = "NAT-PP"
    part["consignor"] = {"name": "Vergers du Var SCEA", "address": "Route de Hyères, Toulon", "country": "FR"}
    part["accompanying_documents"] = [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": "FR-PC-2026-0415"}]
    return part


def test_an_eu_origin_ched_pp_is_refused_and_pointed_to_the_national_entry(importer):
    part = part_one("CHED-PP", as_json=True, country_of_origin="FR")
    response = api_client_for(importer, language="en").post(URL, part, format="json")
    assert response.status_code == 400
    message = " ".join(response.json()["country_of_origin"])
    assert "national plant-health entry (NAT-PP)" in message
    french = api_client_for(importer, language="fr").post(URL, part, format="json").json()["country_of_origin"]
    assert "déclaration d'introduction de végétaux (NAT-PP)" in " ".join(french)
    assert not Consignment.objects.exists()


@pytest.mark.parametrize("origin", ["DO", "US", "MQ"])
def test_a_national_entry_from_a_third_country_or_martinique_is_refused(importer, origin):
    response = api_client_for(importer, language="en").post(URL, _national(country_of_origin=origin), format="json")
    assert response.status_code == 400
    assert "not one: goods from a third country need a CHED-PP" in " ".join(response.json()["country_of_origin"])
    assert not Consignment.objects.exists()


def test_a_national_entry_needs_the_phytosanitary_certificate_and_is_for_the_internal_market(importer):
    part = {**_national(purpose="transit"), "accompanying_documents": []}
    response = api_client_for(importer, language="en").post(URL, part, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "release into Martinique" in " ".join(body["purpose"])
    assert "accompanying_documents" in body
    assert not Consignment.objects.exists()


def test_the_code_list_says_the_national_entry_is_not_a_ched(importer):
    client = api_client_for(importer)
    rows = client.get("/api/v1/reference/ched-types/").json()["results"]
    details = {row["code"]: row["details"] for row in rows}
    assert details["NAT-PP"] == {
        "is_ched": False,
        "legal_basis": "Arrêté du 3 septembre 1990 (contrôle sanitaire des végétaux), annexe III B-1",
    }
    assert details["CHED-PP"]["is_ched"] is True
    decisions = client.get("/api/v1/reference/decisions/", {"ched_type": "NAT-PP"}).json()["results"]
    assert sorted(row["code"] for row in decisions) == ["acceptable_for_internal_market", "non_acceptable"]


def test_importers_choose_the_national_entry_in_the_portal(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    page = client.get("/consignments/new/?ched_type=NAT-PP").content.decode()
    assert "National plant-health entry (overseas departments)" in page
    assert "Phytosanitary certificate" in page  # the document it requires


def test_a_national_entry_from_mainland_france_is_walked_through_to_a_decision(
    importer, inspector, officer, signing_key
):
    _rates("08045000", 0, 0)
    response = api_client_for(importer).post(URL, _national(), format="json")
    assert response.status_code == 201, response.json()
    consignment = Consignment.objects.get(reference=response.json()["reference"])
    assert consignment.reference.startswith("NATPP.")  # its own series, not a CHED number
    assert consignment.ched_type.code == "NAT-PP" and not consignment.ched_type.is_ched
    # the check plan records the national legal basis, the catalogue rates of the plants
    assert consignment.check_plan.rule.startswith("Arrêté du 3 septembre 1990")
    assert "2016/2031" not in consignment.check_plan.rule

    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"
    client, task = _claimed(officer, consignment, InspectionFlow.decide)
    page = client.get(task.reverse("execute")).content.decode()
    assert _offers(page, "acceptable_for_internal_market") and _offers(page, "non_acceptable")
    for code in ("acceptable_for_transit", "acceptable_for_transhipment", "acceptable_for_transfer"):
        assert not _offers(page, code)  # a national entry is accepted into Martinique or refused
    assert _offers(page, "destruction") and not _offers(page, "slaughter")  # the measures of plants

    assert client.post(task.reverse("execute"), ACCEPT).status_code == 302
    assert Decision.objects.get(consignment=consignment).code.code == "acceptable_for_internal_market"
    _run_certificate_job(consignment)
    text = _text(_pdf(Certificate.objects.get(consignment=consignment)))
    assert "National plant-health entry" in text and "Arrêté du 3 septembre 1990" in text
    assert "This document is not a CHED" in text and "Common Health Entry Document" not in text


# Martinique's plant-health import regime, one table for NAT-PP and CHED-PP (docs/regulation.md, section 3)
ORANGES = ("08051020", "Oranges douces", "Citrus sinensis")
FROZEN_STRAWBERRIES = ("08111090", "Fraises surgelées", "Fragaria × ananassa")
AUTHORISATION = {"type": "PREFECTORAL_AUTHORISATION", "reference": "DAAF972-2026-017"}
INVOICE = {"type": "COMMERCIAL_INVOICE", "reference": "INV-2026-88"}


def _goods(part: dict, *lines) -> dict:
    template = part["commodities"][0]
    part["commodities"] = [{**template, "cn_code": cn, "description": d, "species": s} for cn, d, s in lines]
    return part


def _us_oranges(*documents) -> dict:
    part = part_one("CHED-PP", as_json=True, country_of_origin="US")
    part["accompanying_documents"] = [
        {"type": "PHYTOSANITARY_CERTIFICATE", "reference": "US-PC-2026-1"},
        *documents,
    ]
    return _goods(part, ORANGES)


def test_frozen_fruit_from_mainland_france_needs_no_phytosanitary_certificate(importer):
    # arrêté du 3 septembre 1990, art. 1: frozen fruit is not a "végétal"
    part = {**_goods(_national(), FROZEN_STRAWBERRIES), "accompanying_documents": [INVOICE]}
    response = api_client_for(importer).post(URL, part, format="json")
    assert response.status_code == 201, response.json()
    assert Consignment.objects.get().ched_type.code == "NAT-PP"


def test_fresh_plants_beside_frozen_goods_still_need_the_certificate(importer):
    part = _goods(_national(), FROZEN_STRAWBERRIES, ("08045000", "Mangues", "Mangifera indica"))
    part["accompanying_documents"] = [INVOICE]
    for language, fragment in (("en", "needs: Phytosanitary certificate"), ("fr", "exige : Certificat phytosanitaire")):
        response = api_client_for(importer, language=language).post(URL, part, format="json")
        assert response.status_code == 400
        assert fragment in " ".join(response.json()["accompanying_documents"])
    assert not Consignment.objects.exists()


def test_frozen_vegetables_from_a_third_country_need_no_certificate_either(importer):
    part = _goods(part_one("CHED-PP", as_json=True), ("07104000", "Maïs doux surgelé", "Zea mays"))
    part["accompanying_documents"] = [INVOICE]
    response = api_client_for(importer).post(URL, part, format="json")
    assert response.status_code == 201, response.json()


def test_a_prohibited_commodity_is_refused_naming_the_text(importer):
    for language, fragments in (
        ("en", ["may not be brought into Martinique", "annexe V B", "Prefect's import authorisation (DAAF)"]),
        ("fr", ["ne peuvent pas être introduits en Martinique", "annexe V B", "Autorisation d'importation du préfet"]),
    ):
        response = api_client_for(importer, language=language).post(URL, _us_oranges(), format="json")
        assert response.status_code == 400
        message = _dig(response.json(), "commodities.0.cn_code")
        assert all(fragment in message for fragment in fragments), message
        assert "08051020" in message and "US" in message
    assert not Consignment.objects.exists()


def test_the_prefects_authorisation_lifts_the_prohibition(importer):
    response = api_client_for(importer).post(URL, _us_oranges(AUTHORISATION), format="json")
    assert response.status_code == 201, response.json()


def test_the_prohibition_covers_only_the_origins_the_text_names(importer):
    part = _goods(part_one("CHED-PP", as_json=True, country_of_origin="DO"), ORANGES)
    assert api_client_for(importer).post(URL, part, format="json").status_code == 201


def test_the_portal_shows_the_prohibition_and_saves_nothing(importer):
    form = _portal_form(
        country_of_origin="US",
        **{"commodities-0-cn_code": "08051020", "commodities-0-species": "Citrus sinensis"},
    )
    response = _portal_client(importer).post("/consignments/new/", form)
    page = response.content.decode()
    assert response.status_code == 200
    assert "may not be brought into Martinique" in page and "annexe V B" in page
    assert not Consignment.objects.exists()
