"""An importer never learns that another company's consignment exists: 404 on every page and endpoint that
takes a consignment reference, and nothing in lists. The matrix is generated from the URL configuration,
so a new consignment URL without a case here fails `test_every_consignment_url_is_in_the_matrix`."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from django.urls.resolvers import URLPattern, URLResolver

from inspection.models import AccompanyingDocument, AuditEvent, Consignment
from inspection.services.consignments import consignment_create
from inspection.services.documents import document_upload
from tests.conftest import api_client_for
from tests.factories import part_one, pdf_bytes

pytestmark = pytest.mark.django_db

# URL name -> the HTTP methods to try on it
MATRIX = {
    "portal:consignment-detail": ["get"],
    "portal:consignment-edit": ["get", "post"],
    "portal:consignment-cancel": ["post"],
    "consignment-detail": ["get", "put", "patch"],
    "consignment-submit": ["post"],
    "consignment-cancel": ["post"],
    "portal:document-upload": ["post"],
    "portal:document-download": ["get"],
    "portal:document-remove": ["post"],
    "consignment-documents": ["post"],
    "consignment-document-file": ["get", "delete"],
    "portal:consignment-clone": ["post"],
    "portal:commodities-import": ["post"],
    "consignment-clone": ["post"],
    "consignment-commodities-import": ["post"],
    "certificate-preview": ["get"],
    "fee-statement-pdf": ["get"],
    "supervision:trail": ["get"],
    "supervision:trail-csv": ["get"],
    "supervision:trail-pdf": ["get"],
    "supervision:trail-verify": ["post"],
    "customs-ched-detail": ["get"],
    "consignment-traces-reference": ["post"],
    "consignment-sps-xml": ["get"],
    "consignment-replace": ["post"],
    "consignment-split": ["post"],
    "portal:consignment-replace": ["get", "post"],
    "portal:consignment-split": ["get", "post"],
}


def _consignment_urls() -> dict[str, set[str]]:
    """{name: its URL arguments} of every URL pattern taking a `reference`."""
    found = {}

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and "reference" in p.pattern.regex.groupindex:
                found.setdefault(f"{namespace}{p.name}", set()).update(p.pattern.regex.groupindex)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_consignment_url_is_in_the_matrix():
    names = set(_consignment_urls())  # DRF's format-suffix twins (`.json`) share their pattern's name
    assert names == set(MATRIX), f"add the new URL(s) to MATRIX: {names ^ set(MATRIX)}"


@pytest.fixture
def alices_draft(importer):
    """Alice's draft, with an uploaded document (so document URLs point at something real)."""
    draft = consignment_create(actor=importer, part_one=part_one(), draft=True)
    document_upload(
        actor=importer,
        consignment=draft,
        document_type="PHYTOSANITARY_CERTIFICATE",
        file=SimpleUploadedFile("alice.pdf", pdf_bytes()),
    )
    return draft


def _url(name, reference):
    kwargs = {"reference": reference}
    if "document_id" in _consignment_urls()[name]:
        kwargs["document_id"] = AccompanyingDocument.objects.exclude(file="").get(consignment__reference=reference).pk
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize(("name", "method"), [(n, m) for n, methods in MATRIX.items() for m in methods])
def test_other_company_gets_404_and_changes_nothing(other_importer, alices_draft, name, method):
    url = _url(name, alices_draft.reference)
    if not url.startswith("/api/"):  # a page: session login
        client = Client()
        client.force_login(other_importer)
    else:
        client = api_client_for(other_importer)
    before = AuditEvent.objects.count()

    response = getattr(client, method)(
        url, part_one(as_json=True) if method == "put" else {}, **({"format": "json"} if method == "put" else {})
    )

    assert response.status_code == 404
    assert alices_draft.reference not in response.content.decode()
    assert AuditEvent.objects.count() == before
    assert Consignment.objects.get(pk=alices_draft.pk).status == "draft"
    assert AccompanyingDocument.objects.filter(consignment=alices_draft).exclude(file="").exists()


