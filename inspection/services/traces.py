"""The exchange with TRACES NT: in the transaction of each event TRACES must know (a CHED submitted, its Part I
amended or its arrival moved, a decision taken, a decision revoked by a recall, a CHED replaced or split), a
`TracesExchange` carrying the CHED's SPS XML as it then stood; after commit a Celery task sends it through the
transport `PIF_TRACES_TRANSPORT` names (`inspection.traces`), and records the CHED number TRACES NT answers as the
CHED's TRACES NT number (under the staff's rules, `_traces_reference_record`) when it has none: a number staff
recorded meanwhile stays. The rows are the outbox of `services/deliveries.py`: claimed, retried with backoff,
swept by beat, given up to a supervisor. A national entry (NAT-PP) is never exchanged."""

import logging

from django.db import transaction

from inspection.errors import DomainInvalid
from inspection.models import Consignment, TracesEvent, TracesExchange
from inspection.outbox import task_send_on_commit
from inspection.services.customs import _traces_reference_record
from inspection.services.deliveries import delivery_claim, delivery_failed, delivery_sent
from inspection.traces import TracesMessage, traces_transport

logger = logging.getLogger(__name__)

# The operators' events (`NotificationKind`) TRACES NT hears of through `notify_all`.
TRACES_EVENTS = {"submitted": TracesEvent.SUBMITTED, "decided": TracesEvent.DECIDED, "recalled": TracesEvent.REVOKED}


def traces_exchange_queue(*, consignment: Consignment, kinds: list[str]) -> list[TracesExchange]:
    """In the transaction of the change: an exchange for each of `kinds` (`TracesEvent` values, or the
    notification kinds of `TRACES_EVENTS`) TRACES must hear of, with the CHED's SPS XML; sent after commit."""
    from django.conf import settings

    from inspection.selectors import consignment_sps_xml
    from inspection.tasks import traces_exchange_send

    events = [TRACES_EVENTS.get(kind, kind) for kind in kinds if kind in TRACES_EVENTS or kind in TracesEvent.values]
    if not events or not settings.PIF_TRACES_TRANSPORT or not consignment.ched_type.is_ched:
        return []
    xml = consignment_sps_xml(consignment).decode()
    exchanges = TracesExchange.objects.bulk_create(
        TracesExchange(consignment=consignment, kind=event, xml=xml) for event in events
    )
    for exchange in exchanges:
        task_send_on_commit(traces_exchange_send, exchange.pk)
    return exchanges


def traces_split_queue(*, consignment: Consignment, parts: list[Consignment]) -> list[TracesExchange]:
    """In the transaction of a split: the split CHED's `split` (its XML reads "split") and each part's
    `submitted` (a part is a CHED of its own that TRACES NT has not heard of: no `notify` submits it)."""
    exchanges = traces_exchange_queue(consignment=consignment, kinds=[TracesEvent.SPLIT])
    for part in parts:
        exchanges += traces_exchange_queue(consignment=part, kinds=[TracesEvent.SUBMITTED])
    return exchanges


def traces_exchange_deliver(*, exchange_id: int) -> bool:
    """Send one exchange: claim it (`delivery_claim`), send it through the transport, mark it sent and record
    the CHED number TRACES NT answered; or record the failure and when to try again. False when there was
    nothing to send."""
    if not delivery_claim(TracesExchange, exchange_id):
        return False
    exchange = TracesExchange.objects.select_related("consignment__ched_type").get(pk=exchange_id)
    consignment = exchange.consignment
    try:
        transport = traces_transport()
        if transport is None:  # the exchange was turned off meanwhile: nothing to send, nothing to retry
            delivery_sent(TracesExchange, exchange_id)
            return False
        receipt = transport.send(
            TracesMessage(
                exchange_id=exchange.pk,
                kind=exchange.kind,
                local_reference=consignment.reference,
                ched_type=consignment.ched_type.code,
                traces_reference=consignment.traces_reference,
                xml=exchange.xml.encode(),
            )
        )
    except Exception as exc:
        delivery_failed(TracesExchange, exchange_id, exc)
        raise
    with transaction.atomic():
        delivery_sent(TracesExchange, exchange_id)
        TracesExchange.objects.filter(pk=exchange_id).update(traces_reference=receipt.traces_reference[:30])
        if receipt.traces_reference:
            _answer_record(exchange_id=exchange_id, consignment_id=consignment.pk, answered=receipt.traces_reference)
    return True


def _answer_record(*, exchange_id: int, consignment_id: int, answered: str) -> None:
    """TRACES NT's answer fills the CHED's TRACES NT number when it has none, re-read under lock: staff may have
    recorded one while the message travelled, and theirs stays. A conflict, or an answer the staff's rules
    refuse, is kept on the exchange (`last_error`) for staff to decide; the message was sent all the same."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment_id)
    recorded = consignment.traces_reference
    if recorded == answered.strip().upper():
        return
    if recorded:
        error = f"TRACES NT answered {answered}, but the CHED already has {recorded} (recorded by staff): kept."
    else:
        try:
            with transaction.atomic():
                _traces_reference_record(actor=None, consignment=consignment, traces_reference=answered)
            return
        except DomainInvalid as exc:
            error = str(exc.errors)
    logger.warning("TRACES NT answered %s for %s: %s", answered, consignment, error)
    TracesExchange.objects.filter(pk=exchange_id).update(last_error=error[:2000])
