"""CHED-D against Implementing Regulation (EU) 2019/1793 as written (docs/regulation.md, section 4): an "ex" CN
code covers only the TARIC subdivisions its annex names, and Annex II point 3 holds for goods dispatched from
the country it names. Over the API, as an importer's system would."""

import pytest

from inspection.models import AuditEvent, Consignment
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_part_one_rules import _dig

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"
ANNEX_II_DOCUMENTS = [
    {"type": "HEALTH_CERTIFICATE", "reference": "TR-2026-415"},
    {"type": "LABORATORY_ANALYSIS_REPORT", "reference": "LAB-TR-2026-415"},
]


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _ched_d(cn_code: str, origin: str, *, dispatch: str | None = None, documents=None) -> dict:
    part = part_one("CHED-D", as_json=True, country_of_origin=origin, country_of_dispatch=dispatch or origin)
    part["commodities"][0].update(cn_code=cn_code, description="", species="")
    if documents is not None:
        part["accompanying_documents"] = documents
    return part


def _submit(importer, part, language="en"):
    return api_client_for(importer, language=language).post(URL, part, format="json")


def test_an_ex_code_without_its_taric_subdivision_is_refused_with_the_subdivision_to_give(importer):
    # chillies from the Dominican Republic: Annex I row 7 lists "ex 0709 60 99" TARIC 20 only
    response = _submit(importer, _ched_d("07096099", "DO"))
    assert response.status_code == 400
    message = _dig(response.json(), "commodities.0.cn_code")
    assert "lists only part of CN 07096099 from DO" in message and "TARIC subdivision 20" in message
    assert "peppers of the genus Capsicum other than sweet" in message
    french = _dig(_submit(importer, _ched_d("07096099", "DO"), "fr").json(), "commodities.0.cn_code")
    assert "ne liste qu'une partie du code NC 07096099" in french
    assert not Consignment.objects.exists() and not AuditEvent.objects.exists()


def test_the_ten_digit_code_of_the_listed_subdivision_takes_the_rule(importer):
    response = _submit(importer, _ched_d("0709609920", "DO"))
    assert response.status_code == 201, response.json()
    plan = Consignment.objects.get().check_plan
    assert "Annex I, row 7" in plan.rule and "DO 07096099 TARIC 20" in plan.rule
    assert (plan.identity_rate, plan.physical_rate) == (50, 50)


def test_an_ex_code_is_narrowed_for_one_origin_and_whole_for_another(importer):
    # yardlong beans: Sri Lanka "ex 0708 20 00" TARIC 10 (Annex I row 15); Kenya the whole of 0708 20 (row 14)
    assert _submit(importer, _ched_d("07082000", "LK")).status_code == 400
    assert _submit(importer, _ched_d("0708200010", "LK")).status_code == 201
    assert _submit(importer, _ched_d("07082000", "KE")).status_code == 201


def test_annex_ii_point_3_holds_for_goods_dispatched_from_the_country_it_names(importer):
    # pistachios of the United States dispatched from Türkiye: certificate and analyses, 50 %
    refused = _submit(importer, _ched_d("08025200", "US", dispatch="TR"))
    assert refused.status_code == 400
    assert "Goods of Annex II of Regulation (EU) 2019/1793 need" in " ".join(refused.json()["accompanying_documents"])
    response = _submit(importer, _ched_d("08025200", "US", dispatch="TR", documents=ANNEX_II_DOCUMENTS))
    assert response.status_code == 201, response.json()
    plan = Consignment.objects.get().check_plan
    assert "Annex II.3, row 1" in plan.rule and "dispatched from TR" in plan.rule
    assert (plan.identity_rate, plan.physical_rate) == (50, 50)


def test_the_same_goods_dispatched_from_their_origin_take_no_ched_d(importer):
    response = _submit(importer, _ched_d("08025200", "US", documents=ANNEX_II_DOCUMENTS))
    assert response.status_code == 400
    assert "does not list CN 08025200 from US" in _dig(response.json(), "commodities.0.cn_code")
    assert not Consignment.objects.exists()
