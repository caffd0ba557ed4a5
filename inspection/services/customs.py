"""The customs link: the customs data of Part I (status, procedure, MRN), the rule that ties the procedure to
the BCP's decision, the customs system's read of a CHED's decision and its webhook. The local counterpart of
the EU Single Window's CHED exchange (Regulation (EU) 2022/2399; docs/api.md "Customs")."""

import re
import secrets

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotFound
from inspection.models import Consignment, ConsignmentStatus, CustomsProcedure, CustomsSubscription, WebhookDelivery
from inspection.outbox import task_send_on_commit
from inspection.roles import Role
from inspection.services.part_one_rules import LETTER_VALUES
from inspection.services.permissions import require_role

# Union Customs Code, Delegated Regulation (EU) 2015/2446, Annex B, data element 12 09 000 000 (MRN): an18,
# the last two digits of the year, the ISO 3166 alpha-2 code of the country of lodging, a unique identifier of
# 13 characters (the 12 of the country's own and the procedure's letter), and a check character (ISO 6346's
# algorithm, DG TAXUD's "Check character algorithm for the MRN and GRN"). docs/regulation.md, "Customs".
MRN = re.compile(r"^\d{2}[A-Z]{2}[A-Z0-9]{13}[A-Z0-9]$")
P = CustomsProcedure
# The procedures a decision lets customs open, by decision code (docs/regulation.md, "Customs"): goods released
# for free circulation must be accepted for the internal market (Regulation (EU) 2017/625, art. 57(2)); goods
# accepted for transit, transhipment or a specific warehouse stay under customs supervision (Delegated
# Regulation (EU) 2019/2124); temporary admission is its own decision. A refusal opens nothing but the
# re-dispatch (transit out) or, for destruction, a customs warehouse while it is arranged.
PROCEDURES_BY_DECISION = {
    "acceptable_for_internal_market": {
        P.FREE_CIRCULATION,
        P.CUSTOMS_WAREHOUSE,
        P.FREE_ZONE,
        P.INWARD_PROCESSING,
        P.OUTWARD_PROCESSING,
    },
    "acceptable_for_transit": {P.TRANSIT},
    "acceptable_for_transhipment": {P.TRANSIT, P.CUSTOMS_WAREHOUSE, P.FREE_ZONE},
    "acceptable_for_specific_warehouse": {P.CUSTOMS_WAREHOUSE, P.FREE_ZONE},
    "acceptable_for_temporary_admission": {P.TEMPORARY_ADMISSION},
    "acceptable_if_channelled": {P.FREE_CIRCULATION, P.INWARD_PROCESSING, P.CUSTOMS_WAREHOUSE},
    "non_acceptable": {P.TRANSIT, P.CUSTOMS_WAREHOUSE},
}
# What the customs system is told of (`NotificationKind` values): a decision taken, a decision revoked (a recall).
CUSTOMS_EVENTS = {"decided": "decision.taken", "recalled": "decision.revoked"}


