"""The phytosanitary certificate over HTTP: the post checks an export application (documents, then the
inspection), a certifying officer issues the ISPM 12 certificate (a signed bilingual PDF with a QR code and its
ePhyto XML) or refuses it; the XML read back by our own ePhyto import gives a CHED-PP draft with the same data."""

import datetime
import hashlib
import io

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from inspection.certificates.signing import signature_validate
from inspection.models import AuditEvent, PhytosanitaryCertificate
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for, export_certificate_job_run
from tests.factories import export_application, part_one, requirements_in_force

pytestmark = pytest.mark.django_db

LIST = "/api/v1/exports/"


def _url(reference: str, action: str = "") -> str:
    return f"{LIST}{reference}/{action + '/' if action else ''}"


def _submitted(exporter, **overrides) -> str:
    response = api_client_for(exporter).post(LIST, {**export_application(**overrides), "draft": False}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["reference"]


def _checked(reference: str, inspector, inspection: str = "satisfactory"):
    api = api_client_for(inspector)
    checklist = {"requirements_met": requirements_in_force(reference)}
    documentary = api.post(
        _url(reference, "checks"), {"kind": "documentary", "result": "satisfactory", **checklist}, format="json"
    )
    assert documentary.status_code == 201, documentary.json()
    notes = "" if inspection == "satisfactory" else "Live Mycosphaerella lesions on 3 of 20 hands"
    inspected = api.post(
        _url(reference, "checks"), {"kind": "inspection", "result": inspection, "notes": notes}, format="json"
    )
    assert inspected.status_code == 201, inspected.json()


def _issued(exporter, inspector, officer, **overrides) -> dict:
    """Checked, then issued: the officer decides (202), and the export flow's job makes the certificate as the
    worker would."""
    reference = _submitted(exporter, **overrides)
    _checked(reference, inspector)
    response = api_client_for(officer).post(_url(reference, "issue"))
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "checking" and response.json()["certificates"] == []
    export_certificate_job_run(reference)
    return api_client_for(officer).get(_url(reference)).json()


def _download(user, url: str):
    client = Client()
    client.force_login(user)
    return client.get(url.removeprefix(settings.SITE_URL.rstrip("/")))


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_issued_certificate_is_a_signed_bilingual_pdf_with_its_ephyto(
    exporter, other_exporter, inspector, officer, signing_key
):
    body = _issued(exporter, inspector, officer)
    assert body["status"] == "issued"
    assert [s["step"] for s in body["timeline"]] == ["created", "submitted", "check", "check", "certificate"]
    (listed,) = body["certificates"]
    assert listed["number"] == f"{body['reference']}-P1" and listed["kind"] == "export"
    certificate = PhytosanitaryCertificate.objects.get(number=listed["number"])

    pdf = _body(_download(exporter, listed["url"]))
    assert hashlib.sha256(pdf).hexdigest() == listed["sha256"] == certificate.sha256
    text = _text(pdf)
    for expected in (
        listed["number"],
        "Certificat phytosanitaire",
        "Phytosanitary certificate",
        "Organisation de la protection des végétaux de la France",
        "Plant Protection Organization of France",
        "sont considérés comme indemnes d'organismes de quarantaine",
        "free from the quarantine pests specified by the importing contracting party",
        "Musa acuminata",
        "08039010",
        "Montréal (CAMTR)",
        "Azoxystrobine",
        "Mycosphaerella fijiensis",
        "BANAMART MQ 2026-48",
    ):
        assert expected in text, expected
    verdict = signature_validate(pdf, trust_roots_pem=signing_key)
    assert verdict["intact"] and verdict["valid"] and verdict["trusted"]
    assert "ISPM 12" in verdict["reason"]
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [listed["verify_url"]]

    xml = _body(_download(exporter, listed["ephyto_url"]))
    assert hashlib.sha256(xml).hexdigest() == certificate.ephyto_sha256
    assert b"<ram:TypeCode>851</ram:TypeCode>" in xml and listed["number"].encode() in xml

    # the public check behind the QR code
    verified = Client().get(listed["verify_url"].removeprefix(settings.SITE_URL.rstrip("/")) + "?format=json")
    assert verified.status_code == 200
    assert verified.json()["valid"] and verified.json()["export_reference"] == body["reference"]
    assert Client().get(f"/verify/{listed['number']}/wrongkey/?format=json").status_code == 404

    # another company: 404 on the application and its files
    assert _download(other_exporter, listed["url"]).status_code == 404
    assert _download(other_exporter, listed["ephyto_url"]).status_code == 404
    assert api_client_for(other_exporter).get(_url(body["reference"])).status_code == 404

    event = AuditEvent.objects.get(action="phyto.issued", data__export=body["reference"])
    assert event.data["sha256"] == certificate.sha256 and event.data["ephyto_sha256"] == certificate.ephyto_sha256
    assert event.actor == officer


def _import(importer, xml: bytes) -> dict:
    response = api_client_for(importer).generic(
        "POST", "/api/v1/consignments/import-ephyto/", xml, content_type="application/xml"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_round_trip_ephyto_to_ched_pp_draft(exporter, importer, inspector, officer):
    body = _issued(exporter, inspector, officer)
    (listed,) = body["certificates"]
    xml = _body(_download(exporter, listed["ephyto_url"]))
    draft = _import(importer, xml)

    assert draft["status"] == "draft" and draft["ched_type"] == "CHED-PP"
    assert draft["consignor"] == {
        "name": body["consignor"]["name"],
        "address": body["consignor"]["address"],
        "country": "MQ",
    }
    assert draft["consignee"] == body["consignee"]
    assert draft["country_of_origin"] == "MQ"
    assert draft["region_of_origin"] == body["lines"][0]["place_of_production"]
    assert draft["arrival"]["transport_mode"] == body["conveyance"]["mode"]
    assert draft["arrival"]["transport_id"] == body["conveyance"]["id"]
    assert draft["accompanying_documents"][0] == {"type": "PHYTOSANITARY_CERTIFICATE", "reference": listed["number"]}
    (line,) = draft["commodities"]
    exported = body["lines"][0]
    assert line["cn_code"] == exported["hs_code"]
    assert line["description"] == exported["description"]
    assert line["species"] == exported["botanical_name"]
    assert line["eppo_code"] == exported["eppo_code"]
    assert line["net_weight_kg"] == exported["net_weight_kg"]
    assert (line["packages"], line["package_type"]) == (exported["packages"], exported["package_type"])


def test_reexport_certificate_is_type_657_and_round_trips(exporter, importer, inspector, officer):
    from inspection.models import Membership

    # the exporter's company imported the goods under a CHED-PP
    Membership.objects.filter(user=importer).update(operator=exporter.membership.operator)
    importer.refresh_from_db()
    ched = consignment_create(actor=importer, part_one=part_one(), draft=True)
    reexport = {"original_certificate": "DO-2026-000123", "original_country": "DO", "ched_reference": ched.reference}
    body = _issued(exporter, inspector, officer, kind="reexport", reexport=reexport)
    (listed,) = body["certificates"]
    assert listed["kind"] == "reexport"
    pdf = _body(_download(exporter, listed["url"]))
    text = _text(pdf)
    assert "Certificat phytosanitaire pour la réexportation" in text and "DO-2026-000123" in text
    xml = _body(_download(exporter, listed["ephyto_url"]))
    assert b"<ram:TypeCode>657</ram:TypeCode>" in xml
    draft = _import(importer, xml)
    assert draft["commodities"][0]["cn_code"] == "08039010"


def test_not_satisfactory_inspection_blocks_issue_and_officer_refuses(exporter, inspector, officer):
    reference = _submitted(exporter)
    _checked(reference, inspector, inspection="not_satisfactory")
    officer_api = api_client_for(officer)
    blocked = officer_api.post(_url(reference, "issue"))
    assert blocked.status_code == 409
    assert "satisfactory documentary check and inspection" in blocked.json()["detail"]
    no_reason = officer_api.post(_url(reference, "refuse"), {"reason": " "}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    refused = officer_api.post(_url(reference, "refuse"), {"reason": "Quarantine pest found"}, format="json")
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    seen = api_client_for(exporter).get(_url(reference)).json()
    assert seen["refusal_reason"] == "Quarantine pest found"
    assert seen["timeline"][-1] == {**seen["timeline"][-1], "step": "refused", "outcome": "Quarantine pest found"}
    # the inspector's notes are not the exporter's to read
    assert "Mycosphaerella" not in str(seen["timeline"])
    assert not PhytosanitaryCertificate.objects.exists()


def test_checks_and_issue_are_staff_steps_in_order(exporter, inspector, officer):
    reference = _submitted(exporter)
    exporter_api, inspector_api, officer_api = (api_client_for(u) for u in (exporter, inspector, officer))
    assert exporter_api.post(_url(reference, "issue")).status_code == 403
    assert inspector_api.post(_url(reference, "issue")).status_code == 403
    assert officer_api.post(_url(reference, "issue")).status_code == 409  # nothing checked yet
    inspection_first = inspector_api.post(
        _url(reference, "checks"), {"kind": "inspection", "result": "satisfactory"}, format="json"
    )
    assert inspection_first.status_code == 409  # the flow's inspection task is not open yet
    assert "not open for this application" in inspection_first.json()["detail"]
    unsaid = inspector_api.post(
        _url(reference, "checks"), {"kind": "documentary", "result": "not_satisfactory"}, format="json"
    )
    assert unsaid.status_code == 400 and "notes" in unsaid.json()
    bad = inspector_api.post(_url(reference, "checks"), {"kind": "lab", "result": "maybe"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"kind", "result"}
    assert (
        exporter_api.post(
            _url(reference, "checks"), {"kind": "documentary", "result": "satisfactory"}, format="json"
        ).status_code
        == 403
    )
    _checked(reference, inspector)
    assert officer_api.post(_url(reference, "issue")).status_code == 202
    assert officer_api.post(_url(reference, "issue")).status_code == 409  # decided once
    export_certificate_job_run(reference)
    assert officer_api.post(_url(reference, "issue")).status_code == 409  # issued once


def test_a_draft_is_not_checked(exporter, inspector):
    reference = api_client_for(exporter).post(LIST, export_application(), format="json").json()["reference"]
    checklist = {"requirements_met": requirements_in_force(reference)}
    response = api_client_for(inspector).post(
        _url(reference, "checks"), {"kind": "documentary", "result": "satisfactory", **checklist}, format="json"
    )
    assert response.status_code == 409


def test_replacement_has_a_new_number_stating_the_old_one_which_reads_replaced(
    exporter, importer, inspector, officer, supervisor
):
    body = _issued(exporter, inspector, officer)
    (first,) = body["certificates"]
    url = _url(body["reference"], "replace-certificate")
    assert api_client_for(exporter).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_client_for(inspector).post(url, {"reason": "x"}, format="json").status_code == 403
    no_reason = api_client_for(supervisor).post(url, {"reason": ""}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    bad = api_client_for(supervisor).post(
        url, {"reason": "change in consignee", "changes": {"destination_country": "US"}}, format="json"
    )
    assert bad.status_code == 400 and "destination_country" in bad.json()

    changes = {"consignee_name": "Tropical Imports Ltd", "consignee_address": "12 Harbour Rd, Halifax NS"}
    replaced = api_client_for(supervisor).post(
        url, {"reason": "change in consignee", "changes": changes}, format="json"
    )
    assert replaced.status_code == 201, replaced.json()
    old, new = replaced.json()["certificates"]
    assert (old["number"], old["status"]) == (first["number"], "replaced")
    assert new["number"] == f"{body['reference']}-P2" and new["status"] == "valid"
    assert replaced.json()["consignee"]["name"] == "Tropical Imports Ltd"
    assert replaced.json()["timeline"][-1]["step"] == "certificate_replaced"

    pdf = _body(_download(exporter, new["url"]))
    text = _text(pdf)
    assert f"remplace et annule le certificat n° {first['number']}" in text and "Tropical Imports Ltd" in text
    xml = _body(_download(exporter, new["ephyto_url"]))
    assert b"ADRPN" in xml and first["number"].encode() in xml
    assert _import(importer, xml)["consignee"]["name"] == "Tropical Imports Ltd"

    checked = Client().get(first["verify_url"].removeprefix(settings.SITE_URL.rstrip("/")) + "?format=json").json()
    assert checked["valid"] is False and checked["status"] == "replaced" and checked["replaced_by"] == new["number"]
    page = Client().get(first["verify_url"].removeprefix(settings.SITE_URL.rstrip("/")))
    assert new["number"] in page.content.decode()
    event = AuditEvent.objects.get(action="phyto.replaced", data__export=body["reference"])
    assert event.data["replaced_by"] == new["number"] and event.actor == supervisor


def test_withdrawn_certificate_reads_revoked(exporter, inspector, officer):
    body = _issued(exporter, inspector, officer)
    (certificate,) = body["certificates"]
    url = _url(body["reference"], "withdraw-certificate")
    withdrawn = api_client_for(officer).post(url, {"reason": "Consignment not shipped"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["certificates"][0]["status"] == "revoked"
    checked = Client().get(certificate["verify_url"].removeprefix(settings.SITE_URL.rstrip("/")) + "?format=json")
    assert checked.json()["status"] == "revoked" and checked.json()["withdrawn_at"]
    again = api_client_for(officer).post(url, {"reason": "again"}, format="json")
    assert again.status_code == 400 and "no valid certificate" in again.json()["detail"]
    assert AuditEvent.objects.filter(action="phyto.withdrawn", data__export=body["reference"]).count() == 1


def test_documentary_check_confirms_the_destinations_requirements(exporter, inspector):
    from tests.factories import destination_requirement

    bananas = destination_requirement()
    destination_requirement(hs_prefix="0804")  # pineapples: not this application's
    destination_requirement(destination_country="US")  # another destination
    destination_requirement(valid_to=datetime.date(2026, 1, 31), valid_from=datetime.date(2026, 1, 1))  # ended
    reference = _submitted(exporter)
    loaded = [r for r in requirements_in_force(reference) if r != bananas.pk]  # the researched rows for CA bananas
    shown = api_client_for(exporter).get(_url(reference)).json()["requirements"]
    assert {r["id"] for r in shown} == {bananas.pk, *loaded}
    assert next(r for r in shown if r["id"] == bananas.pk)["text"] == "Test declaration on bananas"

    api = api_client_for(inspector)
    partly = api.post(
        _url(reference, "checks"),
        {"kind": "documentary", "result": "satisfactory", "requirements_met": loaded},
        format="json",
    )
    assert partly.status_code == 400
    assert partly.json()["requirements"] == ["Confirm the destination's requirement: Test declaration on bananas"]
    confirmed = api.post(
        _url(reference, "checks"),
        {"kind": "documentary", "result": "satisfactory", "requirements_met": [bananas.pk, *loaded]},
        format="json",
    )
    assert confirmed.status_code == 201, confirmed.json()
    from inspection.models import ExportCheck

    assert {"id": bananas.pk, "kind": "additional_declaration", "text": "Test declaration on bananas"} in (
        ExportCheck.objects.get().requirements
    )


def test_every_demo_certificate_round_trips(importer):
    """`manage.py demo`'s exports: each issued certificate's ePhyto is read back into a CHED-PP draft with the
    same parties, transport, lines and certificate number."""
    from inspection.models import Laboratory, Sample
    from inspection.roles import Role
    from tests.factories import UserFactory
    from workflows.management.commands._demo_exports import exports_demo

    UserFactory(username="inspector", roles=[Role.INSPECTOR])
    UserFactory(username="officer", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    Laboratory.objects.get(code="LTA972").accounts.add(UserFactory(username="lab", roles=[Role.LAB]))
    assert exports_demo(password="demo") == 9
    sampled = Sample.objects.select_related("application", "result").get()  # the pineapples, issued after it
    assert sampled.result.conclusion == "satisfactory" and sampled.application.status == "issued"
    certificates = list(PhytosanitaryCertificate.objects.select_related("application"))
    # five issued, one of them replaced (two certificates), and a re-export
    assert len(certificates) == 7
    assert sorted(c.status for c in certificates) == ["replaced", *["valid"] * 6]
    assert [c.kind for c in certificates].count("reexport") == 1
    # through the export flow: issued (six) and refused (one) are done, one awaits its documentary check
    from viewflow.workflow.models import Process

    from workflows.flows import ExportFlow

    statuses = sorted(Process.objects.filter(flow_class=ExportFlow).values_list("status", flat=True))
    assert statuses == [*["DONE"] * 7, "NEW"]
    for certificate in certificates:
        application = certificate.application
        with certificate.ephyto.open("rb") as f:
            draft = _import(importer, f.read())
        if certificate.status == "valid":  # the replaced one names the consignee before the correction
            assert draft["consignee"]["name"] == application.consignee_name
        assert draft["accompanying_documents"][0]["reference"] == certificate.number
        assert draft["arrival"]["transport_mode"] == application.transport_mode
        assert draft["arrival"]["transport_id"] == application.transport_id
        lines = list(application.lines.all())
        assert [(c["cn_code"], c["species"], c["packages"], c["package_type"]) for c in draft["commodities"]] == [
            (line.hs_code, line.botanical_name, line.packages, line.package_type) for line in lines
        ]
        assert [c["net_weight_kg"] for c in draft["commodities"]] == [str(line.net_weight_kg) for line in lines]
    assert exports_demo(password="demo") == 0  # safe to run twice
