"""The rules of each inspection step, at the service level: every bad input is refused with a clear message
and nothing is half-written."""

import datetime

import pytest
from django.utils import timezone

from inspection.errors import DomainInvalid, NotPermitted, TransitionNotAllowed
from inspection.models import AuditEvent, Consignment, Decision, DocumentaryCheck, IdentityCheck, Sample
from inspection.services.checks import documentary_check_record, identity_check_record
from inspection.services.decisions import decision_countersign, decision_record
from inspection.services.follow_up import follow_up_record
from inspection.services.lab import lab_result_record, lab_submission_store
from inspection.services.sampling import physical_check_record
from tests.factories import goods_arrived

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _all_ok(consignment):
    return {d.pk: (True, True) for d in consignment.documents.all()}


def _unchanged(consignment, events_before):
    consignment.refresh_from_db()
    assert AuditEvent.objects.filter(consignment=consignment).count() == events_before


def _events(consignment):
    return AuditEvent.objects.filter(consignment=consignment).count()


def test_documentary_check_needs_a_verdict_on_every_document(inspector, consignment):
    before = _events(consignment)
    with pytest.raises(DomainInvalid) as refused:
        documentary_check_record(actor=inspector, consignment=consignment, verdicts={}, result="satisfactory")
    assert "every accompanying document" in refused.value.errors["verdicts"][0]
    assert not DocumentaryCheck.objects.exists()
    _unchanged(consignment, before)


def test_an_invalid_document_cannot_give_a_satisfactory_check(inspector, consignment):
    verdicts = {pk: (True, False) for pk in _all_ok(consignment)}
    with pytest.raises(DomainInvalid) as refused:
        documentary_check_record(actor=inspector, consignment=consignment, verdicts=verdicts, result="satisfactory")
    assert "result" in refused.value.errors


@pytest.mark.parametrize("result", ["not_satisfactory", "not_done"])
def test_a_result_that_is_not_satisfactory_needs_a_reason(inspector, consignment, result):
    with pytest.raises(DomainInvalid) as refused:
        documentary_check_record(
            actor=inspector, consignment=consignment, verdicts=_all_ok(consignment), result=result, reason="  "
        )
    assert "reason" in refused.value.errors


def test_only_inspectors_record_checks(officer, supervisor, importer, consignment):
    for user in (supervisor, importer):
        with pytest.raises(NotPermitted):
            documentary_check_record(
                actor=user, consignment=consignment, verdicts=_all_ok(consignment), result="satisfactory"
            )
    # a certifying officer is also an inspector
    documentary_check_record(
        actor=officer, consignment=consignment, verdicts=_all_ok(consignment), result="satisfactory"
    )


def test_identity_mismatch_cannot_be_satisfactory(inspector, consignment):
    goods_arrived(consignment, inspector)
    with pytest.raises(DomainInvalid):
        identity_check_record(
            actor=inspector,
            consignment=consignment,
            seals_as_declared=False,
            goods_as_declared=True,
            result="satisfactory",
        )
    assert not IdentityCheck.objects.exists()


def test_samples_need_a_known_analysis_lab_reason_and_conservation(inspector, consignment):
    goods_arrived(consignment, inspector)
    with pytest.raises(DomainInvalid) as refused:
        physical_check_record(
            actor=inspector,
            consignment=consignment,
            result="satisfactory",
            samples=[{"analysis": "ASTROLOGY", "laboratory": "NOWHERE", "reason": "whim", "conservation": "warm"}],
        )
    assert set(refused.value.errors) == {
        "samples.0.analysis",
        "samples.0.laboratory",
        "samples.0.reason",
        "samples.0.conservation",
    }
    assert not Sample.objects.exists()


def _to_decision(inspector, consignment):
    documentary_check_record(
        actor=inspector, consignment=consignment, verdicts=_all_ok(consignment), result="satisfactory"
    )
    consignment.refresh_from_db()
    consignment.status = "awaiting_decision"  # the plan's checks are not the subject here
    Consignment.objects.filter(pk=consignment.pk).update(status="awaiting_decision")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "non_acceptable", "measure_deadline": "+10", "reasons": ["Other"]}, "measure"),
        ({"code": "non_acceptable", "measure": "destruction", "reasons": ["Other"]}, "measure_deadline"),
        (
            {"code": "non_acceptable", "measure": "destruction", "measure_deadline": "-1", "reasons": ["Other"]},
            "measure_deadline",
        ),
        ({"code": "non_acceptable", "measure": "destruction", "measure_deadline": "+10"}, "reasons"),
        ({"code": "non_acceptable", "measure": "teleport", "measure_deadline": "+10", "reasons": ["Other"]}, "measure"),
        (
            {"code": "non_acceptable", "measure": "destruction", "measure_deadline": "+10", "reasons": ["Bad"]},
            "reasons",
        ),
        ({"code": "acceptable_for_internal_market", "measure": "destruction"}, "measure"),
        ({"code": "maybe"}, "code"),
    ],
)
def test_decision_rules(inspector, officer, consignment, kwargs, field):
    _to_decision(inspector, consignment)
    if "measure_deadline" in kwargs:
        kwargs["measure_deadline"] = timezone.localdate() + datetime.timedelta(days=int(kwargs["measure_deadline"]))
    with pytest.raises(DomainInvalid) as refused:
        decision_record(actor=officer, consignment=consignment, **kwargs)
    assert field in refused.value.errors
    assert not Decision.objects.exists()