@pytest.mark.parametrize(("name", "method"), [(n, m) for n, methods in MATRIX.items() for m in methods])
def test_lab_and_anonymous_get_nothing(lab, alices_draft, name, method):
    url = _url(name, alices_draft.reference)
    anonymous = Client() if not url.startswith("/api/") else api_client_for(None)
    assert getattr(anonymous, method)(url).status_code in (302, 401, 403)  # login first
    if not url.startswith("/api/"):
        labclient = Client()
        labclient.force_login(lab)
    else:
        labclient = api_client_for(lab)
    assert getattr(labclient, method)(url).status_code == 404


@pytest.mark.parametrize(("name", "method"), [(n, m) for n, methods in MATRIX.items() for m in methods])
def test_customs_gets_nothing_of_the_importers(customs, alices_draft, name, method):
    """The customs role reads a submitted CHED's decision (tests/test_customs.py) and nothing else: every page
    and endpoint of a consignment is a 404 to it, a draft included, and it changes nothing."""
    url = _url(name, alices_draft.reference)
    if not url.startswith("/api/"):
        client = Client()
        client.force_login(customs)
    else:
        client = api_client_for(customs)
    before = AuditEvent.objects.count()
    assert getattr(client, method)(url).status_code == 404
    assert AuditEvent.objects.count() == before


def test_lists_show_only_own_company(importer, other_importer, alices_draft):
    bobs = consignment_create(actor=other_importer, part_one=part_one())
    api_refs = [c["reference"] for c in api_client_for(other_importer).get("/api/v1/consignments/").json()["results"]]
    assert api_refs == [bobs.reference]
    client = Client()
    client.force_login(other_importer)
    page = client.get("/consignments/").content.decode()
    assert bobs.reference in page and alices_draft.reference not in page
    assert (
        client.get("/consignments/", {"reference": alices_draft.reference[-7:]})
        .content.decode()
        .count(alices_draft.reference)
        == 0
    )


def test_colleague_in_the_same_company_sees_it(importer, alices_draft):
    from tests.factories import importer_factory

    colleague = importer_factory("carol", operator=importer.membership.operator)
    assert api_client_for(colleague).get(_url("consignment-detail", alices_draft.reference)).status_code == 200


def test_staff_see_every_company(inspector, alices_draft):
    assert api_client_for(inspector).get(_url("consignment-detail", alices_draft.reference)).status_code == 200


# Importer-facing URLs that take no consignment reference: anonymous users are sent to log in (or refused by
# the API), other roles get a 404, and nothing there names another company's consignments.
COMPANY_PAGES = {
    "portal:ephyto-import": ("get", {}),
    "portal:part-one-checklist": ("post", {}),
    "portal:commodity-template": ("get", {"extension": "csv"}),
    "portal:notification-settings": ("get", {}),
    "portal:api-tokens": ("get", {}),
}


@pytest.mark.parametrize("name", list(COMPANY_PAGES))
def test_company_pages_need_an_importer_login(lab, name):
    method, kwargs = COMPANY_PAGES[name]
    url = reverse(name, kwargs=kwargs)
    response = getattr(Client(), method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client = Client()
    client.force_login(lab)
    assert getattr(client, method)(url).status_code == 404


@pytest.mark.parametrize("name", ["consignment-import-ephyto", "consignment-import-sps"])
def test_imports_need_an_importer(lab, name):
    url = reverse(name)
    assert api_client_for(None).post(url, b"<x/>", content_type="application/xml").status_code in (401, 403)
    assert api_client_for(lab).post(url, b"<x/>", content_type="application/xml").status_code == 403
    assert not Consignment.objects.exists()


def test_other_company_pages_show_nothing_of_alices(other_importer, alices_draft):
    client = Client()
    client.force_login(other_importer)
    for name in ("portal:notification-settings", "portal:api-tokens", "portal:ephyto-import"):
        page = client.get(reverse(name)).content.decode()
        assert alices_draft.reference not in page and alices_draft.operator.name not in page
