"""Where a consignment stands in its checks: what it is waiting for, from the records alone."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef

from inspection.models import CheckPlan, Consignment, ConsignmentStatus, Sample

S = ConsignmentStatus
_RECORDS = ("documentary_check", "check_plan", "identity_check", "physical_check")


def _record(consignment: Consignment, name: str):
    try:
        return getattr(consignment, name)
    except ObjectDoesNotExist:  # the check has not been recorded
        return None


def consignment_awaits(consignment: Consignment, *, known: dict | None = None) -> str:
    """The status that says what the checks still wait for (Regulation (EU) 2017/625, arts. 47-49):
    the documentary check first; then the identity and physical checks the plan selected; then the results
    of samples taken with the consignment detained; then the decision. A check that is not satisfactory
    goes straight to the decision. The records read are left on `consignment` too (its one-to-one caches),
    so that the flow's gateways, which read the same consignment next, do not read them again.

    `known` maps record names to what the caller has just read or written (None: not recorded). When it
    names every record and no physical check (so no sample can be waiting), nothing is read again. The
    caller vouches for it: the documentary check, recorded first and once, is the one that passes it."""
    if known is not None and set(known) == set(_RECORDS) and known["physical_check"] is None:
        for name in _RECORDS:
            Consignment._meta.get_field(name).set_cached_value(consignment, known[name])
        return _awaits(consignment, waits_for_lab=False)
    detained = Sample.objects.filter(consignment=OuterRef("pk"), detained=True).exclude(
        status__in=[Sample.Status.RESULT, Sample.Status.WAIVED]
    )
    # one query for every record below
    fresh = (
        Consignment.objects.select_related(*_RECORDS).annotate(waits_for_lab=Exists(detained)).get(pk=consignment.pk)
    )
    for name in _RECORDS:  # what follows (the flow's gateways) reads them from the caller's consignment
        record = Consignment._meta.get_field(name)
        record.set_cached_value(consignment, record.get_cached_value(fresh))
    return _awaits(fresh, waits_for_lab=fresh.waits_for_lab)


def _awaits(consignment: Consignment, *, waits_for_lab: bool) -> str:
    documentary = _record(consignment, "documentary_check")
    if documentary is None:
        return S.SUBMITTED
    if not documentary.satisfactory:
        return S.AWAITING_DECISION
    plan: CheckPlan | None = _record(consignment, "check_plan")
    identity = _record(consignment, "identity_check")
    if plan and plan.identity_selected:
        if identity is None:
            return S.CHECKING
        if not identity.satisfactory:
            return S.AWAITING_DECISION
    physical = _record(consignment, "physical_check")
    if plan and plan.physical_selected and physical is None:
        return S.CHECKING
    if physical and not physical.satisfactory:
        return S.AWAITING_DECISION
    if physical and waits_for_lab:  # a detained sample without its result
        return S.AWAITING_LAB
    return S.AWAITING_DECISION
