"""Part II checks: which identity and physical checks a consignment gets, and their results."""

import dataclasses

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, TransitionNotAllowed
from inspection.models import (
    CheckPlan,
    CheckResult,
    CheckStep,
    Consignment,
    DocumentaryCheck,
    DocumentVerdict,
    IdentityCheck,
    NotificationKind,
)
from inspection.risk import check_selection
from inspection.roles import Step
from inspection.services.notifications import notify
from inspection.services.permissions import require_step
from inspection.services.photos import check_photos_saved, photos_audit, photos_clean
from inspection.services.progress import consignment_awaits
from inspection.services.transitions import consignment_transition

RULE_MAX_LENGTH = CheckPlan._meta.get_field("rule").max_length


@atomic_service
def check_plan_record(*, consignment: Consignment) -> CheckPlan:
    """Select the consignment's identity and physical checks by risk and store the plan: the rule, the rates and
    the draws, so that the selection can be re-run (Implementing Regulations (EU) 2019/2129, 2019/2130 and
    2019/1793). The rates are those in force on the day of expected arrival. A system step, audited as
    `checks.planned`.

    Idempotent: a consignment that already has a plan keeps it, and nothing more is recorded.
    """
    # The row lock makes a second, concurrent run wait here and then find the first one's plan.
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    existing = CheckPlan.objects.filter(consignment=consignment).first()
    if existing is not None:
        return existing
    on = timezone.localdate(consignment.expected_arrival or timezone.now())
    selection = check_selection(consignment, on=on)
    rule = selection.rule
    if len(rule) > RULE_MAX_LENGTH:
        rule = rule[: RULE_MAX_LENGTH - 1] + "…"  # the audit event keeps it whole
    plan = CheckPlan.objects.create(
        consignment=consignment,
        **{**dataclasses.asdict(selection), "rule": rule},
        planned_at=timezone.now(),
    )
    audit_record(
        actor=None,
        action=AuditAction.CHECKS_PLANNED,
        consignment=consignment,
        data={**dataclasses.asdict(selection), "rates_on": on},
    )
    if plan.physical_selected:  # the importer must present the goods
        notify(consignment=consignment, kind=NotificationKind.PHYSICAL_CHECK_SELECTED)
    return plan


def _move_on(*, consignment: Consignment, actor, action: str, data: dict, known: dict | None = None) -> None:
    """Move the consignment to what it now waits for, or just record the step when that is unchanged.
    `known`: the records the step has just read or written (see `consignment_awaits`)."""
    target = consignment_awaits(consignment, known=known)
    if target == consignment.status:
        audit_record(actor=actor, action=action, consignment=consignment, data=data)
    else:
        consignment_transition(consignment=consignment, to=target, actor=actor, action=action, data=data)


def _first_records(check: DocumentaryCheck, documents) -> dict | None:
    """What a documentary check knows of the consignment's records: itself, the plan read with the
    documents, and no identity or physical check yet (they come after it). None without a document to
    have read the plan through."""
    document = next(iter(documents), None)
    if document is None:
        return None
    plan = getattr(document.consignment, "check_plan", None)  # read with the documents (a missing one: None)
    return {"documentary_check": check, "check_plan": plan, "identity_check": None, "physical_check": None}


def _with_photos(data: dict, rows) -> dict:
    """The check's audit data, listing its photos when it has any (older events have no `photos` key)."""
    return {**data, "photos": photos_audit(rows)} if rows else data


def _require_arrival(consignment: Consignment) -> None:
    """Identity and physical checks are made on the goods, "upon arrival" at the BCP (Regulation (EU)
    2017/625 art. 49(1)): the post records the arrival first (`consignment_arrival_record`). The documentary
    check may start on the pre-notified Part I, as the post's practice (docs/regulation.md, Assumptions)."""
    if consignment.arrived_at is None:
        raise TransitionNotAllowed(_("The goods have not arrived at the post: record their arrival first."))


