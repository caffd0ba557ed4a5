"""The CHED PDF prints each box under its official number (Implementing Regulation (EU) 2019/1715, Annex II,
researched in docs/regulation/ched-boxes.json): read from the PDF's text, for each CHED type; Part II with the
box of the decision taken and its details, Part III once the follow-up is recorded."""

import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from inspection import part_one_schema
from inspection.certificates.boxes import BOXES, DECISION_BOXES, PURPOSE_BOXES
from inspection.certificates.documents import certificate_context, certificate_html
from inspection.certificates.render import render_pdf
from inspection.models import Certificate, Decision, DecisionCode, FollowUp, Purpose
from inspection.services.consignments import consignment_create
from tests.factories import part_one

pytestmark = pytest.mark.django_db
RESEARCH = json.loads((Path(settings.BASE_DIR) / "docs/regulation/ched-boxes.json").read_text())


def _pdf_text(consignment, decision=None) -> str:
    context = certificate_context(
        kind=Certificate.Kind.CHED,
        consignment=consignment,
        decision=decision,
        number=f"{consignment.reference}-C1",
        verify_key="k",
        issued_at=timezone.now(),
        signer="PIF test",
    )
    pdf = render_pdf(certificate_html(context))
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _label(name: str) -> str:
    entry = BOXES[name]
    return f"{entry.number} {entry.fr} / {entry.en}"


def test_the_boxes_are_those_researched_from_the_regulation():
    research = {box["number"]: box for box in RESEARCH["boxes"]}
    for name, entry in BOXES.items():
        assert entry.number in research, name
        assert entry.ched_types == frozenset(research[entry.number]["applies_to"]), name
    assert set(DECISION_BOXES) == set(DecisionCode.objects.values_list("code", flat=True))
    assert set(PURPOSE_BOXES) == set(Purpose.objects.values_list("code", flat=True))


@pytest.mark.parametrize("ched_type", ["CHED-A", "CHED-P", "CHED-PP", "CHED-D"])
def test_part_one_boxes_carry_their_official_numbers(importer, ched_type):
    consignment = consignment_create(actor=importer, part_one=part_one(ched_type))
    text = _pdf_text(consignment)

    for name, number in (
        ("consignor", "I.1"),
        ("ched_reference", "I.2"),
        ("bcp", "I.4"),
        ("consignee", "I.6"),
        ("place_of_destination", "I.7"),
        ("operator", "I.8"),
        ("accompanying_documents", "I.9"),
        ("country_of_origin", "I.11"),
        ("means_of_transport", "I.13"),
        ("containers", "I.17"),
        ("for_internal_market", "I.23"),
        ("description", "I.31"),
        ("total_packages", "I.32"),
    ):
        assert BOXES[name].number == number
        assert _label(name) in text, (ched_type, name)
    assert f"{_label('operator')} {importer.membership.operator.name}" in text
    assert ("I.18 Certifié aux fins de / Certified as or for" in text) == (ched_type != "CHED-PP")
    for wrong in ("I.7 Opérateur", "I.19 Numéro de conteneur", "I.20 Certifié"):
        assert wrong not in text
    if ched_type == "CHED-A":
        assert "Nombre d'animaux / Number of animals" in text and "I.33 Quantité totale / Total quantity 3" in text


