"""Laboratory results: stored as received, then applied once."""

import datetime
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record, audit_record_about
from inspection.errors import DomainError, DomainInvalid, TransitionNotAllowed
from inspection.models import (
    Consignment,
    ConsignmentStatus,
    ExportStatus,
    IntensifiedControl,
    LabResult,
    LabResultSubmission,
    Notification,
    Sample,
)
from inspection.roles import Role, Step
from inspection.services.certificates import certificates_withdraw
from inspection.services.checks import _move_on
from inspection.services.files import field_file_store
from inspection.services.intensified import intensified_control_open
from inspection.services.notifications import notify
from inspection.services.permissions import require_role, require_step
from inspection.services.transitions import consignment_transition

CLOSED = {ConsignmentStatus.CANCELLED}
# A lab's post is stored before any rule runs: what is stored is bounded first. A real result is a few KB.
LAB_SUBMISSION_MAX_BYTES = 256 * 1024
LAB_MAX_ANALYTES = 200


class UnknownSample(DomainError):
    """No sample has that number."""


@atomic_service
def lab_submission_store(*, lab_user, payload: dict) -> LabResultSubmission:
    """Keep the lab's post exactly as received, before any rule runs: the evidence if a result is disputed."""
    require_role(lab_user, Role.LAB)
    lab_submission_check(payload)
    return LabResultSubmission.objects.create(lab_user=lab_user, payload=payload)


def lab_submission_check(payload: dict) -> None:
    """Refuse, before it is stored, a post larger than `LAB_SUBMISSION_MAX_BYTES` (as JSON, files apart), with
    more than `LAB_MAX_ANALYTES` analytes, or holding a NUL character (no field takes one, and PostgreSQL's
    jsonb cannot store it: the post would otherwise be a 500 there)."""
    analytes = payload.get("analytes")
    if isinstance(analytes, list) and len(analytes) > LAB_MAX_ANALYTES:
        raise DomainInvalid({"analytes": [_("At most %(n)s analytes per result.") % {"n": LAB_MAX_ANALYTES}]})
    size = len(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode())
    if size > LAB_SUBMISSION_MAX_BYTES:
        raise DomainInvalid({"": [lab_submission_too_large()]})
    if _holds_nul(payload):
        raise DomainInvalid({"": [_("The result holds a NUL character, which no field accepts.")]})


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


def lab_submission_too_large() -> str:
    return _("The result is too large: at most %(size)s KB, the report apart.") % {
        "size": LAB_SUBMISSION_MAX_BYTES // 1024
    }


@atomic_service
def lab_submissions_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the refused lab posts (those no result was applied from) received more than
    `PIF_LAB_SUBMISSION_RETENTION_DAYS` ago. A post a result was applied from is that result's evidence and is
    kept (its `LabResult` protects it); so is a post found to repeat a recorded result. Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PIF_LAB_SUBMISSION_RETENTION_DAYS)
    refused = (
        LabResultSubmission.objects.filter(received_at__lt=cutoff)
        .exclude(pk__in=LabResult.objects.values("submission_id"))
        .exclude(outcome__startswith="duplicate of result")
    )
    deleted, _by_model = refused.delete()
    return deleted


def lab_sample_for(*, sample_number: str, lab_user) -> Sample:
    """The sample, if it was sent to one of the laboratories this account posts for. Another lab's sample
    is as unknown as a number that does not exist: a lab learns nothing of other labs' work."""
    sample = (
        Sample.objects.select_related("consignment", "application")
        .filter(number=sample_number, laboratory__accounts=lab_user)
        .first()
    )
    if sample is None:
        raise UnknownSample(_("No sample has the number “%(number)s”.") % {"number": sample_number})
    return sample


