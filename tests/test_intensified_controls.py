"""Intensified controls after an unfavourable result (Regulation (EU) 2017/625, art. 65; Implementing Regulation
(EU) 2019/1873): a failed lab result or a refusal for a health reason opens them, the next consignments of the
same origin x commodity x consignor get every check and the plan names them, favourable results end them, and
the supervisors see them."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from inspection.errors import NotPermitted
from inspection.models import (
    Analysis,
    AuditEvent,
    Consignment,
    IntensifiedControl,
    IntensifiedControlResult,
    Laboratory,
    Sample,
)
from inspection.models.intensified import FAVOURABLE_RESULTS_NEEDED
from inspection.services.checks import check_plan_record
from inspection.services.consignments import consignment_create
from inspection.services.decisions import decision_countersign, decision_record
from inspection.services.intensified import (
    intensified_control_count,
    intensified_control_open,
    intensified_control_withdraw,
)
from inspection.services.lab import lab_result_record, lab_submission_store
from tests.factories import part_one

BEEF = "02023090"


def _beef(importer, *, origin="AR", consignor="Frigorífico del Plata SA", ched_type="CHED-P"):
    """A CHED-P of frozen beef (or the factory's goods of `ched_type`), its checks planned."""
    part = part_one(ched_type, country_of_origin=origin)
    part["consignor"] = {**part["consignor"], "name": consignor}
    consignment = consignment_create(actor=importer, part_one=part)
    check_plan_record(consignment=consignment)
    return consignment


def _lab_result(consignment, *, inspector, lab, conclusion, number="S-1"):
    now = timezone.now()
    sample = Sample.objects.create(
        consignment=consignment,
        number=number,
        analysis=Analysis.objects.get(code="SALMONELLA"),
        laboratory=Laboratory.objects.first(),
        reason=Sample.Reason.RANDOM,
        conservation=Sample.Conservation.FROZEN,
        detained=True,
        taken_by=inspector,
        taken_at=now,
        result_due_at=now + datetime.timedelta(days=5),
    )
    submission = lab_submission_store(lab_user=lab, payload={"sample": number})
    lab_result_record(submission=submission, sample=sample, conclusion=conclusion, analytes=[])


def _opened(importer, inspector, lab) -> IntensifiedControl:
    failed = _beef(importer)
    _lab_result(failed, inspector=inspector, lab=lab, conclusion="not_satisfactory")
    return IntensifiedControl.objects.get()


def _accept(officer, consignment):
    Consignment.objects.filter(pk=consignment.pk).update(status="awaiting_decision")
    consignment.refresh_from_db()
    return decision_record(actor=officer, consignment=consignment, code="acceptable_for_internal_market")


def test_a_failed_lab_result_opens_intensified_controls(importer, inspector, lab):
    control = _opened(importer, inspector, lab)
    assert (control.ched_type.code, control.country, control.cn_prefix) == ("CHED-P", "AR", BEEF)
    assert control.consignor_name == "Frigorífico del Plata SA"
    assert (control.identity_rate, control.physical_rate) == (100, 100)
    assert control.cause == "lab_result" and "SALMONELLA" in control.hazard
    assert control.favourable_needed == FAVOURABLE_RESULTS_NEEDED == 30
    assert control.ended_at is None
    event = AuditEvent.objects.get(action="intensified_control.opened")
    assert event.consignment_id == control.cause_consignment_id and event.actor is None


def test_a_satisfactory_result_opens_nothing(importer, inspector, lab):
    _lab_result(_beef(importer), inspector=inspector, lab=lab, conclusion="satisfactory")
    assert not IntensifiedControl.objects.exists()


def test_opening_is_idempotent(importer, inspector, lab):
    control = _opened(importer, inspector, lab)
    again = intensified_control_open(consignment=control.cause_consignment, cause="refusal", hazard="refused")
    assert again == [] and IntensifiedControl.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="intensified_control.").count() == 1


def test_plant_goods_open_no_intensified_controls(importer, inspector, lab):
    mangoes = consignment_create(actor=importer, part_one=part_one("CHED-PP"))
    _lab_result(mangoes, inspector=inspector, lab=lab, conclusion="not_satisfactory")
    assert not IntensifiedControl.objects.exists()


