"""Fees for the official controls (Regulation (EU) 2017/625, art. 79 and Annex IV, Chapter II; issue 20, item 6):
drawn from the schedule when the officer decides, shown to the company once the decision is in force, listed
at /api/v1/fees/, and printed as a PDF. Over HTTP, as the officer and the importer would."""

import io
from decimal import Decimal

import pypdf
import pytest
from django.test import Client
from django.utils import timezone

from inspection.models import AuditEvent, ChedType, Decision, FeeRate, ReinforcedCheckRule
from tests.conftest import api_client_for
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _refuse, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db

CN = {"CHED-PP": "08045000", "CHED-P": "02023090", "CHED-A": "01061900", "CHED-D": "12024200"}


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _decided(importer, inspector, officer, ched_type="CHED-P", decision=ACCEPT, **overrides):
    """Submitted with no identity or physical check drawn, documentary check satisfactory, then decided."""
    _rates(CN[ched_type], 0, 0)
    ReinforcedCheckRule.objects.filter(cn_prefix=CN[ched_type]).update(identity_rate=0, physical_rate=0)
    consignment = _submit(importer, ched_type, **overrides)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, decision)
    consignment.refresh_from_db()
    return consignment


def _fees(user, consignment) -> dict | None:
    return api_client_for(user).get(f"/api/v1/consignments/{consignment.reference}/").json()["fees"]


@pytest.mark.parametrize(
    ("gross_kg", "total", "per_tonne"),
    [
        ("1380.000", "55.00", "0.00"),  # up to 6 tonnes: EUR 55 per consignment
        ("10000.000", "90.00", "9.00"),  # over 6 and up to 46 tonnes: EUR 9 per tonne
        ("46000.000", "414.00", "9.00"),  # the band's upper bound belongs to it
        ("50000.000", "420.00", "0.00"),  # over 46 tonnes: EUR 420 per consignment
    ],
)
def test_meat_pays_the_annex_iv_rate_of_its_weight_band(importer, inspector, officer, gross_kg, total, per_tonne):
    consignment = _decided(importer, inspector, officer, "CHED-P", total_gross_weight_kg=gross_kg)
    fees = _fees(importer, consignment)
    assert fees["total_eur"] == total and fees["currency"] == "EUR"
    assert fees["category"] == "II" and fees["weight_tonnes"] == str(Decimal(gross_kg) / 1000)
    (line,) = fees["lines"]
    assert line["per_tonne"] == per_tonne and line["amount"] == total
    assert line["source"] == "Regulation (EU) 2017/625, Annex IV, Chapter II, point II"
    event = AuditEvent.objects.get(consignment=consignment, action="decision.recorded")
    assert event.data["fees_eur"] == total  # in the decision's own event: same transaction


def test_live_animals_of_other_species_pay_point_i_b(importer, inspector, officer):
    consignment = _decided(importer, inspector, officer, "CHED-A")  # three dogs, CN 0106 19
    fees = _fees(importer, consignment)
    assert (fees["category"], fees["total_eur"]) == ("I.b", "55.00")


def test_a_consignment_in_transit_pays_point_vii(importer, inspector, officer):
    transit = {**ACCEPT, "code": "acceptable_for_transit", "exit_bcp": "FRLEH4 Le Havre", "destination_country": "CH"}
    consignment = _decided(importer, inspector, officer, "CHED-P", decision=transit, total_gross_weight_kg="20000")
    fees = _fees(importer, consignment)
    assert (fees["category"], fees["total_eur"]) == ("VII", "30.00")


def test_controls_at_cost_charge_each_check_done(importer, inspector, officer):
    ched_d = ChedType.objects.get(code="CHED-D")
    for charges, fixed in (("documentary", "25.00"), ("identity", "30.00"), ("laboratory", "120.00")):
        FeeRate.objects.create(
            ched_type=ched_d,
            category="cost",
            charges=charges,
            fixed_eur=Decimal(fixed),
            name_fr=charges,
            name_en=charges,
            source="arrêté préfectoral (test)",
        )
    consignment = _decided(importer, inspector, officer, "CHED-D")
    fees = _fees(importer, consignment)
    # only the documentary check was done: no identity check, no sample
    assert fees["category"] == "cost"
    assert [(line["charges"], line["amount"]) for line in fees["lines"]] == [("documentary", "25.00")]
    assert fees["total_eur"] == "25.00"


def test_without_a_rate_in_force_the_statement_says_so(importer, inspector, officer, supervisor):
    consignment = _decided(importer, inspector, officer, "CHED-PP")
    fees = _fees(importer, consignment)
    assert (fees["lines"], fees["total_eur"]) == ([], "0.00")
    text = _pdf_text(supervisor, consignment)
    assert "No fee in the schedule in force for this consignment." in text


def test_a_rate_out_of_force_is_not_applied(importer, inspector, officer):
    today = timezone.localdate()
    FeeRate.objects.filter(ched_type__code="CHED-P", category="II").update(valid_to=today.replace(year=today.year - 1))
    consignment = _decided(importer, inspector, officer, "CHED-P")
    assert _fees(importer, consignment)["total_eur"] == "0.00"


def _pdf_text(user, consignment) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/fees/{consignment.reference}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    return " ".join(text.split())  # the lines as they wrap on the page


def test_the_pdf_prints_the_lines_and_the_total_in_both_languages(importer, inspector, officer):
    consignment = _decided(importer, inspector, officer, "CHED-P", total_gross_weight_kg="10000")
    text = _pdf_text(importer, consignment)
    assert "Statement of official control fees" in text and "Relevé des redevances" in text
    assert consignment.reference in text and "90.00" in text and "10.000 t × 9.00" in text
    assert "over 6 and up to 46 tonnes: EUR 9 per tonne" in text