@atomic_service
def lab_result_record(
    *, submission: LabResultSubmission, sample: Sample, conclusion: str, analytes: list, report=None
) -> tuple[LabResult, bool]:
    """Apply a lab result to its sample, once. The same result posted again changes nothing and returns
    `created=False`; a different result for a sample that already has one, or a result for a consignment
    that was cancelled, is refused. A result after its deadline is kept and flagged late. A result for a
    consignment already refused or closed is kept as evidence, and moves nothing. A result for an export
    application's sample is recorded on the application's trail (`export_may_issue` reads it); it moves nothing
    else."""
    sample = (
        Sample.objects.select_for_update(of=("self",), no_key=True)
        .select_related("consignment", "application")
        .get(pk=sample.pk)
    )
    existing = LabResult.objects.filter(sample=sample).first()
    if existing is not None:
        if existing.conclusion == conclusion and existing.analytes == analytes:
            submission.outcome = f"duplicate of result {existing.pk}"
            submission.save(update_fields=["outcome"])
            return existing, False
        raise TransitionNotAllowed(
            _("Sample %(number)s already has a result; a counter-analysis is a new sample.") % {"number": sample.number}
        )
    if sample.application_id is not None and sample.application.status == ExportStatus.CANCELLED:
        raise TransitionNotAllowed(
            _("The export application of sample %(number)s was cancelled; its result cannot be recorded.")
            % {"number": sample.number}
        )
    if sample.consignment_id is not None and sample.consignment.status in CLOSED:
        raise TransitionNotAllowed(
            _("The consignment of sample %(number)s was cancelled; its result cannot be recorded.")
            % {"number": sample.number}
        )
    now = timezone.now()
    result = LabResult(
        sample=sample,
        submission=submission,
        conclusion=conclusion,
        analytes=analytes,
        received_at=now,
        late=now > sample.result_due_at,
    )
    if report:  # removed again if the transaction rolls back
        field_file_store(result.report, report.name, report)
    result.save()
    sample.status = Sample.Status.RESULT
    sample.save(update_fields=["status"])
    submission.outcome = f"applied as result {result.pk}"
    submission.save(update_fields=["outcome"])
    data = {"sample": sample.number, "conclusion": conclusion, "analytes": analytes, "late": result.late}
    if sample.application_id is not None:  # the certificate's decision reads it (`export_may_issue`)
        audit_record_about(
            actor=submission.lab_user, action=AuditAction.LAB_RESULT_RECORDED, subject=sample.application, data=data
        )
        return result, True
    consignment = sample.consignment
    if consignment.status == ConsignmentStatus.AWAITING_LAB:
        _move_on(consignment=consignment, actor=submission.lab_user, action=AuditAction.LAB_RESULT_RECORDED, data=data)
    else:
        audit_record(
            actor=submission.lab_user, action=AuditAction.LAB_RESULT_RECORDED, consignment=consignment, data=data
        )
    if conclusion == LabResult.Conclusion.NOT_SATISFACTORY:
        intensified_control_open(
            consignment=consignment,
            cause=IntensifiedControl.Cause.LAB_RESULT,
            hazard=f"{sample.analysis.code} not satisfactory, {consignment.reference}",
            cn_codes=_analysed_lines(consignment, sample.analysis.cn_prefixes),
        )
    return result, True


def _analysed_lines(consignment: Consignment, cn_prefixes: str) -> list[str]:
    """The CN codes of the lines the analysis is meant for (all of them when it names no prefix, or none
    matches)."""
    cn_codes = [line.cn_code for line in consignment.lines.all()]
    prefixes = cn_prefixes.split()
    meant = [cn for cn in cn_codes if any(cn.startswith(p) for p in prefixes)]
    return meant or cn_codes


@atomic_service
def lab_result_late(*, sample: Sample) -> None:
    """A result not received by its due time: flagged, and escalated to the supervisors (by the flow)."""
    updated = Sample.objects.filter(pk=sample.pk, status=Sample.Status.AWAITING).update(status=Sample.Status.LATE)
    if updated:
        audit_record_about(
            actor=None,
            action=AuditAction.LAB_RESULT_LATE,
            subject=sample.consignment or sample.application,
            data={"sample": sample.number, "due": sample.result_due_at},
        )


@atomic_service
def consignment_recall(*, sample: Sample) -> None:
    """A sample of a consignment released pending its result came back not satisfactory (or not
    interpretable): the consignment is recalled for a new decision, its decision superseded, and the
    importer told at once (Regulation (EU) 2017/625, art. 66)."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=sample.consignment_id)
    consignment.decisions.filter(superseded=False).update(superseded=True)
    certificates_withdraw(consignment=consignment, reason=f"recall: sample {sample.number} {sample.result.conclusion}")
    consignment_transition(
        consignment=consignment,
        to=ConsignmentStatus.AWAITING_DECISION,
        actor=None,
        action=AuditAction.CONSIGNMENT_RECALLED,
        data={"sample": sample.number, "conclusion": sample.result.conclusion},
    )
    notify(consignment=consignment, kind=Notification.Kind.RECALLED)


@atomic_service
def sample_waive(*, actor, sample: Sample, reason: str) -> None:
    """A supervisor decides that a detained consignment will not wait any longer for a late result (the lab
    cannot answer, the goods are perishable...). The decision is then taken on the other evidence; a result
    that still arrives is recorded, and a bad one stops an acceptable decision or recalls the consignment. For an
    export application's sample, the certifying officer may then only refuse the certificate."""
    require_step(actor, Step.ESCALATION)
    if not reason.strip():
        raise DomainInvalid({"action_taken": [_("Say why the decision will not wait for this result.")]})
    updated = Sample.objects.filter(pk=sample.pk, status__in=[Sample.Status.AWAITING, Sample.Status.LATE]).update(
        status=Sample.Status.WAIVED
    )
    if not updated:
        raise TransitionNotAllowed(_("Sample %(number)s is no longer awaited.") % {"number": sample.number})
    data = {"sample": sample.number, "reason": reason}
    if sample.application_id is not None:  # the certificate may then only be refused (`export_may_issue`)
        audit_record_about(actor=actor, action=AuditAction.SAMPLE_WAIVED, subject=sample.application, data=data)
        return
    consignment = Consignment.objects.get(pk=sample.consignment_id)
    _move_on(consignment=consignment, actor=actor, action=AuditAction.SAMPLE_WAIVED, data=data)
