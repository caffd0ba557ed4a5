"""The importer portal, walked as a person would: log in, fill Part I, save a draft, submit."""

import pytest
from django.test import Client

from inspection.models import Consignment
from tests.factories import arrival_in

pytestmark = pytest.mark.django_db


def _client(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _form(**overrides):
    data = {
        "ched_type": "CHED-PP",
        "bcp": "FRFDF1",
        "consignor_name": "Frutas del Cibao SRL",
        "consignor_address": "Av. Duarte 120, Santiago",
        "consignor_country": "DO",
        "consignee_name": "Antilles Primeurs SARL",
        "consignee_address": "ZI de la Lézarde",
        "consignee_country": "FR",
        "country_of_origin": "DO",
        "purpose": "internal_market",
        "expected_at": arrival_in().strftime("%Y-%m-%dT%H:%M"),
        "transport_mode": "sea",
        "transport_id": "CMA CGM FORT DESAIX 612N",
        "transport_document": "BL1234567",
        "place_of_destination_name": "Antilles Primeurs SARL, entrepôt du Lamentin",
        "place_of_destination_address": "ZI de la Lézarde, 97232 Le Lamentin",
        "place_of_destination_country": "MQ",
        "country_of_dispatch": "DO",
        "submit": "1",
    }
    for prefix, rows in (
        ("containers", [{"number": "CSQU3054383", "seal": "FX1"}]),
        (
            "commodities",
            [
                {
                    "cn_code": "08045000",
                    "description": "Mangues",
                    "species": "Mangifera indica",
                    "net_weight_kg": "1200",
                    "packages": "100",
                    "package_type": "CT",
                }
            ],
        ),
        ("accompanying_documents", [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": "DO-1"}]),
    ):
        data.update({f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"})
        for i, row in enumerate(rows):
            data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    data.update(overrides)
    return data


def test_login_page_in_both_languages():
    assert "Log in" in Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/").content.decode()
    assert "Se connecter" in Client(HTTP_ACCEPT_LANGUAGE="fr").get("/accounts/login/").content.decode()


def test_anonymous_is_sent_to_login():
    response = Client().get("/consignments/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_importer_submits_part_one(importer):
    client = _client(importer)
    assert client.get("/consignments/new/?ched_type=CHED-PP").status_code == 200

    response = client.post("/consignments/new/", _form())

    consignment = Consignment.objects.get()
    assert response.status_code == 302 and response.url == consignment.get_absolute_url()
    assert consignment.status == "submitted"
    assert consignment.lines.get().cn_code == "08045000"
    page = client.get(response.url).content.decode()
    assert consignment.reference in page and "Pre-notification submitted" in page


def test_draft_then_edit_then_submit(importer):
    client = _client(importer)
    draft = _form(bcp="", save_draft="1")
    del draft["submit"]
    client.post("/consignments/new/", draft)
    consignment = Consignment.objects.get()
    assert consignment.status == "draft"

    edit_url = f"/consignments/{consignment.reference}/edit/"
    assert "FRFDF1" in client.get(edit_url).content.decode()  # the BCP list is offered
    form = _form()
    for prefix in ("containers", "commodities", "accompanying_documents"):
        form[f"{prefix}-INITIAL_FORMS"] = form[f"{prefix}-TOTAL_FORMS"]
    response = client.post(edit_url, form)

    assert response.status_code == 302
    consignment.refresh_from_db()
    assert consignment.status == "submitted" and consignment.bcp.code == "FRFDF1"


@pytest.mark.parametrize(
    ("language", "banner", "weight_message"),
    [
        ("en", "Nothing was saved", "greater than 0 kg"),
        ("fr", "Rien n'a été enregistré", "supérieur à 0 kg"),
    ],
)
def test_errors_are_shown_on_their_fields_and_nothing_is_saved(importer, language, banner, weight_message):
    client = _client(importer, language)
    response = client.post("/consignments/new/", _form(**{"commodities-0-net_weight_kg": "0", "bcp": ""}))
    page = response.content.decode()
    assert response.status_code == 200
    assert banner in page and weight_message in page
    assert 'value="Frutas del Cibao SRL"' in page  # what was typed is kept
    assert Consignment.objects.count() == 0


def test_missing_required_document_is_shown_on_its_section(importer):
    form = _form(**{"accompanying_documents-TOTAL_FORMS": "0"})
    page = _client(importer).post("/consignments/new/", form).content.decode()
    assert "needs: Phytosanitary certificate" in page


def test_cancel_a_draft(importer):
    client = _client(importer)
    draft = _form(save_draft="1")
    del draft["submit"]
    client.post("/consignments/new/", draft)
    consignment = Consignment.objects.get()
    client.post(f"/consignments/{consignment.reference}/cancel/")
    consignment.refresh_from_db()
    assert consignment.status == "cancelled"
    assert client.get(f"/consignments/{consignment.reference}/edit/").status_code == 404


def test_staff_do_not_get_the_pre_notification_form(inspector):
    assert _client(inspector).get("/consignments/new/").status_code == 404


@pytest.mark.parametrize("path", ["/accounts/login/", "/consignments/", "/consignments/new/?ched_type=CHED-P"])
def test_every_page_has_the_language_switch(importer, path):
    page = _client(importer).get(path).content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'name="language" value="fr"' in page and 'name="language" value="en"' in page


def test_language_switch_changes_the_language(importer):
    client = _client(importer, "en")
    client.post("/i18n/setlang/", {"language": "fr", "next": "/consignments/"})
    assert "Nouvelle pré-notification" in client.get("/consignments/").content.decode()


def test_list_is_paginated_and_filterable(importer, django_assert_max_num_queries):
    from inspection.services.consignments import consignment_create
    from tests.factories import part_one

    for _ in range(30):
        consignment_create(actor=importer, part_one=part_one())
    consignment_create(actor=importer, part_one=part_one("CHED-P"))
    client = _client(importer)
    with django_assert_max_num_queries(12):
        page = client.get("/consignments/").content.decode()
    assert "Page 1 of 2" in page
    filtered = client.get("/consignments/", {"ched_type": "CHED-P"}).content.decode()
    assert filtered.count(">CHEDP.MQ.") == 1


def test_an_absurd_arrival_date_is_a_field_error_not_a_crash(importer):
    client = _client(importer)
    for action in ("submit", "save_draft"):
        response = client.post("/consignments/new/", {**_form(expected_at="9999-12-31T23:00"), action: "1"})
        assert response.status_code == 200
        assert "at most a year before arrival" in response.content.decode()
    assert Consignment.objects.count() == 0
