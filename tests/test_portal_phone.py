"""What an importer looks for first, on any screen: the list's decision and certificate, the next thing to do at
the top of a consignment, the installable app, and email links that land on the consignment after login."""

import pytest
from django.test import Client

from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _run_certificate_job, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _client(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _accepted(importer, inspector, officer, *, in_thread=False):
    """A consignment accepted and certified. `in_thread`: the certificate job runs in a thread of its own, as
    a worker would (the browser tests' thread runs Playwright's event loop, and signing runs one too)."""
    import threading

    from django.db import connection

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    if in_thread:

        def job():
            try:
                _run_certificate_job(consignment)
            finally:
                connection.close()

        worker = threading.Thread(target=job)
        worker.start()
        worker.join()
    else:
        _run_certificate_job(consignment)
    consignment.refresh_from_db()
    return consignment


def test_the_list_shows_the_decision_and_a_certificate_link(
    importer, inspector, officer, django_assert_max_num_queries
):
    accepted = _accepted(importer, inspector, officer)
    pending = _submit(importer)
    client = _client(importer)
    with django_assert_max_num_queries(12):
        html = client.get("/consignments/").content.decode()
    row = html[html.index(accepted.reference) :]
    row = row[: row.index("</tr>")]
    assert "Acceptable for internal market" in row or "internal market" in row.lower()
    certificate = accepted.certificates.get()
    assert f"/certificates/{certificate.number}/" in row or certificate.number in row
    pending_row = html[html.index(pending.reference) :]
    pending_row = pending_row[: pending_row.index("</tr>")]
    assert pending_row.count("—") >= 2  # no decision, no certificate yet
    assert 'data-label="Decision"' in html


def test_the_filters_fold_unless_one_is_used(importer):
    client = _client(importer)
    assert '<details class="fold" id="filters">' in client.get("/consignments/").content.decode()
    assert '<details class="fold" id="filters" open>' in client.get("/consignments/?status=draft").content.decode()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_consignment_page_opens_with_its_status_and_the_next_step(importer, inspector, officer, language):
    accepted = _accepted(importer, inspector, officer)
    pending = _submit(importer)
    client = _client(importer, language)
    top = client.get(pending.get_absolute_url()).content.decode()
    top = top[top.index('class="card next-step"') :][:600]
    expected = {"en": "Present the goods at", "fr": "Présentez les marchandises"}[language]
    assert expected in top
    done = client.get(accepted.get_absolute_url()).content.decode()
    done = done[done.index('class="card next-step"') :][:600]
    assert {"en": "Accepted", "fr": "Accepté"}[language] in done and 'href="#certificates"' in done
    assert {"en": "customs broker", "fr": "déclarant en douane"}[language] in done


def test_the_portal_installs_and_opens_on_the_consignment_list(importer):
    response = Client(HTTP_ACCEPT_LANGUAGE="fr").get("/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/consignments/" and manifest["display"] == "standalone"
    assert manifest["lang"] == "fr" and "Martinique" in manifest["name"]
    for icon in manifest["icons"]:
        assert icon["sizes"] in ("192x192", "512x512")
    page = _client(importer).get("/consignments/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page


def test_an_email_link_lands_on_the_consignment_after_login(importer):
    consignment = _submit(importer)
    client = Client()
    first = client.get(consignment.get_absolute_url())
    assert first.status_code == 302 and first["Location"].startswith("/accounts/login/?next=")
    landed = client.post(first["Location"], {"username": importer.username, "password": "pw"}, follow=False)
    assert landed.status_code == 302 and landed["Location"] == consignment.get_absolute_url()