def test_the_next_consignment_of_that_origin_and_commodity_gets_every_check(importer, inspector, lab):
    _opened(importer, inspector, lab)
    plan = _beef(importer).check_plan
    assert (plan.identity_rate, plan.physical_rate) == (100, 100)
    assert plan.identity_selected and plan.physical_selected
    assert plan.rule.startswith("intensified: 2017/625 art. 65; 2019/1873 – SALMONELLA not satisfactory")
    assert f"AR {BEEF}*, Frigorífico del Plata SA (identity 100 %, physical 100 %)" in plan.rule


def test_another_origin_or_consignor_is_not_covered(importer, inspector, lab):
    _opened(importer, inspector, lab)
    for other in (_beef(importer, origin="BR"), _beef(importer, consignor="Another Packer Ltda")):
        assert "intensified" not in other.check_plan.rule


def test_favourable_results_end_the_control(importer, inspector, officer, lab):
    control = _opened(importer, inspector, lab)
    IntensifiedControl.objects.filter(pk=control.pk).update(favourable_needed=2)  # data: 30 in force
    first = _beef(importer)
    _accept(officer, first)
    _accept(officer, first)  # an acceptable decision again (after a recall) counts once
    control.refresh_from_db()
    assert control.favourable_seen == 1 and control.ended_at is None
    _accept(officer, _beef(importer))
    control.refresh_from_db()
    assert control.favourable_seen == 2 and control.ended_at is not None
    assert AuditEvent.objects.filter(action="intensified_control.ended").count() == 1
    assert "intensified" not in _beef(importer).check_plan.rule  # ended: the catalogue rates again


def test_a_consignment_planned_before_the_control_does_not_count(importer, inspector, officer, lab):
    earlier = _beef(importer)
    control = _opened(importer, inspector, lab)
    _accept(officer, earlier)
    control.refresh_from_db()
    assert control.favourable_seen == 0


def test_a_consignment_with_a_result_pending_does_not_count(importer, inspector, officer, lab):
    control = _opened(importer, inspector, lab)
    pending = _beef(importer)
    Sample.objects.create(
        consignment=pending,
        number="S-2",
        analysis=Analysis.objects.get(code="SALMONELLA"),
        laboratory=Laboratory.objects.first(),
        reason=Sample.Reason.RANDOM,
        conservation=Sample.Conservation.FROZEN,
        detained=False,
        taken_by=inspector,
        taken_at=timezone.now(),
        result_due_at=timezone.now() + datetime.timedelta(days=5),
    )
    assert intensified_control_count(consignment=pending) == []
    control.refresh_from_db()
    assert control.favourable_seen == 0


def test_an_unfavourable_result_sets_the_count_back(importer, inspector, officer, lab):
    control = _opened(importer, inspector, lab)
    _accept(officer, _beef(importer))
    control.refresh_from_db()
    assert control.favourable_seen == 1
    _lab_result(_beef(importer), inspector=inspector, lab=lab, conclusion="not_satisfactory", number="S-3")
    control.refresh_from_db()
    assert control.favourable_seen == 0 and control.ended_at is None
    assert IntensifiedControl.objects.count() == 1
    assert IntensifiedControlResult.objects.filter(control=control, favourable=False).count() == 1
    assert AuditEvent.objects.filter(action="intensified_control.reset").count() == 1


def _refused(importer, officer, supervisor, reasons):
    consignment = _beef(importer)
    Consignment.objects.filter(pk=consignment.pk).update(status="awaiting_decision")
    consignment.refresh_from_db()
    decision = decision_record(
        actor=officer,
        consignment=consignment,
        code="non_acceptable",
        measure="destruction",
        measure_deadline=timezone.localdate() + datetime.timedelta(days=5),
        reasons=reasons,
    )
    decision_countersign(actor=supervisor, decision=decision, approve=True)
    return consignment


def test_a_refusal_for_a_health_reason_opens_intensified_controls(importer, officer, supervisor):
    consignment = _refused(importer, officer, supervisor, ["MicrobiologicalContamination"])
    control = IntensifiedControl.objects.get()
    assert control.cause == "refusal" and control.cause_consignment == consignment
    assert "MicrobiologicalContamination" in control.hazard


def test_a_refusal_on_other_grounds_opens_nothing(importer, officer, supervisor):
    _refused(importer, officer, supervisor, ["NonApprovedEstablishment"])
    assert not IntensifiedControl.objects.exists()


# The supervisors' page


URL = "/supervision/intensified-controls/"