def _require_reason(result: str, reason: str) -> None:
    if result != CheckResult.SATISFACTORY and not reason.strip():
        raise DomainInvalid({"reason": [_("Give the reason for a result that is not satisfactory.")]})


@atomic_service
def documentary_check_record(
    *,
    actor,
    consignment: Consignment,
    verdicts: dict[int, tuple[bool, bool]],
    result: str,
    reason: str = "",
    photos=(),
) -> DocumentaryCheck:
    """The documentary check of every consignment (Regulation (EU) 2017/625, art. 49(1)): each accompanying
    document present and valid, and an overall result. A missing or invalid document cannot give a
    satisfactory result. `verdicts` maps a document id to (present, valid). `photos`: uploaded files kept as
    evidence (see `inspection.services.photos`)."""
    require_step(actor, Step.DOCUMENTARY_CHECK)
    # the documents, and with them the check plan that says where the consignment goes next: one query
    documents = {d.pk: d for d in consignment.documents.select_related("document_type", "consignment__check_plan")}
    if set(verdicts) != set(documents):
        raise DomainInvalid({"verdicts": [_("Give a verdict on every accompanying document.")]})
    if result == CheckResult.SATISFACTORY and not all(p and v for p, v in verdicts.values()):
        raise DomainInvalid(
            {"result": [_("A missing or invalid document cannot give a satisfactory documentary check.")]}
        )
    _require_reason(result, reason)
    clean_photos = photos_clean(photos)
    check = DocumentaryCheck.objects.create(
        consignment=consignment, result=result, reason=reason, inspector=actor, recorded_at=timezone.now()
    )
    DocumentVerdict.objects.bulk_create(
        DocumentVerdict(check_record=check, document=documents[pk], present=present, valid=valid)
        for pk, (present, valid) in verdicts.items()
    )
    data = {
        "result": result,
        "reason": reason,
        "documents": [
            {"type": documents[pk].document_type.code, "reference": documents[pk].reference, "present": p, "valid": v}
            for pk, (p, v) in verdicts.items()
        ],
    }
    with check_photos_saved(
        actor=actor, consignment=consignment, step=CheckStep.DOCUMENTARY, photos=clean_photos
    ) as rows:
        _move_on(
            consignment=consignment,
            actor=actor,
            action=AuditAction.DOCUMENTARY_CHECK_RECORDED,
            data=_with_photos(data, rows),
            known=_first_records(check, documents.values()),
        )
    return check


@atomic_service
def identity_check_record(
    *,
    actor,
    consignment: Consignment,
    seals_as_declared: bool,
    goods_as_declared: bool,
    result: str,
    reason: str = "",
    photos=(),
) -> IdentityCheck:
    """The identity check (art. 49(2)(a)): seals and goods match the documents. A mismatch cannot be
    satisfactory. `photos`: uploaded files kept as evidence (see `inspection.services.photos`)."""
    require_step(actor, Step.IDENTITY_CHECK)
    _require_arrival(consignment)
    if result == CheckResult.SATISFACTORY and not (seals_as_declared and goods_as_declared):
        raise DomainInvalid({"result": [_("Seals or goods that differ from Part I cannot be satisfactory.")]})
    _require_reason(result, reason)
    clean_photos = photos_clean(photos)
    check = IdentityCheck.objects.create(
        consignment=consignment,
        seals_as_declared=seals_as_declared,
        goods_as_declared=goods_as_declared,
        result=result,
        reason=reason,
        inspector=actor,
        recorded_at=timezone.now(),
    )
    data = {
        "result": result,
        "reason": reason,
        "seals_as_declared": seals_as_declared,
        "goods_as_declared": goods_as_declared,
    }
    with check_photos_saved(actor=actor, consignment=consignment, step=CheckStep.IDENTITY, photos=clean_photos) as rows:
        _move_on(
            consignment=consignment,
            actor=actor,
            action=AuditAction.IDENTITY_CHECK_RECORDED,
            data=_with_photos(data, rows),
        )
    return check
