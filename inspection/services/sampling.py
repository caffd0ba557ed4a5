"""The physical check and the samples taken during it."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.applicability import analyses_for_consignment
from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.errors import DomainInvalid
from inspection.models import (
    CheckStep,
    Consignment,
    ExportApplication,
    Laboratory,
    NotificationKind,
    PhysicalCheck,
    Sample,
)
from inspection.roles import Step
from inspection.services.checks import _move_on, _require_arrival, _require_reason, _with_photos
from inspection.services.notifications import notify
from inspection.services.permissions import require_step
from inspection.services.photos import check_photos_saved, photos_clean


def sample_number(sampled: Consignment | ExportApplication, index: int) -> str:
    """`<CHED number>-S<n>` (or the export application's reference): printed on the label, quoted by the lab."""
    return f"{sampled.reference}-S{index}"


@atomic_service
def physical_check_record(
    *,
    actor,
    consignment: Consignment,
    result: str,
    findings: str = "",
    reason: str = "",
    samples: list[dict] = (),
    photos=(),
) -> PhysicalCheck:
    """The physical check (art. 49(2)(b)) and the samples it takes. Each sample names an analysis, a lab,
    why it was taken (random, suspicion, reinforced check), how it is kept, and whether the consignment is
    detained until the result or released pending it. Its result is due within the analysis's days.
    `photos`: uploaded files kept as evidence (see `inspection.services.photos`)."""
    require_step(actor, Step.PHYSICAL_CHECK)
    _require_arrival(consignment)
    _require_reason(result, reason)
    now = timezone.now()
    today = timezone.localdate(now)
    analyses, labs = {}, {}
    if samples:  # most physical checks take none: no reference data to read
        analyses = {a.code: a for a in analyses_for_consignment(consignment, today)}
        labs = {lab.code: lab for lab in Laboratory.objects.in_force(today)}
    errors = {}
    for i, sample in enumerate(samples):
        if sample.get("analysis") not in analyses:
            errors[f"samples.{i}.analysis"] = [_("Choose an analysis meant for this CHED type and commodity.")]
        if sample.get("laboratory") not in labs:
            errors[f"samples.{i}.laboratory"] = [_("Choose a laboratory.")]
        if sample.get("reason") not in Sample.Reason.values:
            errors[f"samples.{i}.reason"] = [_("Choose why the sample is taken.")]
        if sample.get("conservation") not in Sample.Conservation.values:
            errors[f"samples.{i}.conservation"] = [_("Choose how the sample is kept.")]
    if errors:
        raise DomainInvalid(errors)
    clean_photos = photos_clean(photos)
    check = PhysicalCheck.objects.create(
        consignment=consignment, result=result, findings=findings, reason=reason, inspector=actor, recorded_at=now
    )
    taken = consignment.samples.count() if samples else 0
    created = Sample.objects.bulk_create(
        Sample(
            consignment=consignment,
            number=sample_number(consignment, taken + i + 1),
            analysis=analyses[s["analysis"]],
            laboratory=labs[s["laboratory"]],
            reason=s["reason"],
            conservation=s["conservation"],
            detained=bool(s.get("detained", True)),
            taken_by=actor,
            taken_at=now,
            result_due_at=now + datetime.timedelta(days=analyses[s["analysis"]].result_due_days),
        )
        for i, s in enumerate(samples)
    )
    data = {
        "result": result,
        "findings": findings,
        "reason": reason,
        "samples": [
            {
                "number": s.number,
                "analysis": s.analysis.code,
                "laboratory": s.laboratory.code,
                "reason": s.reason,
                "conservation": s.conservation,
                "detained": s.detained,
                "result_due_at": s.result_due_at,
            }
            for s in created
        ],
    }
    with check_photos_saved(actor=actor, consignment=consignment, step=CheckStep.PHYSICAL, photos=clean_photos) as rows:
        _move_on(
            consignment=consignment,
            actor=actor,
            action=AuditAction.PHYSICAL_CHECK_RECORDED,
            data=_with_photos(data, rows),
        )
        if created:
            notify(
                consignment=consignment,
                kind=NotificationKind.SAMPLED,
                samples=[{"number": s.number, "detained": s.detained} for s in created],
            )
    return check
