"""Intensified official controls after an unfavourable result (Regulation (EU) 2017/625, art. 65; Implementing
Regulation (EU) 2019/1873, arts 3-8): opened by a laboratory result that is not satisfactory or a refusal for a
health reason, applied by `inspection.risk.check_rates` (identity and physical checks on every consignment
covered), ended by a number of consecutive favourable results. System steps: no actor, audited. See
docs/regulation.md, section 2."""

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, TransitionNotAllowed
from inspection.models import (
    CheckPlan,
    Consignment,
    IntensifiedControl,
    IntensifiedControlResult,
    LabResult,
    Sample,
)
from inspection.risk import intensified_controls
from inspection.roles import Role
from inspection.services.permissions import require_role

# 2019/1873 governs products of animal origin (CHED-P); art. 65 of 2017/625 governs every official control, and
# live animals (CHED-A) are refused on the same health grounds. CHED-D goods have their own increased frequency
# per origin x CN x hazard (2019/1793, revised by the Commission), and CHED-PP entries into Martinique follow
# the national rules (docs/regulation.md, sections 3 and 4): no automatic intensified controls for them.
INTENSIFIED_CHED_TYPES = frozenset({"CHED-P", "CHED-A"})

# Refusal reasons (IPAFFS codes) that say the goods or animals themselves failed a health check. A refusal on
# other grounds (documents, approvals, identification) opens nothing (2019/1873: a consignment refused on other
# grounds may be left out of the count).
HEALTH_REFUSAL_REASONS = frozenset(
    {
        "ChemicalContamination",
        "MicrobiologicalContamination",
        "PhysicalHygieneFailure",
        "DiseasedOrSuspectAnimals",
        "NonSatisfactoryTests",
    }
)


def _key(consignment: Consignment, cn_code: str) -> dict:
    return {
        "ched_type_id": consignment.ched_type_id,
        "country": consignment.country_of_origin.code,
        "cn_prefix": cn_code,
        "consignor_name": consignment.consignor_name.strip(),
    }


@atomic_service
def intensified_control_open(
    *, consignment: Consignment, cause: str, hazard: str, cn_codes: list[str] | None = None
) -> list[IntensifiedControl]:
    """Open intensified controls on the consignment's origin x commodity (each CN code of `cn_codes`, or of its
    lines) x consignor after an unfavourable result (`cause`, an `IntensifiedControl.Cause`; `hazard`: what
    failed): identity and physical checks at 100 % on every later consignment they cover, until
    `FAVOURABLE_RESULTS_NEEDED` consecutive favourable results (Regulation (EU) 2017/625, art. 65; Implementing
    Regulation (EU) 2019/1873, arts 3-6). CHED-P and CHED-A only (`INTENSIFIED_CHED_TYPES`).

    Idempotent: one open control per CHED type x origin x CN code x consignor. An unfavourable result on a
    consignment that an open control covers sets its count of consecutive favourable results back to 0
    (audited `intensified_control.reset`), once per consignment. Returns the controls opened or reset."""
    consignment = Consignment.objects.select_related("ched_type").get(pk=consignment.pk)
    if consignment.ched_type.code not in INTENSIFIED_CHED_TYPES or not consignment.country_of_origin:
        return []
    if cn_codes is None:
        cn_codes = [line.cn_code for line in consignment.lines.all()]
    now = timezone.now()
    touched = []
    for cn_code in sorted({cn for cn in cn_codes if cn}):
        key = _key(consignment, cn_code)
        consignor = key.pop("consignor_name")
        control = (
            IntensifiedControl.objects.select_for_update(no_key=True)
            .filter(**key, consignor_name__iexact=consignor, ended_at__isnull=True)
            .first()
        )
        if control is None:
            control = IntensifiedControl.objects.create(
                **_key(consignment, cn_code),
                cause=cause,
                hazard=hazard[:200],
                cause_consignment=consignment,
                opened_at=now,
            )
            _audit(AuditAction.INTENSIFIED_CONTROL_OPENED, control, consignment, cause=cause)
            touched.append(control)
        elif control.cause_consignment_id != consignment.pk and _counted(control, consignment, favourable=False):
            control.favourable_seen = 0
            control.save(update_fields=["favourable_seen"])
            _audit(AuditAction.INTENSIFIED_CONTROL_RESET, control, consignment, cause=cause, hazard=hazard)
            touched.append(control)
    return touched


