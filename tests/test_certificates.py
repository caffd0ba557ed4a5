"""Certificates as a person and a machine would check them: the PDF's text in both languages, its PAdES
signature, its QR code, the public verify page (and a changed byte), revocation and replacement, idempotent
issue, and who may download what."""

import hashlib
import io
import re

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from inspection.certificates.signing import signature_validate
from inspection.errors import NotPermitted
from inspection.models import AuditEvent, Certificate
from inspection.services.certificates import (
    CertificateError,
    certificate_issue,
    certificate_reissue,
    certificate_revoke,
)
from tests.conftest import api_client_for
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _refuse, _run_certificate_job, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


def _accepted(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    _run_certificate_job(consignment)
    return consignment


def _refused(importer, inspector, officer, supervisor):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    data = _documentary_ok(consignment)
    data.update(result="not_satisfactory", reason="Phytosanitary certificate expired")
    data.pop(next(k for k in data if k.endswith("_valid")))
    _do(inspector, consignment, InspectionFlow.documentary_check, data)
    _do(officer, consignment, InspectionFlow.decide, _refuse())
    _do(supervisor, consignment, InspectionFlow.countersign, {"approve": "1", "comment": ""})
    _run_certificate_job(consignment)
    return consignment


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _qr_codes(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def _pdf(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as f:
        return f.read()


def test_accepted_consignment_gets_a_signed_bilingual_ched_with_a_qr_code(importer, inspector, officer, signing_key):
    consignment = _accepted(importer, inspector, officer)
    certificate = Certificate.objects.get(consignment=consignment)
    assert certificate.kind == "ched" and certificate.status == "valid"
    assert certificate.number == f"{consignment.reference}-C1"
    pdf = _pdf(certificate)
    assert hashlib.sha256(pdf).hexdigest() == certificate.sha256 and len(pdf) == certificate.size
    assert not certificate.file.path.startswith(str(settings.MEDIA_ROOT))  # never served as a plain media file

    text = _text(pdf)
    for expected in (
        consignment.reference,
        certificate.number,
        "Document sanitaire commun d'entrée",
        "Common Health Entry Document",
        "Partie II – Contrôles et décision",
        "Part II – Checks and decision",
        "Acceptable pour le marché intérieur",  # the decision, in French
        "Acceptable for internal market",  # and in English
        consignment.consignor_name,
        consignment.lines.first().cn_code,
    ):
        assert expected in text, expected

    verdict = signature_validate(pdf, trust_roots_pem=signing_key)
    assert verdict["intact"] and verdict["valid"] and verdict["trusted"]
    assert verdict["signer"].endswith("PIF Martinique – test") or "PIF Martinique – test" in verdict["signer"]
    assert "CHED" in verdict["reason"] and verdict["signed_at"] is not None

    url = f"{settings.SITE_URL}/verify/{certificate.number}/{certificate.verify_key}/"
    assert len(certificate.verify_key) == 24
    assert _qr_codes(pdf) == [url]
    assert url in text.replace(" ", "")  # printed (wrapped) under the QR code and in the closing note

    event = AuditEvent.objects.get(consignment=consignment, action="certificate.issued")
    assert event.data["sha256"] == certificate.sha256 and event.data["number"] == certificate.number


def test_importer_is_emailed_the_pdf_link(importer, inspector, officer, mailoutbox):
    from inspection.models import Notification
    from inspection.services.notifications import notification_deliver

    consignment = _accepted(importer, inspector, officer)
    certificate = consignment.certificates.get()
    assert Notification.objects.filter(consignment=consignment, kind="decided").exists()
    notification = Notification.objects.get(consignment=consignment, kind="certified")
    assert notification_deliver(notification_id=notification.pk)
    body = mailoutbox[-1].body
    assert f"{settings.SITE_URL}/certificates/{certificate.number}/pdf/" in body
    assert f"{settings.SITE_URL}/verify/{certificate.number}/{certificate.verify_key}/" in body
    assert notification.context["certificates"][0]["verify_url"].endswith(f"/{certificate.verify_key}/")
    assert "PDF signé" in body and "signed PDF" in body


def test_refusal_gets_a_ched_and_a_refusal_notice_with_reasons_measure_and_appeal(
    importer, inspector, officer, supervisor
):
    consignment = _refused(importer, inspector, officer, supervisor)
    notice = Certificate.objects.get(consignment=consignment, kind="refusal")
    assert notice.number == f"{consignment.reference}-R1"
    text = _text(_pdf(notice))
    for expected in (
        "Notification de refus d'un envoi",
        "Notice of refusal of a consignment",
        "Certificat absent ou non valable",
        "Missing or invalid certificate",
        "Destruction",
        "Voies de recours",
        "How to appeal",
        consignment.reference,
    ):
        assert expected in text, expected
    ched_text = _text(_pdf(Certificate.objects.get(consignment=consignment, kind="ched")))
    assert "Non acceptable" in ched_text and "Not acceptable" in ched_text


def test_issuing_twice_issues_one_certificate_with_one_number(importer, inspector, officer):
    consignment = _accepted(importer, inspector, officer)
    assert certificate_issue(consignment=consignment) == []
    assert Certificate.objects.filter(consignment=consignment).count() == 1
    assert AuditEvent.objects.filter(consignment=consignment, action="certificate.issued").count() == 1


def test_a_failed_issue_stores_nothing(importer, inspector, officer, monkeypatch):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    before = sorted(p for p in (settings.PRIVATE_ROOT / "certificates").rglob("*.pdf"))

    def audit_fails(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("inspection.services.certificates.audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        certificate_issue(consignment=consignment)
    assert not Certificate.objects.filter(consignment=consignment).exists()
    assert sorted(p for p in (settings.PRIVATE_ROOT / "certificates").rglob("*.pdf")) == before


def test_verify_page_says_valid_and_recognises_the_exact_file_only(importer, inspector, officer):
    consignment = _accepted(importer, inspector, officer)
    certificate = consignment.certificates.get()
    pdf = _pdf(certificate)
    public = Client()  # nobody logged in

    page = public.get(f"/verify/{certificate.number}/{certificate.verify_key}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Valid" in html and certificate.sha256 in html
    assert importer.email not in html and importer.username not in html  # nothing not printed on the certificate

    data = public.get(f"/verify/{certificate.number}/{certificate.verify_key}/?format=json").json()
    assert data["status"] == "valid" and data["valid"] and data["sha256"] == certificate.sha256
    assert data["ched_reference"] == consignment.reference

    same = public.post(
        f"/verify/{certificate.number}/{certificate.verify_key}/?format=json", {"file": io.BytesIO(pdf)}
    ).json()
    assert same["uploaded_matches"] is True

    tampered = bytearray(pdf)
    position = pdf.index(b"Caribbean") if b"Caribbean" in pdf else len(pdf) // 2
    tampered[position] ^= 0x01
    changed = public.post(
        f"/verify/{certificate.number}/{certificate.verify_key}/?format=json", {"file": io.BytesIO(bytes(tampered))}
    ).json()
    assert changed["uploaded_matches"] is False
    assert (
        signature_validate(bytes(tampered), trust_roots_pem=settings.PIF_SIGNING_CERT.read_bytes())["intact"] is False
    )

    html = public.post(
        f"/verify/{certificate.number}/{certificate.verify_key}/",
        {"file": io.BytesIO(bytes(tampered))},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Fichier différent" in html.content.decode()

    assert public.post(f"/verify/{certificate.number}/{certificate.verify_key}/?format=json", {}).status_code == 400
    # the exact file proves its holder has the certificate: it shows the state without the code
    holder = public.post(f"/verify/{certificate.number}/?format=json", {"file": io.BytesIO(pdf)}).json()
    assert holder["found"] is True and holder["status"] == "valid" and holder["uploaded_matches"] is True


def _anonymous(page: bytes, number: str) -> bytes:
    """A page without what differs between any two answers: the number asked and the CSRF token."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page.replace(number.encode(), b"N"))


def test_verify_without_the_code_says_nothing_of_the_certificate(importer, inspector, officer, supervisor):
    """Numbers are sequential and a `-R1` means a refusal: without the printed code, an issued number answers
    exactly as a number never issued does (the enumeration the security review made)."""
    consignment = _refused(importer, inspector, officer, supervisor)
    notice = Certificate.objects.get(consignment=consignment, kind="refusal")
    never = f"{consignment.reference}-R9"
    public = Client()

    near = notice.verify_key[:-1] + ("b" if notice.verify_key.endswith("a") else "a")
    for suffix in ("", "?format=json", "wrong-code/", "wrong-code/?format=json", f"{near}/"):
        issued = public.get(f"/verify/{notice.number}/{suffix}", HTTP_ACCEPT_LANGUAGE="en")
        missing = public.get(f"/verify/{never}/{suffix}", HTTP_ACCEPT_LANGUAGE="en")
        assert issued.status_code == missing.status_code == 404, suffix
        assert _anonymous(issued.content, notice.number) == _anonymous(missing.content, never)
        assert b"refus" not in issued.content.lower() and notice.sha256.encode() not in issued.content
    # another certificate's code does not open this one
    ched = Certificate.objects.get(consignment=consignment, kind="ched")
    assert public.get(f"/verify/{notice.number}/{ched.verify_key}/?format=json").status_code == 404
    # a file that is not the certificate says nothing either
    wrong_file = public.post(
        f"/verify/{notice.number}/?format=json", {"file": io.BytesIO(b"%PDF-1.7 other")}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert wrong_file.status_code == 404 and wrong_file.json() == {
        "number": notice.number,
        "found": False,
        "detail": "No certificate matches this number and verification code.",
    }

    shown = public.get(f"/verify/{notice.number}/{notice.verify_key}/?format=json")
    assert shown.status_code == 200
    assert shown.json()["kind"] == "refusal" and shown.json()["status"] == "valid"


def test_supervisor_revokes_a_certificate_with_a_reason_and_it_reads_revoked(importer, inspector, officer, supervisor):
    consignment = _accepted(importer, inspector, officer)
    certificate = consignment.certificates.get()
    with pytest.raises(NotPermitted):
        certificate_revoke(actor=officer, certificate=certificate, reason="typo")
    with pytest.raises(CertificateError):
        certificate_revoke(actor=supervisor, certificate=certificate, reason="  ")

    staff = Client()
    staff.force_login(officer)
    assert staff.post(f"/certificates/{certificate.number}/revoke/", {"reason": "x"}).status_code == 404
    staff.force_login(supervisor)
    response = staff.post(f"/certificates/{certificate.number}/revoke/", {"reason": "Issued on a forged invoice"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and certificate.revoked_by == supervisor
    event = AuditEvent.objects.get(consignment=consignment, action="certificate.revoked")
    assert event.actor == supervisor and event.data["reason"] == "Issued on a forged invoice"

    data = Client().get(f"/verify/{certificate.number}/{certificate.verify_key}/?format=json").json()
    assert data["status"] == "revoked" and data["valid"] is False
    with pytest.raises(CertificateError):
        certificate_revoke(actor=supervisor, certificate=certificate, reason="again")


def test_replacing_a_certificate_issues_a_new_number_and_the_old_reads_replaced(
    importer, inspector, officer, supervisor
):
    consignment = _accepted(importer, inspector, officer)
    old = consignment.certificates.get()
    new = certificate_reissue(actor=supervisor, certificate=old, reason="Consignee address corrected")
    old.refresh_from_db()
    assert new.number == f"{consignment.reference}-C2" and new.status == "valid"
    assert old.status == "replaced" and old.replaced_by == new
    data = Client().get(f"/verify/{old.number}/{old.verify_key}/?format=json").json()
    assert data["status"] == "replaced" and data["replaced_by"] == new.number
    assert (
        "replaced by"
        in Client().get(f"/verify/{old.number}/{old.verify_key}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert list(
        AuditEvent.objects.filter(consignment=consignment, action__startswith="certificate.").values_list(
            "action", flat=True
        )
    ) == ["certificate.issued", "certificate.issued", "certificate.replaced"]


def test_downloads_are_for_the_company_and_staff_only(importer, other_importer, inspector, officer):
    consignment = _accepted(importer, inspector, officer)
    certificate = consignment.certificates.get()
    url = f"/certificates/{certificate.number}/pdf/"

    owner = Client()
    owner.force_login(importer)
    response = owner.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == certificate.sha256

    stranger = Client()
    stranger.force_login(other_importer)
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page

    staff = Client()
    staff.force_login(inspector)
    assert staff.get(url).status_code == 200

    # API clients use their token, and find the links in the consignment detail
    from inspection.services.api_tokens import api_token_create, api_token_login

    _, login_key = api_token_login(actor=importer)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Token {login_key}").status_code == 200
    _, portal_key = api_token_create(actor=importer, name="ERP")
    assert Client().get(url, HTTP_AUTHORIZATION=f"Token {portal_key}").status_code == 200
    _, other_key = api_token_login(actor=other_importer)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Token {other_key}").status_code == 404
    detail = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").json()
    assert detail["certificates"] == [
        {
            "number": certificate.number,
            "kind": "ched",
            "status": "valid",
            "issued_at": detail["certificates"][0]["issued_at"],
            "url": f"http://testserver{url}",
            "verify_url": f"http://testserver/verify/{certificate.number}/{certificate.verify_key}/",
            "sha256": certificate.sha256,
        }
    ]


def test_staff_preview_uses_the_certificate_template_before_signing(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    staff = Client()
    staff.force_login(inspector)
    page = staff.get(f"/certificates/preview/{consignment.reference}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Common Health Entry Document" in html and "PREVIEW" in html and consignment.reference in html
    owner = Client()
    owner.force_login(importer)
    assert owner.get(f"/certificates/preview/{consignment.reference}/").status_code == 404


def test_sample_label_as_pdf_carries_the_sample_number_as_qr(importer, inspector, lab):
    from tests.test_workflow_paths import _sampled

    consignment = _sampled(importer, inspector)
    sample = consignment.samples.get()
    staff = Client()
    staff.force_login(inspector)
    response = staff.get(f"/workflow/samples/{sample.number}/label/?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert _qr_codes(response.content) == [sample.number]
    assert sample.number in _text(response.content)


def test_renderer_fetches_nothing_outside_the_certificate_folders(tmp_path):
    from inspection.certificates.render import RestrictedFetcher, render_pdf

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    fetcher = RestrictedFetcher()
    for url in (secret.as_uri(), "http://127.0.0.1:9/x.png", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    # an importer's text with an <img> pointing outside is rendered without it, not fetched
    pdf = render_pdf(f'<p>ok</p><img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/x.png">')
    assert "top secret" not in _text(pdf) and "ok" in _text(pdf)


def test_a_job_that_keeps_failing_is_an_incident_a_supervisor_retries(
    importer, inspector, officer, supervisor, monkeypatch
):
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows.engine import flow_job_run

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    job = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.issue_certificate)
    ref = job.flow_task.activation_class(job).ref()

    def no_key(**kwargs):
        raise RuntimeError("No signing key")

    monkeypatch.setattr("inspection.services.certificates.certificate_pdf", no_key)
    flow_job_run.push_request(retries=flow_job_run.max_retries)  # the last automatic retry
    try:
        with pytest.raises(RuntimeError):
            flow_job_run.run(ref)
    finally:
        flow_job_run.pop_request()
    job.refresh_from_db()
    assert job.status == STATUS.ERROR and not consignment.certificates.exists()

    staff = Client()
    staff.force_login(inspector)
    assert staff.get("/workflow/incidents/").status_code == 404  # supervisors only
    staff.force_login(supervisor)
    page = staff.get("/workflow/incidents/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert consignment.reference in page and "No signing key" in page

    monkeypatch.undo()
    response = staff.post(f"/workflow/incidents/{job.pk}/retry/", {"reason": "key installed"})
    assert response.status_code == 302
    revived = Task.objects.get(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.issue_certificate, status=STATUS.SCHEDULED
    )
    assert revived.pk != job.pk
    assert flow_job_run.run(revived.flow_task.activation_class(revived).ref()) == "done"
    assert consignment.certificates.get().status == "valid"
    event = AuditEvent.objects.get(consignment=consignment, action="job.retried")
    assert event.actor == supervisor and event.data["reason"] == "key installed"
    assert event.data["error"] == "No signing key"
    # nothing left to retry
    assert staff.post(f"/workflow/incidents/{job.pk}/retry/", {}).status_code == 404


def test_system_checks_warn_without_harfbuzz_subsetting_or_signing_key(monkeypatch, settings, tmp_path):
    from inspection.certificates import checks

    assert checks.harfbuzz_subsetting(None) == []  # this machine has libharfbuzz-subset0 (make syslibs)
    monkeypatch.setattr("inspection.certificates.render.harfbuzz_subsetting_available", lambda: False)
    assert [w.id for w in checks.harfbuzz_subsetting(None)] == ["pif.W001"]

    assert checks.signing_key_configured(None) == []
    settings.PIF_SIGNING_KEY = tmp_path / "missing.pem"
    assert [w.id for w in checks.signing_key_configured(None)] == ["pif.W002"]


def test_certificates_issued_before_the_codes_get_one_each(importer, inspector, officer, supervisor):
    """Migration 0027 gives every existing certificate its own code (AddField's default would give all one)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("inspection.migrations.0027_certificate_verify_key")
    _refused(importer, inspector, officer, supervisor)
    Certificate.objects.update(verify_key="")
    migration.give_each_a_key(apps, None)
    keys = list(Certificate.objects.values_list("verify_key", flat=True))
    assert len(keys) == 2 and len(set(keys)) == 2 and all(len(k) == 24 for k in keys)