def _client(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_supervisors_see_the_controls_in_force_and_ended(importer, inspector, lab, supervisor):
    control = _opened(importer, inspector, lab)
    IntensifiedControl.objects.create(
        ched_type=control.ched_type,
        country="BR",
        cn_prefix="0207",
        cause="refusal",
        hazard="refused (ChemicalContamination)",
        cause_consignment=control.cause_consignment,
        opened_at=timezone.now() - datetime.timedelta(days=60),
        favourable_seen=30,
        ended_at=timezone.now() - datetime.timedelta(days=1),
    )
    response = _client(supervisor).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "In force" in body and "Ended in the last 90 days" in body
    assert f"{BEEF}*" in body and "0207*" in body and "0 / 30" in body and "30 / 30" in body
    assert f"/supervision/consignments/{control.cause_consignment.reference}/trail/" in body
    french = _client(supervisor, "fr").get(URL).content.decode()
    assert "Contrôles officiels renforcés" in french and "En vigueur" in french


def test_the_page_has_no_query_per_control(importer, inspector, lab, supervisor, django_assert_max_num_queries):
    _opened(importer, inspector, lab)
    client = _client(supervisor)
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200


def test_inspectors_and_officers_get_403_importers_and_labs_404(inspector, officer, importer, lab):
    assert _client(inspector).get(URL).status_code == 403
    assert _client(officer).get(URL).status_code == 403
    assert _client(importer).get(URL).status_code == 404
    assert _client(lab).get(URL).status_code == 404


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_supervision_nav_links_the_page(supervisor, language):
    assert URL in _client(supervisor, language).get("/supervision/dashboard/").content.decode()


# Withdrawing a control early (a supervisor's decision, audited)


def _withdraw_url(control):
    return f"/supervision/intensified-controls/{control.pk}/withdraw/"


def test_a_supervisor_withdraws_an_open_control_with_a_reason(importer, inspector, lab, supervisor):
    control = _opened(importer, inspector, lab)
    client = _client(supervisor)
    assert _withdraw_url(control) in client.get(URL).content.decode()

    reason = "Audit of the establishment satisfactory (DGAL note 2026-118)"
    response = client.post(_withdraw_url(control), {"reason": reason}, follow=True)
    assert response.status_code == 200
    assert "The intensified controls were withdrawn." in response.content.decode()
    control.refresh_from_db()
    assert control.ended_at is not None
    assert (control.withdrawn_by, control.withdrawal_reason) == (supervisor, reason)
    event = AuditEvent.objects.get(action="intensified_control.withdrawn")
    assert event.actor == supervisor and event.consignment_id == control.cause_consignment_id
    assert event.data["reason"] == reason and event.data["control"] == control.pk
    page = response.content.decode()
    assert "withdrawn by sylvie" in page and reason in page
    # the next consignment of that origin and commodity is no longer under intensified controls
    later = _beef(importer)
    assert "intensified" not in later.check_plan.rule


def test_a_withdrawal_needs_a_reason_and_an_open_control(importer, inspector, lab, supervisor):
    control = _opened(importer, inspector, lab)
    client = _client(supervisor)
    response = client.post(_withdraw_url(control), {"reason": "  "})
    assert response.status_code == 400
    assert "Say why the intensified controls are withdrawn." in response.content.decode()
    control.refresh_from_db()
    assert control.ended_at is None
    assert not AuditEvent.objects.filter(action="intensified_control.withdrawn").exists()

    assert client.post(_withdraw_url(control), {"reason": "Lifted by DGAL"}).status_code == 302
    response = client.post(_withdraw_url(control), {"reason": "again"})
    assert response.status_code == 400
    assert "These intensified controls have already ended." in response.content.decode()
    assert AuditEvent.objects.filter(action="intensified_control.withdrawn").count() == 1


def test_only_a_supervisor_withdraws(importer, inspector, officer, lab):
    control = _opened(importer, inspector, lab)
    assert _client(inspector).post(_withdraw_url(control), {"reason": "x"}).status_code == 403
    assert _client(officer).post(_withdraw_url(control), {"reason": "x"}).status_code == 403
    assert _client(importer).post(_withdraw_url(control), {"reason": "x"}).status_code == 404
    assert _client(lab).get(_withdraw_url(control)).status_code == 404
    with pytest.raises(NotPermitted):
        intensified_control_withdraw(actor=officer, control=control, reason="x")
    control.refresh_from_db()
    assert control.ended_at is None
