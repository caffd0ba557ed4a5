"""The client of the IPPC ePhyto hub's SOAP web service (`ephyto.wsdl`, the hub's `DeliveryService`, SOAP 1.1,
document/literal), built with zeep on the WSDL shipped here: no WSDL is fetched at run time, and the only thing
that points it at the real hub rather than the local double is `PIF_IPPC_HUB_URL` (with the NPPO's TLS client
certificate, `PIF_IPPC_HUB_CLIENT_CERT` and `PIF_IPPC_HUB_CLIENT_KEY`: the hub knows who calls by it).

Each call answers the hub's `EnvelopeHeader` as a dict, or raises `HubFault` (the hub refused the message: a
`HubWebException`, retrying the same message will not help) or `HubUnreachable` (the network, TLS, a timeout,
an HTTP error without a SOAP fault: worth retrying)."""

from pathlib import Path

import requests
import zeep
from django.conf import settings
from zeep.exceptions import Fault, TransportError
from zeep.helpers import serialize_object

WSDL = Path(__file__).with_name("ephyto.wsdl")
BINDING = "{http://ephyto.ippc.int/}DeliveryServiceSoapBinding"
# The hub's tracking info (`HUBTrackingInfo` in the WSDL)
PENDING, DELIVERED, FAILED, NOT_EXISTS, WITH_WARNINGS, NOT_READABLE = (
    "PendingDelivery",
    "Delivered",
    "FailedDelivery",
    "EnvelopeNotExists",
    "DeliveredWithWarnings",
    "DeliveredNotReadable",
)

# The envelope's CertificateStatus (and the certificate's StatusCode) per event: 70 issued, as in the hub's
# sample; 40 withdrawn and 35 replaced are assumptions (docs/decisions/0015-ippc-hub-delivery.md).
STATUS_CODES = {"issued": 70, "replaced": 35, "withdrawn": 40}
# The CertificateType per ISPM 12 model: the phytosanitary certificate, the one for re-export
TYPE_CODES = {"export": 851, "reexport": 657}


class HubFault(Exception):
    """The hub answered with a SOAP fault (its `HubWebException`): the message as the hub gave it."""


class HubUnreachable(Exception):
    """No answer from the hub, or not a SOAP one: try again later."""


def hub_url() -> str:
    """Where the hub is: `PIF_IPPC_HUB_URL`, or else the local double on this server."""
    return settings.PIF_IPPC_HUB_URL or settings.SITE_URL.rstrip("/") + "/hub-double/"


def hub_session() -> requests.Session:
    """The HTTP session zeep sends with: the NPPO's client certificate when one is configured (the real hub
    requires it), the CA bundle to check the hub's. Tests replace it with one routed into Django's client."""
    session = requests.Session()
    if settings.PIF_IPPC_HUB_CLIENT_CERT:
        session.cert = (
            (settings.PIF_IPPC_HUB_CLIENT_CERT, settings.PIF_IPPC_HUB_CLIENT_KEY)
            if settings.PIF_IPPC_HUB_CLIENT_KEY
            else settings.PIF_IPPC_HUB_CLIENT_CERT
        )
    if settings.PIF_IPPC_HUB_CA_BUNDLE:
        session.verify = settings.PIF_IPPC_HUB_CA_BUNDLE
    return session


def _service(session: requests.Session | None = None):
    session = session or hub_session()
    transport = zeep.Transport(
        session=session, timeout=settings.PIF_IPPC_HUB_TIMEOUT, operation_timeout=settings.PIF_IPPC_HUB_TIMEOUT
    )
    client = zeep.Client(str(WSDL), transport=transport)
    return client.create_service(BINDING, hub_url())


def _call(operation: str, session: requests.Session | None = None, **kwargs):
    service = _service(session)
    try:
        result = getattr(service, operation)(**kwargs)
    except Fault as exc:
        raise HubFault(str(exc.message or "HubWebException")[:2000]) from exc
    except (TransportError, requests.RequestException, OSError) as exc:
        raise HubUnreachable(f"{type(exc).__name__}: {exc}"[:2000]) from exc
    return serialize_object(result, dict)


def hub_deliver(
    *,
    from_country: str,
    to_country: str,
    certificate_type: int,
    certificate_status: int,
    number: str,
    content: str,
    session: requests.Session | None = None,
) -> dict:
    """`DeliverEnvelope`: hand one envelope to the hub. Answers its header with the `hubDeliveryNumber` to
    track it by, and `HUBTrackingInfo` (`PendingDelivery` until the importing NPPO acknowledges it)."""
    envelope = {
        "From": from_country,
        "To": to_country,
        "CertificateType": certificate_type,
        "CertificateStatus": certificate_status,
        "NPPOCertificateNumber": number,
        "Content": content,
    }
    return _call("DeliverEnvelope", session, env=envelope) or {}


def hub_tracking(*, delivery_number: str, session: requests.Session | None = None) -> dict:
    """`GetEnvelopeTrackingInfo`: where an envelope we sent stands (`HUBTrackingInfo`, and the importing
    NPPO's `hubDeliveryErrorMessage` when it failed)."""
    return _call("GetEnvelopeTrackingInfo", session, hubTrackingNumber=delivery_number) or {}


def hub_import_headers(*, session: requests.Session | None = None) -> list[dict]:
    """`GetImportEnvelopeHeaders`: the envelopes waiting for us as the importing NPPO."""
    result = _call("GetImportEnvelopeHeaders", session) or []
    if isinstance(result, dict):  # zeep unwraps the array's one element list, or not
        result = result.get("EnvelopeHeader") or []
    return list(result)


def hub_pull(*, delivery_number: str, session: requests.Session | None = None) -> dict:
    """`PULLSingleImportEnvelope`: one envelope addressed to us, with its content."""
    return _call("PULLSingleImportEnvelope", session, hubTrackingNumber=delivery_number) or {}


def hub_acknowledge(
    *, delivery_number: str, error: str = "", warning: str = "", session: requests.Session | None = None
) -> None:
    """As the importing NPPO, tell the hub what became of an envelope we pulled: received
    (`AcknowledgeEnvelopeReceipt`), received with a warning (`AdvancedAcknowledgeEnvelopeReceipt`) or not
    readable (`AcknowledgeFailedEnvelopeReceipt`, with the error the sender will read)."""
    if error:
        _call("AcknowledgeFailedEnvelopeReceipt", session, hubTrackingNumber=delivery_number, message=error)
    elif warning:
        _call("AdvancedAcknowledgeEnvelopeReceipt", session, hubTrackingNumber=delivery_number, warningMessage=warning)
    else:
        _call("AcknowledgeEnvelopeReceipt", session, hubTrackingNumber=delivery_number)
