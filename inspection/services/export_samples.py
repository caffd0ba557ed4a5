"""Samples of an export consignment: taken at its inspection and sent to a laboratory; the certificate waits for
their results (`export_may_issue`). The results themselves arrive as an import sample's do
(`inspection.services.lab.lab_result_record`)."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.applicability import analyses_for
from inspection.atomic import atomic_service
from inspection.audit import AuditAction
from inspection.errors import DomainInvalid, TransitionNotAllowed
from inspection.models import ChedType, ExportApplication, ExportCheck, ExportStatus, Laboratory, Sample
from inspection.roles import Role
from inspection.services.exports import export_audit, export_check_record
from inspection.services.permissions import require_role
from inspection.services.sampling import sample_number

# The analyses of plants and plant products are those of the CHED-PP (one catalogue for imports and exports).
PLANT_HEALTH = "CHED-PP"


def export_analyses(application: ExportApplication, on: datetime.date) -> list:
    """The analyses an export sample may be sent for: those of plant health whose CN prefixes (if any) match
    the HS code of one of the application's lines."""
    ched_type = ChedType.objects.filter(code=PLANT_HEALTH).values_list("pk", flat=True).first()
    hs_codes = list(application.lines.values_list("hs_code", flat=True))
    return analyses_for(ched_type, hs_codes, on) if ched_type is not None else []


@atomic_service
def export_sample_take(
    *, actor, application: ExportApplication, analysis: str, laboratory: str, reason: str, conservation: str
) -> Sample:
    """An inspector takes a sample of the export consignment during its inspection (ISPM 23, ISPM 31), for an
    analysis by an official laboratory. The sample is always detained: no certificate is issued before its
    result (ISPM 7). Numbered `<application reference>-S<n>`, as a CHED's samples; due within the analysis's
    days."""
    require_role(actor, Role.INSPECTOR)
    application = ExportApplication.objects.select_for_update(no_key=True).get(pk=application.pk)
    if application.status != ExportStatus.CHECKING:
        raise TransitionNotAllowed(_("A sample is taken only while the application's checks are in progress."))
    now = timezone.now()
    today = timezone.localdate(now)
    analyses = {a.code: a for a in export_analyses(application, today)}
    labs = {lab.code: lab for lab in Laboratory.objects.in_force(today)}
    errors = {}
    if analysis not in analyses:
        errors["sample_analysis"] = [_("Choose an analysis meant for plants and this commodity.")]
    if laboratory not in labs:
        errors["sample_laboratory"] = [_("Choose a laboratory.")]
    if reason not in Sample.Reason.values:
        errors["sample_reason"] = [_("Choose why the sample is taken.")]
    if conservation not in Sample.Conservation.values:
        errors["sample_conservation"] = [_("Choose how the sample is kept.")]
    if errors:
        raise DomainInvalid(errors)
    sample = Sample.objects.create(
        application=application,
        number=sample_number(application, application.samples.count() + 1),
        analysis=analyses[analysis],
        laboratory=labs[laboratory],
        reason=reason,
        conservation=conservation,
        detained=True,
        taken_by=actor,
        taken_at=now,
        result_due_at=now + datetime.timedelta(days=analyses[analysis].result_due_days),
    )
    export_audit(
        actor=actor,
        action=AuditAction.EXPORT_SAMPLED,
        application=application,
        sample=sample.number,
        analysis=analysis,
        laboratory=laboratory,
        reason=reason,
        conservation=conservation,
        result_due_at=sample.result_due_at.isoformat(),
    )
    return sample


@atomic_service
def export_inspection_record(
    *, actor, application: ExportApplication, result: str, notes: str = "", sample: dict | None = None
) -> ExportCheck:
    """The inspection of the export consignment (`export_check_record`) and, when `sample` names one
    (`export_sample_take`'s arguments), the sample taken during it: both or neither."""
    check = export_check_record(
        actor=actor, application=application, kind=ExportCheck.Kind.INSPECTION, result=result, notes=notes
    )
    if sample:
        export_sample_take(actor=actor, application=application, **sample)
    return check


EXPORT_SAMPLES_PENDING = (Sample.Status.AWAITING, Sample.Status.LATE)


def export_results_awaited(application_id: int) -> bool:
    """The certificate waits for lab results: samples taken at a satisfactory inspection still await theirs. After
    an unsatisfactory one the certificate can only be refused, and the officer does not wait (a result that still
    comes is recorded, `lab_result_record`). One read."""
    return Sample.objects.filter(
        application_id=application_id,
        status__in=EXPORT_SAMPLES_PENDING,
        application__checks__kind=ExportCheck.Kind.INSPECTION,
        application__checks__result=ExportCheck.Result.SATISFACTORY,
    ).exists()
