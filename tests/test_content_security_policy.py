"""The Content-Security-Policy (issue 16, item 9): on every HTML page, scripts from our own origin only, and
no page of ours or of viewflow's that we serve carries an inline script or an event-handler attribute the
policy would block. The browser tests (tests/e2e) check the same pages in Chromium, failing on any report."""

import re

import pytest
from django.test import Client

from inspection.services.consignments import consignment_create
from tests.factories import part_one

pytestmark = pytest.mark.django_db

# a <script> without src= that a browser would run (JSON data blocks are not run, so not blocked)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def _directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def _pages(importer, inspector, supervisor) -> list[tuple[object, str]]:
    consignment = consignment_create(actor=importer, part_one=part_one(), draft=False)
    return [
        (None, "/accounts/login/"),
        (None, "/verify/CHEDPP.FR.2026.0000001-C1/"),
        (None, "/api/docs/"),
        (importer, "/consignments/"),
        (importer, "/consignments/new/"),
        (importer, f"/consignments/{consignment.reference}/"),
        (inspector, "/workflow/"),
        (inspector, "/workflow/today/"),
        (inspector, "/workflow/inspection/queue/"),
        (inspector, "/workflow/inspection/inbox/"),
        (inspector, "/workflow/inspection/queue/assign/"),
        (inspector, f"/certificates/preview/{consignment.reference}/"),
        (supervisor, "/supervision/dashboard/"),
    ]


def test_every_html_page_has_a_strict_script_policy_and_no_inline_script(importer, inspector, supervisor):
    for user, url in _pages(importer, inspector, supervisor):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            client.force_login(user)
        response = client.get(url, follow=True)
        assert response.status_code in (200, 404), (url, response.status_code)
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"], url
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
        assert not EVENT_HANDLER.search(html), (url, EVENT_HANDLER.search(html).group(0))


def test_bulk_assign_and_unassign_pages_name_their_action_and_go_back_where_they_came_from(importer, inspector):
    """The queue's and the inbox's bulk action (a POST of the selected tasks) shows its confirmation page."""
    from tests.test_workflow_paths import _open_task
    from workflows.flows import InspectionFlow

    consignment = consignment_create(actor=importer, part_one=part_one(), draft=False)
    task = _open_task(consignment, InspectionFlow.documentary_check)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(inspector)
    assign = client.post("/workflow/inspection/queue/assign/", {"pk": [task.pk]})
    assert assign.status_code == 200
    page = assign.content.decode()
    assert "Assign selected tasks" in page and 'href="/workflow/inspection/queue/"' in page
    assert not INLINE_SCRIPT.search(page) and not EVENT_HANDLER.search(page)
    assert client.post("/workflow/inspection/queue/assign/", {"pk": [task.pk], "_confirm": "1"}).status_code == 302
    task.refresh_from_db()
    assert task.owner == inspector
    unassign = client.post("/workflow/inspection/inbox/unassign/", {"pk": [task.pk]})
    assert unassign.status_code == 200
    page = unassign.content.decode()
    assert "Unassign selected tasks" in page and 'href="/workflow/inspection/inbox/"' in page
    assert not INLINE_SCRIPT.search(page) and not EVENT_HANDLER.search(page)


def test_the_api_docs_load_their_set_up_script_from_a_url(importer):
    client = Client()
    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', page).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_downloads_keep_their_own_sandbox_policy(api, importer):
    """A file served to staff or the company is sandboxed by its own header: the page policy does not
    replace it."""
    from inspection.models import AccompanyingDocument
    from tests.factories import pdf_bytes

    consignment = consignment_create(actor=importer, part_one=part_one(), draft=True)
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploaded = api.post(
        f"/api/v1/consignments/{consignment.reference}/documents/",
        {"file": SimpleUploadedFile("c.pdf", pdf_bytes()), "type": "PHYTOSANITARY_CERTIFICATE"},
        format="multipart",
    )
    document = AccompanyingDocument.objects.get(pk=uploaded.json()["id"])
    client = Client()
    client.force_login(importer)
    response = client.get(f"/consignments/{consignment.reference}/documents/{document.pk}/")
    assert response.status_code == 200 and "sandbox" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]


def test_no_template_of_ours_has_an_inline_script_or_event_handler():
    """Pages the test above does not reach (a task's form, a sample's label) are covered by their source."""
    from django.conf import settings

    offending = []
    for template in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        source = template.read_text()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER):
            found = pattern.search(source)
            if found:
                offending.append(f"{template.relative_to(settings.BASE_DIR)}: {found.group(0)[:80]}")
    assert offending == []
