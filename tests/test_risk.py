"""Risk-based selection of identity and physical checks: the rates that apply (catalogue, reinforced rules),
the keyed draw, and the stored, audited check plan."""

import datetime

import hypothesis
import pytest
from django.utils import timezone
from hypothesis import strategies as st

from inspection.errors import DomainInvalid
from inspection.models import AuditEvent, CheckPlan, Commodity, CommodityLine, ReinforcedCheckRule
from inspection.risk import check_rates, check_selection, is_selected, risk_draw
from inspection.services.checks import check_plan_record
from inspection.services.consignments import consignment_create
from tests.factories import part_one

DO_CHILLI_RULE = (
    "reinforced: Implementing Regulation (EU) 2019/1793, Annex I, row 7 – Pesticide residues (incl. Acephate), "
    "DO 07096099 TARIC 20 (identity 50 %, physical 50 %)"
)


def _consignment(actor, ched_type: str = "CHED-PP", *, cn_codes: tuple[str, ...] = (), origin: str = "DO"):
    """A submitted consignment; `cn_codes` replace the factory's commodity line (same weights and packages)."""
    part = part_one(ched_type, country_of_origin=origin)
    if cn_codes:
        template = part["commodities"][0]
        part["commodities"] = [{**template, "cn_code": cn, "description": ""} for cn in cn_codes]
    return consignment_create(actor=actor, part_one=part)


def _arrival_day(consignment) -> datetime.date:
    return timezone.localdate(consignment.expected_arrival)


def _references(count: int, *, prefix: str) -> list[str]:
    return [f"{prefix}.FR.2026.{n:07d}" for n in range(1, count + 1)]


# The draw: pure functions, no database.


@hypothesis.settings(max_examples=20, deadline=None, database=None)
@hypothesis.given(
    rate=st.integers(min_value=0, max_value=100),
    prefix=st.sampled_from(["CHEDPP", "CHEDP", "CHEDD", "CHEDA"]),
    kind=st.sampled_from(["identity", "physical"]),
)
def test_selected_share_follows_the_rate(rate, prefix, kind):
    references = _references(10_000, prefix=prefix)
    selected = sum(is_selected(risk_draw(reference=r, kind=kind), rate) for r in references)
    assert abs(selected / len(references) * 100 - rate) <= 2


def test_draw_is_reproducible_and_in_unit_interval():
    first = risk_draw(reference="CHEDPP.FR.2026.0000123", kind="physical")
    assert first == risk_draw(reference="CHEDPP.FR.2026.0000123", kind="physical")
    assert 0 <= first < 1


def test_draw_differs_between_kinds_and_references():
    draws = {
        risk_draw(reference=reference, kind=kind)
        for reference in ("CHEDPP.FR.2026.0000123", "CHEDPP.FR.2026.0000124", "CHEDD.FR.2026.0000123")
        for kind in ("identity", "physical")
    }
    assert len(draws) == 6


def test_draw_is_keyed_with_the_secret_key(settings):
    # Pinned so that a stored plan can be re-run by a later version: HMAC-SHA256, first 8 bytes, big-endian.
    settings.SECRET_KEY = "pif-test-key"
    assert risk_draw(reference="CHEDPP.FR.2026.0000001", kind="physical") == 0.29968550956929857
    settings.SECRET_KEY = "another-key"
    assert risk_draw(reference="CHEDPP.FR.2026.0000001", kind="physical") != 0.29968550956929857


