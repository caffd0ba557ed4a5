"""The destination's import requirements researched for Martinique's main markets (docs/regulation.md, section 9):
loaded by migration 0040 from `destination_requirements.json`, each with its source, article and date read (and
`read` false where it is an assumption), shown to the exporter as a checklist in the portal and the API, confirmed
one by one by the inspector's documentary check, kept in the admin."""

import datetime
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from inspection.models import DestinationRequirement, ExportCheck
from tests.conftest import api_client_for
from tests.factories import export_application, requirements_in_force

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent.parent / "inspection" / "migrations" / "data" / "destination_requirements.json"
LIST = "/api/v1/exports/"


def _line(description: str, hs_code: str, botanical: str) -> dict:
    return {
        "description": description,
        "hs_code": hs_code,
        "botanical_name": botanical,
        "eppo_code": "",
        "net_weight_kg": "500.000",
        "packages": 50,
        "package_type": "CT",
        "place_of_production": "Habitation Lareinty, Le Lamentin",
    }


def _apply(exporter, country: str, *lines: dict, draft: bool = False) -> dict:
    body = export_application(
        consignee={"name": "Importer", "address": "Somewhere", "country": country},
        destination={"country": country, "point_of_entry": "Port", "unlocode": ""},
        **({"lines": list(lines)} if lines else {}),
    )
    response = api_client_for(exporter).post(LIST, {**body, "draft": draft}, format="json")
    assert response.status_code == 201, response.json()
    return api_client_for(exporter).get(f"{LIST}{response.json()['reference']}/").json()


def _codes(detail: dict) -> set[str]:
    return {r["code"] for r in detail["requirements"]}


def test_every_researched_row_is_loaded_with_its_source_and_the_day_it_was_read():
    rows = json.loads(DATA.read_text())
    loaded = {r.code: r for r in DestinationRequirement.objects.filter(code__in=[row["code"] for row in rows])}
    assert len(loaded) == len(rows) >= 20
    for row in rows:
        requirement = loaded[row["code"]]
        requirement.full_clean()  # lengths, the source's URL, the kind
        assert requirement.checked_on == datetime.date(2026, 12, 7)
        assert requirement.legal_reference and requirement.text_fr and requirement.text_en
        assert requirement.read is row["read"]
        assert requirement.valid_from <= datetime.date(2026, 12, 7) and requirement.valid_to is None
        if not requirement.read:  # an assumption says so in both languages
            assert "hypothèse" in requirement.text_fr.lower() and "assumption" in requirement.text_en.lower()
    # Martinique's main markets: mainland France, the United States, Canada, and four Caribbean ones
    assert {r.destination_country.code for r in loaded.values()} >= {"FR", "US", "CA", "TT", "DM", "GP", "GF"}


def test_bananas_and_pineapples_for_mainland_france_need_no_certificate(exporter):
    detail = _apply(
        exporter,
        "FR",
        _line("Bananes dessert fraîches", "08039010", "Musa acuminata"),
        _line("Ananas frais", "08043000", "Ananas comosus"),
    )
    assert _codes(detail) == {"FR-2072-XIC-0803", "FR-2072-XIC-080430"}
    bananas = next(r for r in detail["requirements"] if r["code"] == "FR-2072-XIC-0803")
    assert bananas["kind"] == "not_required" and bananas["read"] is True
    assert "Annex XI, Part C" in bananas["legal_reference"]
    assert bananas["checked_on"] == "2026-12-07" and bananas["valid_from"] == "2019-12-14"
    assert bananas["valid_to"] is None and bananas["source"].startswith("https://")


def test_cut_flowers_and_plants_for_mainland_france_need_a_certificate_and_its_conditions(exporter):
    flowers = _apply(exporter, "FR", _line("Anthuriums coupés", "06031970", "Anthurium andraeanum"))
    assert _codes(flowers) == {"FR-2072-XIB-0603", "FR-2031-ART76"}
    plants = _apply(exporter, "FR", _line("Plants d'anthurium", "06029091", "Anthurium andraeanum"))
    assert _codes(plants) == {
        "FR-2072-ART11-0602",
        "FR-2072-VII1-0602",
        "FR-2018-2019-HRP-0602",
        "FR-2031-ART76",
    }
    yams = _apply(exporter, "FR", _line("Ignames", "07143000", "Dioscorea alata"))
    assert _codes(yams) == {"FR-2072-ART11-0714", "FR-2031-ART76"}


def test_several_hs_prefixes_match_each_line_and_no_prefix_matches_every_line(exporter):
    ginger = _apply(exporter, "TT", _line("Gingembre frais", "09101100", "Zingiber officinale"))
    assert _codes(ginger) == {"TT-PPA-S3"}  # the permit for everything; fresh ginger is no processed spice
    pepper = _apply(exporter, "TT", _line("Poivre séché", "09041100", "Piper nigrum"))
    assert _codes(pepper) == {"TT-PPA-S3", "TT-2019-SPICES"}
    spices = _apply(exporter, "FR", _line("Cannelle", "09061100", "Cinnamomum verum"))
    assert _codes(spices) == {"FR-2072-DRY-0904"}
    assert _codes(_apply(exporter, "GP", _line("Ignames", "07143000", "Dioscorea alata"))) == {"GP-DOM-1990-IIIB1"}
    assert _codes(_apply(exporter, "DM", _line("Dachines", "07144000", "Colocasia esculenta"))) == {
        "DM-PPQS-PERMIT",
        "DM-PPQS-CERT",
    }