def mrn_check_character(first17: str) -> str:
    """The MRN's 18th character: each character's value (digits their own, letters ISO 6346's), times 2 to the
    power of its position, summed, modulo 11; a remainder of 10 is 0."""
    total = sum((LETTER_VALUES[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(first17))
    return str(total % 11 % 10)


def mrn_errors(value: str) -> list[str]:
    if not MRN.match(value):
        return [
            _(
                "“%(mrn)s” is not an MRN: 18 characters, the year's last two digits, the country's two letters, "
                "13 letters or digits and a check character (e.g. 26FR00000000012349)."
            )
            % {"mrn": value}
        ]
    if mrn_check_character(value[:17]) != value[17]:
        return [_("The check character of MRN %(mrn)s is wrong: please check the number.") % {"mrn": value}]
    return []


def customs_conflict(*, decision_code: str | None, procedure: str) -> str:
    """Why the declared customs procedure does not fit the BCP's decision, or "" when it does (or there is
    no decision, or no procedure declared yet)."""
    if not decision_code or not procedure or decision_code not in PROCEDURES_BY_DECISION:
        return ""
    allowed = PROCEDURES_BY_DECISION[decision_code]
    if procedure in allowed:
        return ""
    return _("The decision “%(decision)s” does not allow the procedure “%(procedure)s”; it allows: %(allowed)s.") % {
        "decision": decision_code,
        "procedure": P(procedure).label,
        "allowed": ", ".join(str(p.label) for p in P if p in allowed),
    }


# The CHEDs customs may look up: submitted ones (a draft is the importer's alone).
LOOKED_UP = ~Q(status__in=[ConsignmentStatus.DRAFT, ConsignmentStatus.CANCELLED])


def customs_ched_find(*, actor, number: str = "", mrn: str = "") -> Consignment:
    """The CHED customs asks for, by our CHED number, its TRACES NT number, or the MRN of its customs declaration.
    Customs role only; a draft or an unknown number is a 404 (as any CHED nobody declared to customs)."""
    require_role(actor, Role.CUSTOMS)
    number, mrn = (number or "").strip(), (mrn or "").strip().upper()
    if bool(number) == bool(mrn):
        raise DomainInvalid({"": [_("Give either a CHED number (`number`) or an MRN (`mrn`).")]})
    if mrn:
        errors = mrn_errors(mrn)
        if errors:
            raise DomainInvalid({"mrn": errors})
        found = Consignment.objects.filter(LOOKED_UP, customs_mrn=mrn)
    else:
        found = Consignment.objects.filter(LOOKED_UP, Q(reference=number) | Q(traces_reference=number.upper()))
    consignment = found.select_related("ched_type", "bcp").order_by("-id").first()
    if consignment is None:
        raise NotFound(_("No submitted CHED answers to this number."))
    return consignment


def customs_payload(consignment: Consignment, decision) -> dict:
    """What customs reads of a CHED: its numbers, status, customs data and the decision in force. Nothing
    else of the importer's declaration (parties, goods, documents)."""
    code = decision.code.code if decision is not None else None
    return {
        "ched": consignment.reference,
        "traces_reference": consignment.traces_reference,
        "ched_type": consignment.ched_type.code,
        "bcp": consignment.bcp.code if consignment.bcp else "",
        "status": consignment.status,
        "customs_status": consignment.customs_status,
        "customs_procedure": consignment.customs_procedure,
        "mrn": consignment.customs_mrn,
        "decision": None
        if decision is None
        else {
            "code": code,
            "label": str(decision.code.name),
            "acceptable": decision.code.acceptable,
            "in_force": not decision.superseded,
            "decided_at": decision.decided_at.isoformat(),
            "countersigned": decision.countersigned_at is not None,
        },
        "consistent": not customs_conflict(decision_code=code, procedure=consignment.customs_procedure),
        "conflict": customs_conflict(decision_code=code, procedure=consignment.customs_procedure),
    }


def customs_notify(*, consignment: Consignment, kinds: list[str]) -> list[WebhookDelivery]:
    """In the transaction of the change: a webhook delivery to each customs subscription for each event of
    `kinds` customs hears of (`CUSTOMS_EVENTS`), sent after commit by the same outbox as the operators'."""
    from inspection.selectors import decision_in_force
    from inspection.tasks import webhook_send

    events = [CUSTOMS_EVENTS[kind] for kind in kinds if kind in CUSTOMS_EVENTS]
    subscriptions = list(CustomsSubscription.objects.filter(user__is_active=True)) if events else []
    if not subscriptions:
        return []
    decision = decision_in_force(consignment)
    body = customs_payload(consignment, decision)
    url = settings.SITE_URL + reverse("customs-ched-list") + f"?number={consignment.reference}"
    now = timezone.now().isoformat()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=subscription,
            consignment=consignment,
            kind=kind,
            payload={"event": CUSTOMS_EVENTS[kind], "occurred_at": now, "url": url, **body},
        )
        for kind in kinds
        if kind in CUSTOMS_EVENTS
        for subscription in subscriptions
    )
    for delivery in deliveries:
        task_send_on_commit(webhook_send, delivery.pk)
    return deliveries