@hypothesis.settings(max_examples=50, deadline=None, database=None)
@hypothesis.given(draw=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_zero_rate_never_selects_and_full_rate_always(draw):
    assert not is_selected(draw, 0)
    assert is_selected(draw, 100)


# The rates that apply: catalogue and reinforced rules.


def test_rates_come_from_the_catalogue(importer, django_assert_num_queries):
    mango = _consignment(importer)
    with django_assert_num_queries(3):  # the lines, the reinforced rules, the intensified controls
        rule, identity, physical = check_rates(mango, on=_arrival_day(mango))
    assert (identity, physical) == (50, 50)
    assert rule == "catalogue 08045000 (identity 50 %, physical 50 %)"


def test_reinforced_rule_raises_the_rates_and_is_named(importer):
    chillies = _consignment(importer, "CHED-D", cn_codes=("0709609920",), origin="DO")
    rule, identity, physical = check_rates(chillies, on=_arrival_day(chillies))
    assert (identity, physical) == (50, 50)  # one frequency for the identity and physical checks
    assert rule == DO_CHILLI_RULE


def test_a_ched_d_names_goods_and_origins_the_regulation_lists(importer, english):
    # chillies are listed from the Dominican Republic, not from the United States: no CHED-D for them
    part = part_one("CHED-D", country_of_origin="US")
    part["commodities"][0]["cn_code"] = "0709609920"
    with pytest.raises(DomainInvalid) as refused:
        consignment_create(actor=importer, part_one=part)
    assert "does not list CN 0709609920 from US" in str(refused.value.errors["commodities.0.cn_code"])


def test_annex_ii_goods_need_the_official_certificate_and_analyses(importer):
    part = part_one("CHED-D", country_of_origin="IN")  # groundnuts from India: Annex II
    with pytest.raises(DomainInvalid) as refused:
        consignment_create(actor=importer, part_one=part)
    assert "accompanying_documents" in refused.value.errors
    part["accompanying_documents"] = [
        {"type": "HEALTH_CERTIFICATE", "reference": "IN-2026-77"},
        {"type": "LABORATORY_ANALYSIS_REPORT", "reference": "LAB-2026-77"},
    ]
    consignment = consignment_create(actor=importer, part_one=part)
    assert check_rates(consignment, on=_arrival_day(consignment))[1:] == (50, 50)


def test_reinforced_rule_for_every_origin_applies(importer):
    plantlets = _consignment(importer, cn_codes=("06029050",), origin="CR")
    rule, identity, physical = check_rates(plantlets, on=_arrival_day(plantlets))
    assert (identity, physical) == (100, 100)
    assert "reinforced: Regulation (EU) 2016/2031, art. 72" in rule
    assert "any origin 0602*" in rule


def test_reinforced_rule_out_of_force_does_not_apply(importer):
    chillies = _consignment(importer, "CHED-D", cn_codes=("0709609920",), origin="DO")
    arrival_day = _arrival_day(chillies)
    ReinforcedCheckRule.objects.filter(cn_prefix="07096099", country="DO").update(
        valid_to=arrival_day - datetime.timedelta(days=1)
    )
    assert check_rates(chillies, on=arrival_day)[1:] == (20, 20)
    # A consignment is judged by the rules in force on its date: the day before, the rule still held.
    assert check_rates(chillies, on=arrival_day - datetime.timedelta(days=1))[1:] == (50, 50)


def test_highest_rate_over_the_lines_is_taken(importer):
    mango_and_pineapple = _consignment(importer, cn_codes=("08043000", "08045000"))
    rule, identity, physical = check_rates(mango_and_pineapple, on=_arrival_day(mango_and_pineapple))
    assert (identity, physical) == (50, 50)
    assert rule == "catalogue 08045000 (identity 50 %, physical 50 %)"


def test_each_rate_is_the_highest_of_its_own(importer):
    # Pineapples' catalogue sets identity at 90 %; mangoes' sets physical at 50 %.
    Commodity.objects.filter(ched_type__code="CHED-PP", cn_code="08043000").update(identity_rate=90, physical_rate=10)
    pineapples_and_mangoes = _consignment(importer, cn_codes=("08043000", "08045000"))
    rule, identity, physical = check_rates(pineapples_and_mangoes, on=_arrival_day(pineapples_and_mangoes))
    assert (identity, physical) == (90, 50)
    assert (
        rule == "catalogue 08043000 (identity 90 %, physical 10 %); catalogue 08045000 (identity 50 %, physical 50 %)"
    )


def test_line_without_catalogue_entry_gets_every_check(importer):
    mango = _consignment(importer)
    CommodityLine.objects.filter(consignment=mango).update(commodity=None)
    rule, identity, physical = check_rates(mango, on=_arrival_day(mango))
    assert (identity, physical) == (100, 100)
    assert rule == "no catalogue entry for 08045000 (identity 100 %, physical 100 %)"


def test_zero_rate_selects_no_check_and_full_rate_every_check(importer):
    Commodity.objects.filter(ched_type__code="CHED-PP", cn_code="08043000").update(identity_rate=0, physical_rate=0)
    pineapples = [_consignment(importer, cn_codes=("08043000",)) for _ in range(5)]
    plantlets = [_consignment(importer, cn_codes=("06029050",)) for _ in range(5)]
    for consignment in pineapples:
        selection = check_selection(consignment, on=_arrival_day(consignment))
        assert (selection.identity_selected, selection.physical_selected) == (False, False)
    for consignment in plantlets:
        selection = check_selection(consignment, on=_arrival_day(consignment))
        assert (selection.identity_selected, selection.physical_selected) == (True, True)


def test_selection_records_rule_rates_and_draws(importer):
    chillies = _consignment(importer, "CHED-D", cn_codes=("0709609920",), origin="DO")
    selection = check_selection(chillies, on=_arrival_day(chillies))
    assert selection.rule.startswith(DO_CHILLI_RULE)
    assert (selection.identity_rate, selection.physical_rate) == (50, 50)
    assert selection.identity_draw == risk_draw(reference=chillies.reference, kind="identity")
    assert selection.physical_draw == risk_draw(reference=chillies.reference, kind="physical")
    assert selection.physical_selected == (selection.physical_draw < 0.5)
    # a physical check brings the identity check with it
    assert selection.identity_selected == (selection.identity_draw < 0.5 or selection.physical_selected)


# The stored plan. Submitting may already plan the checks (the workflow calls the same service), so these tests
# start from no plan and count the events the call itself adds.


def _planned_events(consignment) -> int:
    return AuditEvent.objects.filter(consignment=consignment, action="checks.planned").count()


def test_check_plan_is_stored_and_audited(importer):
    chillies = _consignment(importer, "CHED-D", cn_codes=("0709609920",), origin="DO")
    CheckPlan.objects.filter(consignment=chillies).delete()
    events_before = _planned_events(chillies)

    plan = check_plan_record(consignment=chillies)

    expected = check_selection(chillies, on=_arrival_day(chillies))
    plan.refresh_from_db()
    assert plan.consignment_id == chillies.pk
    assert plan.rule.startswith(DO_CHILLI_RULE) and (plan.identity_rate, plan.physical_rate) == (50, 50)
    assert (plan.identity_draw, plan.physical_draw) == (expected.identity_draw, expected.physical_draw)
    assert (plan.identity_selected, plan.physical_selected) == (expected.identity_selected, expected.physical_selected)
    assert plan.planned_at is not None
    assert _planned_events(chillies) == events_before + 1
    event = AuditEvent.objects.filter(consignment=chillies, action="checks.planned").latest("id")
    assert (event.actor, event.role) == (None, "system")
    assert event.data["rule"] == plan.rule
    assert (event.data["identity_rate"], event.data["physical_rate"]) == (50, 50)
    assert (event.data["identity_draw"], event.data["physical_draw"]) == (plan.identity_draw, plan.physical_draw)
    assert (event.data["identity_selected"], event.data["physical_selected"]) == (
        plan.identity_selected,
        plan.physical_selected,
    )


def test_check_plan_twice_gives_one_plan_and_one_event(importer):
    mango = _consignment(importer)
    CheckPlan.objects.filter(consignment=mango).delete()
    events_before = _planned_events(mango)

    first = check_plan_record(consignment=mango)
    second = check_plan_record(consignment=mango)

    assert second.pk == first.pk
    assert CheckPlan.objects.filter(consignment=mango).count() == 1
    assert _planned_events(mango) == events_before + 1


def test_check_plan_on_submit_is_not_repeated(importer):
    # Whether or not submitting planned the checks already, planning again adds nothing.
    mango = _consignment(importer)
    plan = check_plan_record(consignment=mango)
    events = _planned_events(mango)

    again = check_plan_record(consignment=mango)

    assert again.pk == plan.pk
    assert CheckPlan.objects.filter(consignment=mango).count() == 1
    assert _planned_events(mango) == events >= 1


def test_a_physical_check_brings_the_identity_check(importer):
    Commodity.objects.filter(ched_type__code="CHED-PP", cn_code="08045000").update(identity_rate=0, physical_rate=100)
    mango = _consignment(importer)
    selection = check_selection(mango, on=_arrival_day(mango))
    assert (selection.identity_selected, selection.physical_selected) == (True, True)
    assert selection.rule.endswith("identity check with the physical check")