def test_the_portal_shows_each_requirement_with_its_source_and_an_assumption_as_one(exporter):
    detail = _apply(exporter, "CA")  # the factory's fresh bananas to Montréal
    assert _codes(detail) == {"CA-D-01-07-TROPICAL"}
    assert detail["requirements"][0]["read"] is False
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(exporter)
    page = client.get(f"/exports/{detail['reference']}/").content.decode()
    assert "No phytosanitary certificate required" in page
    assert "CFIA directive D-01-07" in page and "read on" in page
    assert "assumption: the text itself was not read" in page
    assert 'href="https://inspection.canada.ca/plant-health/' in page
    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    french.force_login(exporter)
    page = french.get(f"/exports/{detail['reference']}/").content.decode()
    assert "Aucun certificat phytosanitaire exigé" in page and "hypothèse : le texte lui-même n'a pas été lu" in page


def test_the_documentary_check_checks_the_loaded_requirements(exporter, inspector):
    detail = _apply(exporter, "US", _line("Ananas frais", "08043000", "Ananas comosus"))
    assert _codes(detail) == {"US-7CFR319.56-08"}
    url = f"{LIST}{detail['reference']}/checks/"
    api = api_client_for(inspector)
    unconfirmed = api.post(url, {"kind": "documentary", "result": "satisfactory"}, format="json")
    assert unconfirmed.status_code == 400
    assert "APHIS" in unconfirmed.json()["requirements"][0]
    assert not ExportCheck.objects.exists()
    checklist = {"requirements_met": requirements_in_force(detail["reference"])}
    confirmed = api.post(url, {"kind": "documentary", "result": "satisfactory", **checklist}, format="json")
    assert confirmed.status_code == 201, confirmed.json()
    (recorded,) = ExportCheck.objects.get().requirements
    assert recorded["kind"] == "permit" and "FAVIR" in recorded["text"]


def test_a_requirement_ended_in_the_admin_is_no_longer_shown(exporter):
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    assert admin.get("/admin/inspection/destinationrequirement/").status_code == 200
    assert admin.get("/admin/inspection/destinationrequirement/?read__exact=0").status_code == 200
    row = DestinationRequirement.objects.get(code="CA-D-01-07-TROPICAL")
    page = admin.get(f"/admin/inspection/destinationrequirement/{row.pk}/change/")
    assert page.status_code == 200 and "CFIA directive D-01-07" in page.content.decode()
    row.valid_to = datetime.date(2026, 1, 31)  # what the post does in the admin when the CFIA's rule changes
    row.save(update_fields=["valid_to"])
    assert _codes(_apply(exporter, "CA")) == set()


def test_the_admin_adds_a_requirement_and_refuses_badly_written_hs_codes(exporter):
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    row = {
        "code": "LC-POST-1",
        "destination_country": "LC",
        "hs_prefix": "071420",
        "kind": "permit",
        "text_fr": "Permis d'importation",
        "text_en": "Import permit",
        "legal_reference": "Saint Lucia, Plant Protection Act (to read)",
        "source": "https://example.org/lc",
        "checked_on": "2026-12-07",
        "read": "",
        "valid_from": "2026-01-01",
    }
    for typo in ("0714 2", "0714,0803", "ex 0714"):  # a one-digit prefix would match far too much
        bad = admin.post("/admin/inspection/destinationrequirement/add/", {**row, "hs_prefix": typo})
        assert bad.status_code == 200 and "HS codes of 2 to 10 digits" in bad.content.decode()
    assert not DestinationRequirement.objects.filter(code="LC-POST-1").exists()
    added = admin.post("/admin/inspection/destinationrequirement/add/", row)
    assert added.status_code == 302
    assert DestinationRequirement.objects.get(code="LC-POST-1").read is False
    yams = _apply(exporter, "LC", _line("Patates douces", "07142000", "Ipomoea batatas"))
    assert _codes(yams) == {"LC-POST-1"} and yams["requirements"][0]["read"] is False


def test_the_requirements_are_a_code_list_for_exporters_systems(exporter):
    client = api_client_for(exporter)
    response = client.get("/api/v1/reference/destination-requirements/", {"page_size": 500})
    assert response.status_code == 200
    items = {item["code"]: item for item in response.json()["results"]}
    bananas = items["FR-2072-XIC-0803"]
    assert bananas["ched_types"] == [] and bananas["name_en"].startswith("Bananas")
    assert bananas["details"] == {
        "destination_country": "FR",
        "hs_prefixes": ["0803"],
        "kind": "not_required",
        "legal_reference": bananas["details"]["legal_reference"],
        "source": "https://github.com/legalize-dev/legalize-eu/blob/main/eu/32019R2072.md",
        "checked_on": "2026-12-07",
        "read": True,
        "valid_from": "2019-12-14",
        "valid_to": None,
    }
    assert items["TT-2019-SPICES"]["details"]["hs_prefixes"][-1] == "091099"
    none = client.get("/api/v1/reference/destination-requirements/", {"ched_type": "CHED-PP"})
    assert none.status_code == 200 and none.json()["count"] == 0  # not a CHED matter