@pytest.mark.parametrize(
    ("ched_type", "code", "box"),
    [
        ("CHED-PP", "acceptable_for_internal_market", "II.12"),
        ("CHED-A", "acceptable_for_transit", "II.11"),
        ("CHED-PP", "acceptable_for_transhipment", "II.9"),
        ("CHED-P", "acceptable_if_channelled", "II.13"),
        ("CHED-P", "acceptable_for_specific_warehouse", "II.14"),
        ("CHED-A", "acceptable_for_temporary_admission", "II.15"),
        ("CHED-D", "non_acceptable", "II.16"),
    ],
)
def test_the_decision_is_printed_in_its_own_box_with_its_details(importer, officer, ched_type, code, box):
    consignment = consignment_create(actor=importer, part_one=part_one(ched_type))
    decision = Decision.objects.create(
        consignment=consignment,
        code=DecisionCode.objects.get(code=code),
        officer=officer,
        decided_at=timezone.now(),
        exit_bcp="FRLEH1 Le Havre",
        destination_country="DM",
        destination="Abattoir du Lamentin, FR-972-001",
        warehouse="Entrepôt sous douane du Port, MQ-42",
    )
    text = _pdf_text(consignment, decision)

    assert _label(DECISION_BOXES[code]) in text and BOXES[DECISION_BOXES[code]].number == box
    for other in {b for b in ("II.9", "II.11", "II.12", "II.13", "II.14", "II.15", "II.16") if b != box}:
        assert f"{other} Acceptable" not in text and f"{other} Non acceptable" not in text
    for detail in ("FRLEH1 Le Havre", "Dominique / Dominica", "Entrepôt sous douane du Port, MQ-42"):
        assert detail in text
    assert "II.18 Détails des destinations contrôlées / Details of controlled destinations Abattoir du Lamentin" in text
    assert "II.21 Agent certificateur / Certifying officer" in text
    assert "Partie III" not in text


def test_part_three_is_printed_once_the_follow_up_is_recorded(importer, officer, inspector):
    consignment = consignment_create(actor=importer, part_one=part_one("CHED-P"))
    decision = Decision.objects.create(
        consignment=consignment,
        code=DecisionCode.objects.get(code="non_acceptable"),
        officer=officer,
        decided_at=timezone.now(),
    )
    FollowUp.objects.create(
        consignment=consignment,
        outcome=FollowUp.Outcome.REDISPATCHED,
        evidence="Reloaded on MSC ANTILLES 204S, bill of lading BL7654321",
        inspector=inspector,
        recorded_at=timezone.now(),
    )
    text = _pdf_text(consignment, decision)

    assert "Partie III – Suivi / Part III – Follow-up" in text
    for name in ("follow_up_ched_reference", "follow_up_by", "re_dispatch", "follow_up_officer"):
        assert _label(name) in text, name
    assert "Réexpédié / Re-dispatched" in text and "BL7654321" in text


@pytest.mark.parametrize("ched_type", ["CHED-A", "CHED-P", "CHED-PP", "CHED-D"])
def test_each_type_prints_the_part_one_boxes_of_its_model_with_their_values(importer, ched_type):
    """Every box of the Part I schema that the type's model has is printed under its number, with what was
    declared; the boxes of the other models are not."""
    part = part_one(ched_type, region_of_origin="XX-01")
    consignment = consignment_create(actor=importer, part_one=part)
    text = _pdf_text(consignment)

    for name in part_one_schema.boxes_for(ched_type):
        assert _label(name) in text, (ched_type, name)
    for name in {f.box for f in part_one_schema.PART_ONE} - set(part_one_schema.boxes_for(ched_type)):
        # "I.21 " but not "II.21 "
        assert not re.search(rf"(?<![I.\d]){re.escape(BOXES[name].number)} ", text), (ched_type, name)
    assert (
        f"{_label('place_of_destination')} Antilles Primeurs SARL, entrepôt du Lamentin ZI de la Lézarde, 97232 Le "
        "Lamentin Martinique (MQ)"
    ) in text
    assert f"{_label('region_of_origin')} XX-01" in text
    expected = {
        "CHED-A": [f"{_label('transporter')} Transports Animaliers Caraïbes SARL", "FR-972-T1-0042", "36,000 / 60,000"],
        "CHED-P": [
            f"{_label('country_of_dispatch')} République dominicaine (DO) / Dominican Republic (DO)",
            f"{_label('transport_conditions')} Congelé / Frozen",
            "Frigorífico del Cibao, est. 1234",
            "FR 972.12.001 CE",
            "1250,500 / 1380,000",
        ],
        "CHED-PP": [f"{_label('country_of_dispatch')} République dominicaine (DO)"],
        "CHED-D": [f"{_label('transport_conditions')} Température ambiante / Ambient", "1250,500 / 1300,000"],
    }[ched_type]
    for value in expected:
        assert value in text, (ched_type, value)
