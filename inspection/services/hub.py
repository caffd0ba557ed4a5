"""Delivery of phytosanitary certificates through the IPPC ePhyto hub (ISPM 12; the hub's web service,
`inspection.exchange.hub`): an envelope per certificate issued, replaced or withdrawn, written as an outbox row
(`HubDelivery`) in the transaction of that change, sent after commit by a Celery task, swept again by beat and
given up as an incident like an email or a webhook post (`inspection.services.deliveries`); then beat polls the
hub until the importing country acknowledges it or it fails. docs/decisions/0015-ippc-hub-delivery.md."""

from datetime import timedelta

import requests
from django.conf import settings
from django.db.models import F, Prefetch
from django.utils import timezone
from lxml import etree

from inspection.certificates.sps import RAM
from inspection.certificates.sps import RSM as SPS
from inspection.exchange import hub
from inspection.models import HubDelivery, HubStatus, PhytosanitaryCertificate
from inspection.outbox import task_send_on_commit
from inspection.services.deliveries import delivery_claim, delivery_failed

# How long beat keeps asking after an envelope the importing country has not answered
POLL_DAYS = 30
# The hub's tracking info, as our status
TRACKING_STATUS = {
    hub.PENDING: HubStatus.DELIVERED,
    hub.DELIVERED: HubStatus.ACKNOWLEDGED,
    hub.WITH_WARNINGS: HubStatus.ACKNOWLEDGED,
    hub.FAILED: HubStatus.FAILED,
    hub.NOT_READABLE: HubStatus.FAILED,
    hub.NOT_EXISTS: HubStatus.FAILED,
}


def hub_enabled() -> bool:
    """Deliveries are owed once a hub is configured: the real one (`PIF_IPPC_HUB_URL`) or the local double."""
    return bool(settings.PIF_IPPC_HUB_URL or settings.PIF_IPPC_HUB_DOUBLE)


def _content(certificate: PhytosanitaryCertificate, status_code: int) -> str:
    """The certificate's ePhyto XML as issued, with the status of this event (issued, replaced, withdrawn)."""
    with certificate.ephyto.open("rb") as file:
        raw = file.read()
    if status_code == hub.STATUS_CODES["issued"]:
        return raw.decode()  # byte for byte what was issued (its SHA-256 is in the audit trail)
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))  # our own file
    status = root.find(f"{{{SPS}}}SPSExchangedDocument/{{{RAM}}}StatusCode")
    status.text = str(status_code)
    return etree.tostring(root, encoding="unicode")


def hub_delivery_enqueue(*, certificate: PhytosanitaryCertificate, kind: str) -> HubDelivery | None:
    """In the transaction of `phyto_certificate_issue`, `_replace` or `_withdraw`: the envelope that tells the
    importing country's NPPO, sent after commit. `kind`: issued, replaced (the old certificate, with the
    replaced status; its replacement goes as issued) or withdrawn. Nothing when no hub is configured."""
    if not hub_enabled():
        return None
    from inspection.tasks import hub_delivery_send

    status_code = hub.STATUS_CODES[kind]
    delivery = HubDelivery.objects.create(
        certificate=certificate,
        kind=kind,
        from_country=settings.PIF_IPPC_HUB_NPPO,
        to_country=str(certificate.application.destination_country),
        certificate_type=hub.TYPE_CODES[certificate.kind],
        certificate_status=status_code,
        content=_content(certificate, status_code),
    )
    task_send_on_commit(hub_delivery_send, delivery.pk)
    return delivery


