"""Code lists for API clients (`GET /api/v1/reference/{list}/`): codes in force, French and English names, the CHED
types each applies to, `?ched_type=` as the forms and services apply it."""

import pytest

from inspection.api.reference import LISTS
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


def _codes(client, name, **params):
    response = client.get(f"/api/v1/reference/{name}/", params)
    assert response.status_code == 200, response.content
    return {item["code"]: item for item in response.json()["results"]}


@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_answers_codes_with_both_names(importer, name):
    items = _codes(api_client_for(importer), name)
    assert items
    for item in items.values():
        assert item["name_fr"] and item["name_en"] and item["name"] in (item["name_fr"], item["name_en"])


def test_measures_for_plants_offer_no_slaughter(importer):
    client = api_client_for(importer)
    plants = _codes(client, "measures", ched_type="CHED-PP")
    animals = _codes(client, "measures", ched_type="CHED-A")
    assert "destruction" in plants and "slaughter" not in plants and "euthanasia" not in plants
    assert "slaughter" in animals and animals["slaughter"]["ched_types"] == ["CHED-A"]
    assert animals["euthanasia"]["details"]["part_three_outcomes"] == ["euthanised"]
    assert "transformation" not in _codes(client, "measures")  # ended: no text sets it


def test_decisions_say_what_they_require(importer):
    client = api_client_for(importer)
    decisions = _codes(client, "decisions", ched_type="CHED-P")
    assert decisions["acceptable_for_transit"]["details"]["requires"] == ["exit_bcp", "destination_country"]
    assert decisions["acceptable_for_specific_warehouse"]["details"]["requires"] == ["arrival_point"]
    assert "acceptable_for_transit" not in _codes(client, "decisions", ched_type="CHED-D")


def test_analyses_and_reasons_follow_the_ched_type(importer):
    client = api_client_for(importer)
    plants = _codes(client, "analyses", ched_type="CHED-PP")
    assert "PEST_IDENTIFICATION" in plants and "HISTAMINE" not in plants
    assert _codes(client, "analyses")["HISTAMINE"]["details"]["cn_prefixes"] == ["03", "1604"]
    reasons = _codes(client, "refusal-reasons", ched_type="CHED-PP")
    assert "PestPresence" in reasons and "DiseasedOrSuspectAnimals" not in reasons


def test_bcps_and_commodities_of_one_ched_type(importer):
    client = api_client_for(importer)
    for code, bcp in _codes(client, "bcps", ched_type="CHED-A").items():
        assert "CHED-A" in bcp["ched_types"], code
    commodities = _codes(client, "commodities", ched_type="CHED-PP", page_size=500)
    assert "08045000" in commodities
    # one catalogue for plants: the national plant-health entry (NAT-PP) takes CHED-PP's goods
    assert all(item["ched_types"] == ["CHED-PP", "NAT-PP"] for item in commodities.values())
    assert _codes(client, "commodities", ched_type="NAT-PP", page_size=500).keys() == commodities.keys()


def test_the_plant_health_regime_is_a_code_list(importer):
    """Martinique's plant-health import table (docs/regulation.md, section 3), narrowed by the origin each entry
    covers: third countries for CHED-PP, the Union for NAT-PP, nothing for the veterinary types."""
    client = api_client_for(importer)
    third = _codes(client, "plant-health", ched_type="CHED-PP")
    union = _codes(client, "plant-health", ched_type="NAT-PP")
    assert third["DOM-V-B-0805-US"]["details"] == {
        "cn_prefix": "0805",
        "origin": "third_country",
        "countries": ["US"],
        "requirement": "prohibited",
        "lifted_by": "PREFECTORAL_AUTHORISATION",
        "legal_reference": third["DOM-V-B-0805-US"]["details"]["legal_reference"],
        "source_url": "http://admi.net/jo/19981217/AGRG9802139A.html",
        "annex_read": False,
    }
    assert "annexe V B" in third["DOM-V-B-0805-US"]["details"]["legal_reference"]
    assert "DOM-IV-B1-08" in third and "DOM-III-B1-08" not in third
    assert "DOM-III-B1-08" in union and "DOM-V-B-0805-US" not in union
    assert union["DOM-ART1-0811"]["details"]["requirement"] == "free" and "DOM-ART1-0811" in third
    assert _codes(client, "plant-health", ched_type="CHED-P") == {}


def test_names_follow_the_language_asked(importer):
    client = api_client_for(importer)
    response = client.get("/api/v1/reference/ched-types/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["results"][0]["name"].startswith("DSCE")


def test_unknown_list_and_ched_type_are_refused_with_a_message(importer):
    client = api_client_for(importer)
    response = client.get("/api/v1/reference/horoscopes/")
    assert response.status_code == 404 and "measures" in response.json()["detail"]
    response = client.get("/api/v1/reference/measures/", {"ched_type": "CHED-Z"})
    assert response.status_code == 400 and "ched_type" in response.json()


def test_code_lists_need_an_account(client):
    assert client.get("/api/v1/reference/measures/").status_code in (401, 403)


def test_bcps_of_a_ched_type_count_only_approvals_in_force(importer):
    from datetime import timedelta

    from django.utils import timezone

    from inspection.models import BcpApproval

    client = api_client_for(importer)
    approved = _codes(client, "bcps", ched_type="CHED-A")
    assert approved
    code = next(iter(approved))
    # its CHED-A approval ended yesterday; an approval for another type stays in force
    BcpApproval.objects.filter(bcp__code=code, ched_type__code="CHED-A").update(
        valid_to=timezone.localdate() - timedelta(days=1)
    )
    assert code not in _codes(client, "bcps", ched_type="CHED-A")