@atomic_service
def customs_webhook_configure(*, actor, url: str) -> tuple[CustomsSubscription | None, str]:
    """The customs system sets (or, with an empty URL, removes) its webhook. HTTPS only, unless
    `PIF_WEBHOOK_ALLOW_HTTP`. Each call makes a new secret, returned this once. Audited."""
    require_role(actor, Role.CUSTOMS)
    url = (url or "").strip()
    if url and not (url.startswith("https://") or (settings.PIF_WEBHOOK_ALLOW_HTTP and url.startswith("http://"))):
        raise DomainInvalid({"url": [_("The webhook URL must start with https://.")]})
    audit_record(actor=actor, action=AuditAction.CUSTOMS_WEBHOOK_CONFIGURED, data={"url": url})
    if not url:
        CustomsSubscription.objects.filter(user=actor).delete()
        return None, ""
    secret = secrets.token_hex(32)
    subscription, _created = CustomsSubscription.objects.update_or_create(
        user=actor, defaults={"url": url, "secret": secret}
    )
    return subscription, secret


# TRACES NT's CHED numbers: `CHEDPP.FR.2026.0000123`, in a member state's series (docs/regulation.md, section 11).
TRACES_REFERENCE = re.compile(r"^CHED(A|P|PP|D)\.([A-Z]{2})\.(\d{4})\.(\d{7})$")


@atomic_service
def consignment_traces_reference_set(*, actor, consignment: Consignment, traces_reference: str) -> Consignment:
    """Staff record TRACES NT's number of the CHED, once TRACES has given it (or correct it, or clear it with
    ""). It must be a TRACES number (a member state's series, not ours) of the same CHED type, and no other CHED
    may have it. Audited with the old and the new number."""
    require_role(actor, Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR)
    return _traces_reference_record(actor=actor, consignment=consignment, traces_reference=traces_reference)


def _traces_reference_record(*, actor, consignment: Consignment, traces_reference: str) -> Consignment:
    """`consignment_traces_reference_set`'s rules and record, private to the services: for the staff (whose role
    their service checked) and for the TRACES exchange (`actor` None: the number TRACES NT answered, which
    `services/traces.py` records only on a CHED that has none). Call it inside a transaction."""
    locked = Consignment.objects.select_for_update(no_key=True).select_related("ched_type").get(pk=consignment.pk)
    value = (traces_reference or "").strip().upper()
    if value:
        match = TRACES_REFERENCE.match(value)
        if match is None or match.group(2) == settings.PIF_REFERENCE_SERIES:
            raise DomainInvalid(
                {
                    "traces_reference": [
                        _("“%(number)s” is not a TRACES NT CHED number (e.g. CHEDPP.FR.2026.0000123).")
                        % {"number": value}
                    ]
                }
            )
        if f"CHED{match.group(1)}" != locked.ched_type.reference_prefix:
            raise DomainInvalid(
                {
                    "traces_reference": [
                        _("This CHED is a %(type)s: its TRACES number starts with %(prefix)s.")
                        % {"type": locked.ched_type.code, "prefix": locked.ched_type.reference_prefix}
                    ]
                }
            )
        if Consignment.objects.filter(traces_reference=value).exclude(pk=locked.pk).exists():
            raise DomainInvalid({"traces_reference": [_("Another CHED already has this TRACES NT number.")]})
    previous = locked.traces_reference
    if value == previous:
        return locked
    locked.traces_reference = value
    locked.save(update_fields=["traces_reference", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.TRACES_REFERENCE_RECORDED,
        consignment=locked,
        data={"traces_reference": value, "previous": previous},
    )
    return locked
