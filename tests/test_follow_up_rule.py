"""Whether a consignment needs a follow-up (Part III) is one domain rule (`inspection.selectors`): the
flow's gateway and the reminders agree on every kind of decision."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from inspection.applicability import ARRIVAL_OUTCOMES
from inspection.models import AuditEvent, Consignment, ConsignmentStatus, Decision, DecisionCode
from inspection.selectors import decisions_calling_for_follow_up, follow_up_needed
from inspection.services.consignments import consignment_create
from inspection.services.follow_up import follow_up_reminders_send
from tests.factories import part_one
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db
S = ConsignmentStatus


def _decided(importer, officer, supervisor, *, code, status, countersigned=False, superseded=False):
    """A consignment with one decision of `code` (its measure deadline near) and the status it leads to."""
    consignment = consignment_create(actor=importer, part_one=part_one(), draft=True)  # no flow: the rule alone
    Consignment.objects.filter(pk=consignment.pk).update(status=status)
    Decision.objects.create(
        consignment=consignment,
        code=DecisionCode.objects.get(code=code),
        measure_deadline=timezone.localdate() + datetime.timedelta(days=2),
        officer=officer,
        decided_at=timezone.now(),
        countersigned_by=supervisor if countersigned else None,
        countersigned_at=timezone.now() if countersigned else None,
        superseded=superseded,
    )
    return Consignment.objects.get(pk=consignment.pk)


def _cases():
    """(name, decision, expected): every decision code as it leaves the officer (followed up: the goods that
    travel on under control, `ARRIVAL_OUTCOMES`), and a refusal on its way."""
    cases = [
        (code, {"code": code, "status": S.ACCEPTED}, code in ARRIVAL_OUTCOMES)
        for code in DecisionCode.objects.filter(acceptable=True).values_list("code", flat=True)
    ]
    return [
        *cases,
        ("refusal awaiting its countersignature", {"code": "non_acceptable", "status": S.AWAITING_COUNTERSIGN}, False),
        ("refusal countersigned", {"code": "non_acceptable", "status": S.REFUSED, "countersigned": True}, True),
        ("refusal sent back", {"code": "non_acceptable", "status": S.AWAITING_DECISION, "superseded": True}, False),
        (
            "channelled, then recalled",
            {"code": "acceptable_if_channelled", "status": S.AWAITING_DECISION, "superseded": True},
            False,
        ),
    ]


def test_the_gateway_and_the_reminders_agree_on_every_decision_kind(importer, officer, supervisor):
    cases = _cases()
    assert len(cases) >= 11  # nine acceptable codes in the reference data, and the refusals
    assert {"acceptable_for_transfer", "acceptable_for_onward_transportation"} < set(ARRIVAL_OUTCOMES)
    decided = {name: _decided(importer, officer, supervisor, **decision) for name, decision, _ in cases}

    follow_up_reminders_send()

    reminded = set(AuditEvent.objects.filter(action="follow_up.reminded").values_list("consignment_id", flat=True))
    listed = set(decisions_calling_for_follow_up().values_list("consignment_id", flat=True))
    for name, _decision, expected in cases:
        consignment = decided[name]
        activation = SimpleNamespace(process=SimpleNamespace(consignment=consignment))
        gateway = InspectionFlow.instance.is_follow_up_needed(activation)
        assert follow_up_needed(consignment) is expected, name
        assert gateway is expected, name
        assert (consignment.pk in listed) is expected, name
        assert (consignment.pk in reminded) is expected, name


def test_no_decision_in_force_needs_no_follow_up(importer):
    consignment = consignment_create(actor=importer, part_one=part_one(), draft=True)
    assert follow_up_needed(consignment) is False
