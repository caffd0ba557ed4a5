"""Transports to TRACES NT: how an exchange (`TracesExchange`, a CHED's SPS XML) leaves this service. The
service knows one interface, `send(message) -> TracesReceipt`, and `PIF_TRACES_TRANSPORT` names the class: a
connection to TRACES NT's web services is a new transport, not a change to the outbox or the services
(docs/decisions/0016-traces-exchange.md says what is known of those web services and what is assumed).

A transport raises on any failure (the outbox backs off and tries again, then gives up to a supervisor); it may
be called twice with the same message (a worker that died after sending): `message.exchange_id` tells."""

import dataclasses

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

MEMBER_STATE = "FR"  # the series TRACES NT numbers Martinique's CHEDs in (a member state's code)


@dataclasses.dataclass(frozen=True)
class TracesMessage:
    exchange_id: int
    kind: str  # a `TracesEvent`
    local_reference: str  # our CHED number
    ched_type: str
    traces_reference: str  # TRACES NT's number when already known, else ""
    xml: bytes


@dataclasses.dataclass(frozen=True)
class TracesReceipt:
    traces_reference: str = ""  # TRACES NT's CHED number, when the answer gives it


def traces_transport():
    """The configured transport, or None when the exchange is off (`PIF_TRACES_TRANSPORT` empty)."""
    path = settings.PIF_TRACES_TRANSPORT
    return import_string(path)() if path else None


class LocalTracesDouble:
    """Stands in for TRACES NT: stores each message it receives (`TracesDoubleMessage`) and answers the CHED
    number TRACES NT would, `CHEDPP.FR.2026.0000001`, the same for every message about the same CHED."""

    def send(self, message: TracesMessage) -> TracesReceipt:
        from inspection.models import TracesDoubleMessage

        with transaction.atomic():
            received = TracesDoubleMessage.objects.filter(exchange_id=message.exchange_id).first()
            if received is not None:  # the same message again
                return TracesReceipt(traces_reference=received.traces_reference)
            number = (
                message.traces_reference
                or TracesDoubleMessage.objects.filter(local_reference=message.local_reference)
                .values_list("traces_reference", flat=True)
                .first()
                or self._allocate(message)
            )
            TracesDoubleMessage.objects.create(
                exchange_id=message.exchange_id,
                local_reference=message.local_reference,
                kind=message.kind,
                xml=message.xml.decode(),
                traces_reference=number,
            )
        return TracesReceipt(traces_reference=number)

    @staticmethod
    def _allocate(message: TracesMessage) -> str:
        from inspection.models import TracesDoubleMessage

        prefix = f"{message.ched_type.replace('-', '')}.{MEMBER_STATE}.{timezone.localdate().year}."
        given = set(
            TracesDoubleMessage.objects.select_for_update(no_key=True)
            .filter(traces_reference__startswith=prefix)
            .values_list("traces_reference", flat=True)
        )
        return f"{prefix}{len(given) + 1:07d}"