def test_only_a_certifying_officer_decides(inspector, consignment):
    _to_decision(inspector, consignment)
    with pytest.raises(NotPermitted):
        decision_record(actor=inspector, consignment=consignment, code="acceptable_for_internal_market")


def _refusal(inspector, officer, consignment):
    _to_decision(inspector, consignment)
    return decision_record(
        actor=officer,
        consignment=consignment,
        code="non_acceptable",
        measure="destruction",
        measure_deadline=timezone.localdate() + datetime.timedelta(days=5),
        reasons=["Other"],
    )


def test_an_officer_cannot_countersign_their_own_refusal(inspector, officer, consignment):
    from inspection.roles import Role
    from tests.factories import UserFactory

    both = UserFactory(username="double-hat", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR])
    _to_decision(inspector, consignment)
    decision = decision_record(
        actor=both,
        consignment=consignment,
        code="non_acceptable",
        measure="destruction",
        measure_deadline=timezone.localdate() + datetime.timedelta(days=5),
        reasons=["Other"],
    )
    with pytest.raises(NotPermitted, match="own refusal"):
        decision_countersign(actor=both, decision=decision, approve=True)


def test_sending_back_needs_a_comment_and_countersigning_twice_is_refused(inspector, officer, supervisor, consignment):
    decision = _refusal(inspector, officer, consignment)
    with pytest.raises(DomainInvalid):
        decision_countersign(actor=supervisor, decision=decision, approve=False, comment="")
    decision_countersign(actor=supervisor, decision=decision, approve=True)
    with pytest.raises(TransitionNotAllowed):
        decision_countersign(actor=supervisor, decision=decision, approve=True)


def test_follow_up_needs_an_outcome_and_evidence(inspector, officer, supervisor, consignment):
    decision = _refusal(inspector, officer, consignment)
    decision_countersign(actor=supervisor, decision=decision, approve=True)
    consignment.refresh_from_db()
    with pytest.raises(DomainInvalid):
        follow_up_record(actor=inspector, consignment=consignment, outcome="vanished", evidence="x")
    with pytest.raises(DomainInvalid):
        follow_up_record(actor=inspector, consignment=consignment, outcome="destroyed", evidence=" ")
    follow_up_record(actor=inspector, consignment=consignment, outcome="destroyed", evidence="PV 12")
    consignment.refresh_from_db()
    assert consignment.status == "closed"


def _awaiting_physical_check(inspector, consignment):
    """The plan selected a physical check only, and the documents are satisfactory."""
    from inspection.models import CheckPlan

    CheckPlan.objects.filter(consignment=consignment).update(identity_selected=False, physical_selected=True)
    consignment = Consignment.objects.get(pk=consignment.pk)
    documentary_check_record(
        actor=inspector, consignment=consignment, verdicts=_all_ok(consignment), result="satisfactory"
    )
    goods_arrived(consignment, inspector)
    return consignment


def _released_sample(inspector, consignment):
    consignment = _awaiting_physical_check(inspector, consignment)
    physical_check_record(
        actor=inspector,
        consignment=consignment,
        result="satisfactory",
        samples=[
            {
                "analysis": "PEST_IDENTIFICATION",
                "laboratory": "LTA972",
                "reason": "random",
                "conservation": "chilled",
                "detained": False,
            }
        ],
    )
    return Sample.objects.get()


def test_a_lab_result_after_closing_is_kept_and_moves_nothing(inspector, lab, consignment):
    sample = _released_sample(inspector, consignment)
    Consignment.objects.filter(pk=consignment.pk).update(status="closed")
    submission = lab_submission_store(lab_user=lab, payload={"sample": sample.number})
    result, created = lab_result_record(submission=submission, sample=sample, conclusion="satisfactory", analytes=[])
    assert created and Consignment.objects.get(pk=consignment.pk).status == "closed"


def test_a_lab_result_for_a_cancelled_consignment_is_refused(inspector, lab, consignment):
    sample = _released_sample(inspector, consignment)
    Consignment.objects.filter(pk=consignment.pk).update(status="cancelled")
    submission = lab_submission_store(lab_user=lab, payload={"sample": sample.number})
    with pytest.raises(TransitionNotAllowed, match="cancelled"):
        lab_result_record(submission=submission, sample=sample, conclusion="satisfactory", analytes=[])
    assert not Sample.objects.filter(status="result").exists()


def test_a_failed_sample_forbids_an_acceptable_decision(inspector, officer, lab, consignment):
    sample = _released_sample(inspector, consignment)
    submission = lab_submission_store(lab_user=lab, payload={"sample": sample.number})
    lab_result_record(submission=submission, sample=sample, conclusion="not_satisfactory", analytes=[])
    consignment.refresh_from_db()
    with pytest.raises(DomainInvalid) as refused:
        decision_record(actor=officer, consignment=consignment, code="acceptable_for_internal_market")
    assert "code" in refused.value.errors


def test_an_unsatisfactory_physical_check_goes_to_the_decision_without_waiting(inspector, consignment):
    consignment = _awaiting_physical_check(inspector, consignment)
    physical_check_record(
        actor=inspector,
        consignment=consignment,
        result="not_satisfactory",
        reason="Live pests found",
        samples=[
            {
                "analysis": "PEST_IDENTIFICATION",
                "laboratory": "LTA972",
                "reason": "suspicion",
                "conservation": "ambient",
                "detained": True,
            }
        ],
    )
    consignment.refresh_from_db()
    assert consignment.status == "awaiting_decision"


def test_only_labs_post_results(inspector):
    with pytest.raises(NotPermitted):
        lab_submission_store(lab_user=inspector, payload={})