def hub_delivery_deliver(*, delivery_id: int, session: requests.Session | None = None) -> bool:
    """Send one envelope (`DeliverEnvelope`): claim it (`delivery_claim`), send, and record the hub's delivery
    number; a failure to reach the hub is retried with backoff by beat's sweeper, a refusal by the hub (a
    fault: the same envelope would be refused again) is given up at once, an incident for the supervisors.
    Returns False when there was nothing to send or the hub refused it."""
    if not delivery_claim(HubDelivery, delivery_id):
        return False
    row = HubDelivery.objects.get(pk=delivery_id)
    try:
        header = hub.hub_deliver(
            from_country=row.from_country,
            to_country=row.to_country,
            certificate_type=row.certificate_type,
            certificate_status=row.certificate_status,
            number=row.certificate.number,
            content=row.content,
            session=session,
        )
        if not header.get("hubDeliveryNumber"):
            raise hub.HubUnreachable("the hub answered without a hubDeliveryNumber")
    except hub.HubFault as exc:
        delivery_failed(HubDelivery, delivery_id, exc)
        HubDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True).update(
            attempts=settings.PIF_DELIVERY_ATTEMPTS, status=HubStatus.FAILED, hub_error=str(exc)
        )
        return False
    except Exception as exc:
        delivery_failed(HubDelivery, delivery_id, exc)
        HubDelivery.objects.filter(
            pk=delivery_id, sent_at__isnull=True, attempts__gte=settings.PIF_DELIVERY_ATTEMPTS
        ).update(status=HubStatus.FAILED)
        raise
    tracking = header.get("HUBTrackingInfo") or hub.PENDING
    HubDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True).update(
        sent_at=timezone.now(),
        next_attempt_at=None,
        status=TRACKING_STATUS.get(tracking, HubStatus.DELIVERED),
        hub_delivery_number=header["hubDeliveryNumber"][:100],
        hub_tracking=tracking[:30],
        hub_error=(header.get("hubDeliveryErrorMessage") or "")[:2000],
    )
    return True


def hub_deliveries_poll(*, limit: int = 200, session: requests.Session | None = None) -> int:
    """Beat: ask the hub where each envelope it took stands (`GetEnvelopeTrackingInfo`), the least recently
    asked first, until the importing country acknowledged it (acknowledged) or it failed (failed, with the
    hub's error text), for `POLL_DAYS` after it was sent (past them the page still reads delivered: the
    importing country is asked outside the system). Stops at the first unreachable hub: the next run asks
    again. Returns how many moved."""
    moved = 0
    since = timezone.now() - timedelta(days=POLL_DAYS)
    rows = (
        HubDelivery.objects.filter(status=HubStatus.DELIVERED, sent_at__gte=since)
        .exclude(hub_delivery_number="")
        .order_by(F("polled_at").asc(nulls_first=True), "pk")[:limit]
    )
    for row in rows:
        try:
            header = hub.hub_tracking(delivery_number=row.hub_delivery_number, session=session)
        except hub.HubUnreachable:
            break
        except hub.HubFault as exc:
            HubDelivery.objects.filter(pk=row.pk).update(polled_at=timezone.now(), hub_error=str(exc)[:2000])
            continue
        tracking = header.get("HUBTrackingInfo") or ""
        status = TRACKING_STATUS.get(tracking, HubStatus.DELIVERED)
        HubDelivery.objects.filter(pk=row.pk, status=HubStatus.DELIVERED).update(
            polled_at=timezone.now(),
            status=status,
            hub_tracking=tracking[:30],
            hub_error=(header.get("hubDeliveryErrorMessage") or "")[:2000],
        )
        moved += status != HubStatus.DELIVERED
    return moved


def hub_prefetch(lookup: str = "hub_deliveries") -> Prefetch:
    """For lists of certificates: their envelopes without their XML."""
    return Prefetch(lookup, queryset=HubDelivery.objects.defer("content"))


def hub_state(certificate: PhytosanitaryCertificate) -> dict | None:
    """What the exporter and the staff read of a certificate's last envelope (from `hub_deliveries`,
    prefetched by the lists), or None when none is owed."""
    rows = list(certificate.hub_deliveries.all())
    if not rows:
        return None
    row = max(rows, key=lambda r: r.pk)
    given_up = row.sent_at is None and row.attempts >= settings.PIF_DELIVERY_ATTEMPTS
    if given_up:
        status = HubStatus.FAILED
    elif row.sent_at is None:  # on its way again (a supervisor's retry), whatever the last attempt said
        status = HubStatus.PENDING
    else:
        status = HubStatus(row.status)
    return {
        "status": status.value,
        "status_label": str(status.label),
        "event": row.kind,
        "to": row.to_country,
        "delivery_number": row.hub_delivery_number,
        "tracking": row.hub_tracking,
        "error": row.hub_error or (row.last_error if given_up else ""),
        "updated_at": row.updated_at,
    }