def _counted(control: IntensifiedControl, consignment: Consignment, *, favourable: bool) -> bool:
    """Record the consignment's result under the control; False when it was already recorded (an unfavourable
    result replaces a favourable one: a recall after acceptance)."""
    row, created = IntensifiedControlResult.objects.get_or_create(
        control=control,
        consignment=consignment,
        defaults={"favourable": favourable, "recorded_at": timezone.now()},
    )
    if created:
        return True
    if row.favourable and not favourable:
        row.favourable, row.recorded_at = False, timezone.now()
        row.save(update_fields=["favourable", "recorded_at"])
        return True
    return False


def _audit(action: AuditAction, control: IntensifiedControl, consignment: Consignment, *, actor=None, **data) -> None:
    audit_record(
        actor=actor,
        action=action,
        consignment=consignment,
        data={
            "control": control.pk,
            "ched_type": consignment.ched_type.code,
            "country": control.country,
            "cn_prefix": control.cn_prefix,
            "consignor": control.consignor_name,
            "rates": [control.identity_rate, control.physical_rate],
            "favourable_seen": control.favourable_seen,
            "favourable_needed": control.favourable_needed,
            "legal_reference": control.legal_reference,
            **data,
        },
    )


@atomic_service
def intensified_control_count(*, consignment: Consignment) -> list[IntensifiedControl]:
    """Count an acceptable decision as one favourable result for each open intensified control that covered the
    consignment when its checks were planned (so it had every check), when every sample it had came back
    satisfactory: the decision rests on all the checks and results (2017/625 art. 55), and a satisfactory
    decision is what 2019/1873 counts. A sample without its result (released pending, waived) leaves the
    consignment uncounted. At `favourable_needed` the control ends (audited `intensified_control.ended`). Once
    per consignment and control. Returns the controls counted."""
    controls = [c for c in intensified_controls(consignment) if c.cause_consignment_id != consignment.pk]
    if not controls:  # the usual case: one query
        return []
    plan = CheckPlan.objects.filter(consignment=consignment).only("planned_at").first()
    lines = [line.cn_code for line in consignment.lines.all()]
    controls = [
        control
        for control in controls
        if plan is not None
        and control.opened_at <= plan.planned_at
        and any(cn.startswith(control.cn_prefix) for cn in lines)
    ]
    if not controls:
        return []
    unsure = Sample.objects.filter(consignment=consignment).exclude(
        status=Sample.Status.RESULT, result__conclusion=LabResult.Conclusion.SATISFACTORY
    )
    if unsure.exists():
        return []
    counted = []
    now = timezone.now()
    for control in IntensifiedControl.objects.select_for_update(no_key=True).filter(
        pk__in=[c.pk for c in controls], ended_at__isnull=True
    ):
        if not _counted(control, consignment, favourable=True):
            continue
        control.favourable_seen += 1
        ended = control.favourable_seen >= control.favourable_needed
        if ended:
            control.ended_at = now
        control.save(update_fields=["favourable_seen", "ended_at"])
        _audit(AuditAction.INTENSIFIED_CONTROL_COUNTED, control, consignment)
        if ended:
            _audit(AuditAction.INTENSIFIED_CONTROL_ENDED, control, consignment)
        counted.append(control)
    return counted


@atomic_service
def intensified_control_withdraw(*, actor, control: IntensifiedControl, reason: str) -> IntensifiedControl:
    """A supervisor ends an open intensified control before its count of favourable results is reached (the
    competent authority orders intensified controls and so may end them: Regulation (EU) 2017/625, art. 65;
    Implementing Regulation (EU) 2019/1873, where the Commission or the authority lifts them on its own
    findings). The reason is required and audited (`intensified_control.withdrawn`, on the consignment that
    opened the control); the rates fall back to the ordinary ones for the next check plan."""
    require_role(actor, Role.SUPERVISOR)
    reason = reason.strip()
    if not reason:
        raise DomainInvalid({"reason": [_("Say why the intensified controls are withdrawn.")]})
    control = (
        IntensifiedControl.objects.select_for_update(no_key=True)
        .select_related("ched_type", "cause_consignment__ched_type")
        .get(pk=control.pk)
    )
    if control.ended_at is not None:
        raise TransitionNotAllowed(_("These intensified controls have already ended."))
    control.ended_at = timezone.now()
    control.withdrawn_by = actor
    control.withdrawal_reason = reason
    control.save(update_fields=["ended_at", "withdrawn_by", "withdrawal_reason"])
    _audit(AuditAction.INTENSIFIED_CONTROL_WITHDRAWN, control, control.cause_consignment, actor=actor, reason=reason)
    return control
