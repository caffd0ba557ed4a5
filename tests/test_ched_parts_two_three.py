"""Part II and Part III of the CHED PDF are printed only once recorded (Implementing Regulation (EU) 2019/1715,
Annex II, boxes II.1-II.21 and III.1-III.6): an undecided CHED shows Part I and a line saying Part II is not
decided; a decided one its checks, its decision, the measure, the reasons and the officer under their numbers;
Part III once the follow-up is recorded. Read from the PDF's text."""

import datetime
import re

import pytest
from django.utils import timezone

from inspection.models import (
    AuditEvent,
    Consignment,
    Decision,
    DecisionCode,
    DocumentaryCheck,
    FollowUp,
    Measure,
    RefusalReason,
)
from inspection.services.consignments import consignment_create
from tests.factories import part_one
from tests.test_certificates import _pdf, _refused, _text
from tests.test_ched_boxes import _label, _pdf_text
from tests.test_national_entry import _national
from tests.test_workflow_paths import _do
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


def _has_box(text: str, number: str) -> bool:
    return re.search(rf"(?<![I.\d]){re.escape(number)} ", text) is not None


def test_an_undecided_ched_prints_part_one_only(importer):
    consignment = consignment_create(actor=importer, part_one=part_one("CHED-PP"))
    text = _pdf_text(consignment)

    assert "Partie II : décision non encore prise / Part II: not yet decided" in text
    assert "Partie II – Contrôles" not in text and "Partie III" not in text
    for number in ("II.1", "II.3", "II.4", "II.5", "II.6", "II.12", "II.16", "II.20", "II.21", "III.2"):
        assert not _has_box(text, number), number
    assert _label("description") in text  # Part I is there


def test_a_refused_ched_prints_its_checks_decision_measure_reasons_and_officer(importer, officer):
    consignment = consignment_create(actor=importer, part_one=part_one("CHED-P"))
    DocumentaryCheck.objects.create(
        consignment=consignment,
        result="not_satisfactory",
        reason="Certificat sanitaire non signé",
        inspector=officer,
        recorded_at=timezone.now(),
    )
    decided_at = timezone.now()
    decision = Decision.objects.create(
        consignment=consignment,
        code=DecisionCode.objects.get(code="non_acceptable"),
        measure=Measure.objects.get(code="destruction"),
        measure_deadline=timezone.localdate() + datetime.timedelta(days=30),
        officer=officer,
        decided_at=decided_at,
    )
    reason = RefusalReason.objects.get(code="AbsenceInvalidCertificate")
    decision.reasons.add(reason)
    consignment.refresh_from_db()
    text = _pdf_text(consignment, decision)

    assert "Partie II – Contrôles et décision / Part II – Checks and decision" in text
    assert f"{_label('previous_ched')} –" in text
    assert f"{_label('part_two_ched_reference')} non attribuée" in text
    assert f"{_label('documentary_check')} Non satisfaisant / Not satisfactory Certificat sanitaire non signé" in text
    # not selected for identity, physical checks or tests ("No": the two columns of the table interleave)
    assert f"{_label('identity_check')} Non / No" in text and f"{_label('laboratory_tests')} Non / No" in text
    assert _label("physical_check") in text
    deadline = decision.measure_deadline.strftime("%d/%m/%Y")
    assert f"{_label('not_acceptable')} Non acceptable" in text
    assert f"Destruction – avant le {deadline} / by {deadline}" in text
    assert f"{_label('reasons_for_refusal')} {reason.name_fr} / {reason.name_en}" in text
    assert _label("bcp_identification") in text and "(FRFDF1)" in text
    assert f"{_label('certifying_officer')} {officer.get_full_name() or officer.get_username()}" in text
    assert f"Décision prise le / Decided on {timezone.localtime(decided_at):%d/%m/%Y %H:%M}" in text
    assert "Partie III" not in text


def test_part_three_prints_the_follow_up_officer_and_date(importer, officer, inspector):
    consignment = consignment_create(actor=importer, part_one=part_one("CHED-PP"))
    decision = Decision.objects.create(
        consignment=consignment,
        code=DecisionCode.objects.get(code="non_acceptable"),
        measure=Measure.objects.get(code="destruction"),
        officer=officer,
        decided_at=timezone.now(),
    )
    recorded_at = timezone.now()
    FollowUp.objects.create(
        consignment=consignment,
        outcome=FollowUp.Outcome.DESTROYED,
        evidence="Procès-verbal de destruction n° 2026-118, incinérateur de Fort-de-France",
        inspector=inspector,
        recorded_at=recorded_at,
    )
    consignment.refresh_from_db()
    text = _pdf_text(consignment, decision)

    assert "Partie III – Suivi / Part III – Follow-up" in text
    assert f"{_label('follow_up_ched_reference')} non attribuée" in text
    assert "Procès-verbal de destruction n° 2026-118" in text
    name = inspector.get_full_name() or inspector.get_username()
    assert f"{_label('follow_up_officer')} {name}" in text
    assert f"{timezone.localtime(recorded_at):%d/%m/%Y %H:%M}" in text.split("Partie III")[1]


def test_the_issued_ched_has_part_two_and_the_follow_up_issues_it_again_with_part_three(
    importer, inspector, officer, supervisor
):
    """Walked through the flow: the CHED issued at the decision prints Part II and no Part III; recording the
    follow-up issues the signed CHED again with its Part III (a new number), and the first reads replaced."""
    consignment = _refused(importer, inspector, officer, supervisor)
    first = consignment.certificates.get(kind="ched")
    text = _text(_pdf(first))
    assert f"{_label('not_acceptable')} Non acceptable" in text and "Partie III" not in text
    assert "Phytosanitary certificate expired" in text  # II.3, the documentary check's reason

    _do(
        inspector,
        consignment,
        InspectionFlow.follow_up,
        {"outcome": "destroyed", "evidence": "Destruction certificate 2026-118, incinerator of Fort-de-France"},
    )
    first.refresh_from_db()
    new = consignment.certificates.get(kind="ched", status="valid")
    assert (first.status, first.replaced_by, first.revocation_reason) == ("replaced", new, "Part III recorded")
    assert new.number.endswith("-C2") and new.decision_id == first.decision_id
    text = _text(_pdf(new))
    assert "Partie III – Suivi / Part III – Follow-up" in text
    assert "Destruction certificate 2026-118" in text.split("Partie III")[1]
    issued = AuditEvent.objects.filter(consignment=consignment, action="certificate.issued").order_by("seq")
    assert [e.data["number"] for e in issued if e.data["kind"] == "ched"] == [first.number, new.number]
    # the refusal notice is not a CHED: it is not issued again
    assert consignment.certificates.filter(kind="refusal").count() == 1


def test_a_national_entry_prints_its_own_reference_not_a_traces_one(api, importer):
    """A national plant-health entry (NAT-PP) is not a CHED: no TRACES NT reference, no box numbers."""
    response = api.post("/api/v1/consignments/", _national(), format="json")
    assert response.status_code == 201, response.json()
    consignment = Consignment.objects.get()

    text = _pdf_text(consignment)

    assert f"Référence / Reference {consignment.reference}" in text
    assert "TRACES NT" not in text and "I.2 " not in text
    assert "Part II: not yet decided" in text