def test_a_refusal_shows_its_fees_once_countersigned_and_only_to_its_company(
    importer, other_importer, lab, inspector, officer, supervisor
):
    consignment = _decided(importer, inspector, officer, "CHED-P", decision=_refuse())
    assert consignment.status == "awaiting_countersign"
    assert Decision.objects.get(consignment=consignment).fee_total_eur == Decimal("55.00")  # drawn with it
    # pending: neither the detail, nor the list, nor the PDF shows it to the company; staff see it
    assert _fees(importer, consignment) is None
    assert api_client_for(importer).get("/api/v1/fees/").json()["count"] == 0
    importer_client = Client()
    importer_client.force_login(importer)
    assert importer_client.get(f"/fees/{consignment.reference}/pdf/").status_code == 404
    assert api_client_for(supervisor).get("/api/v1/fees/").json()["count"] == 1

    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    listed = api_client_for(importer).get("/api/v1/fees/").json()
    assert [row["reference"] for row in listed["results"]] == [consignment.reference]
    assert listed["results"][0]["url"].endswith(f"/fees/{consignment.reference}/pdf/")
    assert importer_client.get(f"/fees/{consignment.reference}/pdf/").status_code == 200
    # another company and a laboratory: nothing, and the same 404 as for a reference that does not exist
    assert api_client_for(other_importer).get("/api/v1/fees/").json()["count"] == 0
    assert api_client_for(lab).get("/api/v1/fees/").json()["count"] == 0
    other = Client()
    other.force_login(other_importer)
    assert other.get(f"/fees/{consignment.reference}/pdf/").status_code == 404
    assert other.get("/fees/CHEDP.FR.2026.9999999/pdf/").status_code == 404


def test_the_pdf_and_the_list_need_a_login(importer, inspector, officer):
    consignment = _decided(importer, inspector, officer, "CHED-P")
    assert Client().get(f"/fees/{consignment.reference}/pdf/").status_code == 302
    assert api_client_for(None).get("/api/v1/fees/").status_code in (401, 403)
    token = api_client_for(None)
    token.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert token.get(f"/fees/{consignment.reference}/pdf/").status_code == 302


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_portal_page_shows_the_fees_with_the_pdf_link(importer, inspector, officer, language):
    consignment = _decided(importer, inspector, officer, "CHED-P")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(importer)
    page = client.get(f"/consignments/{consignment.reference}/").content.decode()
    assert f'href="/fees/{consignment.reference}/pdf/"' in page
    assert ("Relevé des redevances (PDF)" if language == "fr" else "Fee statement (PDF)") in page
    assert "55.00" in page or "55,00" in page


def test_the_parts_of_a_split_consignment_share_its_fee_by_weight(importer, inspector, officer):
    """One fee a consignment presented (Annex IV): 10 t of meat pays EUR 90; split 70/30, its parts pay 63 and 27
    (not 63 and the 55 minimum of a 3 t consignment), each line naming the consignment and the share."""
    _rates(CN["CHED-P"], 0, 0)
    ReinforcedCheckRule.objects.filter(cn_prefix=CN["CHED-P"]).update(identity_rate=0, physical_rate=0)
    parent = _submit(importer, "CHED-P", total_gross_weight_kg="10000.000")
    _do(inspector, parent, InspectionFlow.documentary_check, _documentary_ok(parent))
    parts = [
        {"lines": [{"line": 1, "net_weight_kg": "875.350", "packages": 175}]},
        {"lines": [{"line": 1, "net_weight_kg": "375.150", "packages": 75}]},
    ]
    response = api_client_for(officer).post(
        f"/api/v1/consignments/{parent.reference}/split/", {"parts": parts}, format="json"
    )
    assert response.status_code == 201, response.json()
    amounts = []
    for reference in response.json()["parts"]:
        part = parent.subsequent.get(reference=reference)
        _do(officer, part, InspectionFlow.decide, ACCEPT)
        fees = _fees(importer, part)
        (line,) = fees["lines"]
        assert line["presented"] == parent.reference and line["whole_amount"] == "90.00"
        amounts.append((line["share"], fees["weight_tonnes"], fees["total_eur"]))
    assert amounts == [("0.7000", "7.000", "63.00"), ("0.3000", "3.000", "27.00")]


def test_a_parts_pdf_names_the_consignment_and_its_share(importer, inspector, officer):
    _rates(CN["CHED-P"], 0, 0)
    ReinforcedCheckRule.objects.filter(cn_prefix=CN["CHED-P"]).update(identity_rate=0, physical_rate=0)
    parent = _submit(importer, "CHED-P", total_gross_weight_kg="10000.000")
    _do(inspector, parent, InspectionFlow.documentary_check, _documentary_ok(parent))
    parts = [
        {"lines": [{"line": 1, "net_weight_kg": "875.350", "packages": 175}]},
        {"lines": [{"line": 1, "net_weight_kg": "375.150", "packages": 75}]},
    ]
    response = api_client_for(officer).post(
        f"/api/v1/consignments/{parent.reference}/split/", {"parts": parts}, format="json"
    )
    part = parent.subsequent.get(reference=response.json()["parts"][1])
    _do(officer, part, InspectionFlow.decide, ACCEPT)
    text = _pdf_text(importer, part)
    assert f"90.00 × 0.3000 : part du lot {parent.reference}" in text
    assert "share of consignment" in text and "27.00" in text
