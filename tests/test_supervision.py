"""Supervisors' pages: the decision trail (verify, CSV), the audit search (filters, pages, CSV), and who may
see them: supervisors only; inspectors and officers get a 403, importers and labs a 404."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from inspection.models import AuditEvent
from tests.test_verify_audit import TABLE, attacker  # noqa: F401  (fixture)
from tests.test_workflow_paths import _rates, _submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _client(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def consignment(importer):
    _rates("08045000", 100, 0)
    return _submit(importer)


def _trail(consignment, name="supervision:trail"):
    return reverse(name, kwargs={"reference": consignment.reference})


def test_the_trail_shows_every_event_the_rule_and_the_draw(supervisor, consignment):
    page = _client(supervisor).get(_trail(consignment))
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Pre-notification created", "Pre-notification submitted", "Checks planned"):
        assert label in html
    plan = consignment.check_plan
    assert plan.rule in html and "rate 100 %" in html and f"{plan.identity_draw:.4f}" in html
    assert html.count("<tr>") - 1 == AuditEvent.objects.filter(consignment=consignment).count()


def test_the_trail_is_in_french_too(supervisor, consignment):
    html = _client(supervisor, "fr").get(_trail(consignment)).content.decode()
    assert "Vérifier cette piste" in html and "Contrôles planifiés" in html


def test_the_trail_takes_a_fixed_number_of_queries(supervisor, importer, consignment, django_assert_max_num_queries):
    client = _client(supervisor)
    client.get(_trail(consignment))
    with django_assert_max_num_queries(12):
        assert client.get(_trail(consignment)).status_code == 200


@pytest.mark.parametrize("name", ["supervision:trail", "supervision:trail-csv"])
def test_inspectors_and_officers_get_403_importers_and_labs_404(name, consignment, inspector, officer, importer, lab):
    url = _trail(consignment, name)
    assert _client(inspector).get(url).status_code == 403
    assert _client(officer).get(url).status_code == 403
    assert _client(importer).get(url).status_code == 404
    assert _client(lab).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # log in first


def test_verify_this_trail_says_intact(supervisor, consignment):
    response = _client(supervisor).post(_trail(consignment, "supervision:trail-verify"), follow=True)
    assert "This trail is intact" in response.content.decode()


def test_verify_this_trail_names_a_changed_event(supervisor, consignment, attacker):  # noqa: F811
    event = AuditEvent.objects.filter(consignment=consignment).order_by("id")[1]
    attacker(f"UPDATE {TABLE} SET role = 'supervisor' WHERE id = %s", [event.pk])  # noqa: S608
    response = _client(supervisor).post(_trail(consignment, "supervision:trail-verify"), follow=True)
    assert f"Event {event.pk} was changed" in response.content.decode()


def test_the_trail_exports_as_csv(supervisor, consignment):
    response = _client(supervisor).get(_trail(consignment, "supervision:trail-csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    events = list(AuditEvent.objects.filter(consignment=consignment).order_by("id"))
    assert rows[0][0] == "position" and len(rows) == len(events) + 1
    assert [r[6] for r in rows[1:]] == [e.action for e in events]
    assert rows[-1][8] == events[-1].event_hash


def test_the_trail_exports_as_pdf_with_every_event_and_its_hash(supervisor, consignment):
    from pypdf import PdfReader

    response = _client(supervisor).get(_trail(consignment, "supervision:trail-pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages)
    assert consignment.reference in text and "intacte / intact" in text
    for event in AuditEvent.objects.filter(consignment=consignment):
        assert event.event_hash in text.replace(" ", "")


def test_an_unknown_consignment_is_404(supervisor):
    assert _client(supervisor).get("/supervision/consignments/CHEDPP.FR.2026.9999999/trail/").status_code == 404


def _search(user, **params):
    return _client(user).get(reverse("supervision:audit-search"), params)


def _found(user, **params) -> str:
    """The result rows of a search (not the filter drop-downs)."""
    html = _search(user, **params).content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_audit_search_filters_by_step_actor_outcome_and_ched_type(supervisor, importer, consignment):
    other = _submit(importer, "CHED-P")
    html = _found(supervisor, action="checks.planned")
    assert consignment.reference in html and other.reference in html and "Pre-notification created" not in html
    html = _found(supervisor, actor=importer.username)
    assert "Checks planned" not in html and "Pre-notification submitted" in html
    html = _found(supervisor, outcome="submitted")
    assert html.count("Pre-notification submitted") == 2
    html = _found(supervisor, ched_type="CHED-P")
    assert other.reference in html and consignment.reference not in html
    html = _found(supervisor, commodity="0804")
    assert consignment.reference in html and other.reference not in html


def test_audit_search_is_paginated(supervisor, consignment):
    page = _search(supervisor).content.decode()
    assert "Page" not in page or "Page 1 of 1" in page
    assert _search(supervisor, page=99).status_code == 200


def test_audit_search_rejects_a_bad_date_clearly(supervisor):
    response = _search(supervisor, occurred_from="yesterday")
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
    export = _client(supervisor).get(reverse("supervision:audit-export"), {"occurred_from": "yesterday"})
    assert export.status_code == 400


def test_audit_search_exports_a_streamed_csv(supervisor, consignment):
    response = _client(supervisor).get(reverse("supervision:audit-export"), {"action": "checks.planned"})
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2 and rows[1][3] == consignment.reference


def test_audit_search_is_for_supervisors_only(inspector, importer):
    assert _search(inspector).status_code == 403
    assert _search(importer).status_code == 404
