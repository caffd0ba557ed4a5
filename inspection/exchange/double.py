"""A local double of the IPPC ePhyto hub, for tests and the demo: a Django view that answers the operations of
`ephyto.wsdl` that exporting and importing NPPOs use, as the hub does (SOAP 1.1, document/literal, faults as
`HubWebException`), and keeps what it accepts in a table (`HubDoubleEnvelope`) that the web and worker processes
share. Mounted at /hub-double/ only when `PIF_IPPC_HUB_DOUBLE` is on.

The real hub knows the calling NPPO by its TLS client certificate; the double, which sees no certificate, takes
it from the `X-Hub-Double-NPPO` header, and otherwise takes the caller for our own NPPO (`PIF_IPPC_HUB_NPPO`).
It refuses what the hub would: an envelope whose header is incomplete or contradicts its content, content that
is not well-formed SPSCertificate XML, a sender that is not the caller, an unknown country, an envelope the
caller may not see or that was already acknowledged. What it does not do: check signatures, channels, forward
to other systems (docs/decisions/0015-ippc-hub-delivery.md)."""

import uuid
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_countries import countries

from inspection.certificates.sps import RAM
from inspection.certificates.sps import RSM as SPS
from inspection.models import HubDoubleEnvelope

from . import hub

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TNS = "http://ephyto.ippc.int/"
ENT = "http://ephyto.ippc.int/HUB.Entities"
MAX_BODY = 5 * 1024 * 1024
# What the double accepts in an envelope's header (ISPM 12's two models; issued, replaced, withdrawn)
CERTIFICATE_TYPES = {851, 657}


class Refused(Exception):
    """Answered as the hub's fault (`HubWebException`) with this message."""

    def __init__(self, message: str, code: str = "soap:Server"):
        super().__init__(message)
        self.message, self.code = message, code


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _soap(body_child: Element | None = None, *, fault: Refused | None = None, version: str = SOAP11) -> HttpResponse:
    envelope = Element(_q(version, "Envelope"))
    body = SubElement(envelope, _q(version, "Body"))
    if fault is not None:
        element = SubElement(body, _q(version, "Fault"))
        if version == SOAP12:  # only ever a VersionMismatch: the WSDL binds SOAP 1.1 alone
            SubElement(SubElement(element, _q(SOAP12, "Code")), _q(SOAP12, "Value")).text = "soap12:VersionMismatch"
            SubElement(SubElement(element, _q(SOAP12, "Reason")), _q(SOAP12, "Text")).text = fault.message
        else:
            SubElement(element, "faultcode").text = fault.code
            SubElement(element, "faultstring").text = fault.message
            detail = SubElement(SubElement(element, "detail"), _q(TNS, "HubWebException"))
            SubElement(detail, _q(TNS, "message")).text = fault.message
    elif body_child is not None:
        body.append(body_child)
    content_type = "application/soap+xml" if version == SOAP12 else "text/xml"
    return HttpResponse(
        tostring(envelope, encoding="utf-8", xml_declaration=True),
        status=500 if fault is not None else 200,
        content_type=f"{content_type}; charset=utf-8",
    )


def _text(parent: Element, ns: str, name: str, *, required: bool = False, max_length: int = 200) -> str:
    child = parent.find(_q(ns, name))
    value = (child.text or "").strip() if child is not None else ""
    if required and not value:
        raise Refused(f"Unmarshalling Error: the element {name} is required.", "soap:Client")
    if len(value) > max_length:
        raise Refused(f"Unmarshalling Error: {name} is too long.", "soap:Client")
    return value


def _int(parent: Element, name: str) -> int:
    value = _text(parent, ENT, name, required=True, max_length=10)
    try:
        return int(value)
    except ValueError:
        raise Refused(f"Unmarshalling Error: {name} is not an integer: {value!r}.", "soap:Client") from None


def _header(parent: Element, row: HubDoubleEnvelope | None, *, content: bool = False, number: str = "") -> None:
    """The children of an `EnvelopeHeader` (or `Envelope`), in the WSDL's order."""

    def put(name, value):
        if value not in (None, ""):
            SubElement(parent, _q(ENT, name)).text = str(value)

    if row is None:  # the hub's answer for a number it does not know
        for name in ("From", "To"):
            SubElement(parent, _q(ENT, name))
        put("CertificateType", 0)
        put("CertificateStatus", 0)
        SubElement(parent, _q(ENT, "NPPOCertificateNumber"))
        put("hubDeliveryNumber", number)
        put("HUBTrackingInfo", hub.NOT_EXISTS)
        return
    put("From", row.from_country)
    put("To", row.to_country)
    put("CertificateType", row.certificate_type)
    put("CertificateStatus", row.certificate_status)
    put("NPPOCertificateNumber", row.certificate_number)
    put("hubDeliveryNumber", row.hub_delivery_number)
    put("HUBTrackingInfo", row.tracking)
    put("hubDeliveryErrorMessage", row.error_message)
    if content:
        put("Content", row.content)


def _check_content(content: str, *, number: str, certificate_type: int, certificate_status: int, to: str) -> None:
    """The envelope's content must be a well-formed SPSCertificate stating what the header says."""
    try:
        root = SafeET.fromstring(content.encode())
    except Exception as exc:  # ParseError, or defusedxml's refusal of a DTD or entities
        raise Refused(f"Invalid envelope content: not well-formed XML ({exc}).", "soap:Client") from None
    if root.tag != _q(SPS, "SPSCertificate"):
        raise Refused("Invalid envelope content: the root element must be rsm:SPSCertificate.", "soap:Client")
    document = root.find(_q(SPS, "SPSExchangedDocument"))
    if document is None:
        raise Refused("Invalid envelope content: SPSExchangedDocument is missing.", "soap:Client")
    stated = {
        "ID": number,
        "TypeCode": str(certificate_type),
        "StatusCode": str(certificate_status),
    }
    for name, expected in stated.items():
        found = (document.findtext(_q(RAM, name)) or "").strip()
        if found != expected:
            raise Refused(
                f"Invalid envelope: the header says {expected!r} but the certificate's {name} is {found!r}.",
                "soap:Client",
            )
    destination = (
        root.findtext(f"{_q(SPS, 'SPSConsignment')}/{_q(RAM, 'ImportSPSCountry')}/{_q(RAM, 'ID')}") or ""
    ).strip()
    if destination != to:
        raise Refused(
            f"Invalid envelope: addressed to {to!r} but the certificate's importing country is {destination!r}.",
            "soap:Client",
        )


def _deliver(request_element: Element, caller: str) -> Element:
    env = request_element.find(_q(TNS, "env"))
    if env is None:
        raise Refused("Unmarshalling Error: the element env is required.", "soap:Client")
    sender = _text(env, ENT, "From", required=True, max_length=2).upper()
    to = _text(env, ENT, "To", required=True, max_length=2).upper()
    certificate_type = _int(env, "CertificateType")
    certificate_status = _int(env, "CertificateStatus")
    number = _text(env, ENT, "NPPOCertificateNumber", required=True, max_length=100)
    content = _text(env, ENT, "Content", required=True, max_length=MAX_BODY)
    if sender != caller:
        raise Refused(f"The sender {sender!r} is not the NPPO of the client certificate ({caller!r}).")
    if to not in countries or to == sender:
        raise Refused(f"Unknown or inactive NPPO: {to!r}.")
    if certificate_type not in CERTIFICATE_TYPES:
        raise Refused(f"Certificate type {certificate_type} is not allowed.")
    if certificate_status not in hub.STATUS_CODES.values():
        raise Refused(f"Certificate status {certificate_status} is not allowed.")
    _check_content(
        content, number=number, certificate_type=certificate_type, certificate_status=certificate_status, to=to
    )
    row = HubDoubleEnvelope.objects.create(
        hub_delivery_number=str(uuid.uuid4()),
        from_country=sender,
        to_country=to,
        certificate_type=certificate_type,
        certificate_status=certificate_status,
        certificate_number=number,
        content=content,
    )
    answer = Element(_q(TNS, "DeliverEnvelopeResponse"))
    _header(SubElement(answer, _q(TNS, "DeliverEnvelopeResult")), row)
    return answer


def _tracking(request_element: Element, caller: str) -> Element:
    number = _text(request_element, TNS, "hubTrackingNumber", required=True, max_length=64)
    row = HubDoubleEnvelope.objects.filter(hub_delivery_number=number, from_country=caller).first()
    answer = Element(_q(TNS, "GetEnvelopeTrackingInfoResponse"))
    _header(SubElement(answer, _q(TNS, "GetEnvelopeTrackingInfoResult")), row, number=number)
    return answer


def _addressed(request_element: Element, caller: str, *, pending: bool = True) -> HubDoubleEnvelope:
    number = _text(request_element, TNS, "hubTrackingNumber", required=True, max_length=64)
    rows = HubDoubleEnvelope.objects.select_for_update(no_key=True).filter(
        hub_delivery_number=number, to_country=caller
    )
    row = rows.first()
    if row is None:
        raise Refused(f"No envelope {number} for {caller}.")
    if pending and row.tracking != hub.PENDING:
        raise Refused(f"The envelope {number} was already acknowledged ({row.tracking}).")
    return row


def _pull_one(request_element: Element, caller: str) -> Element:
    row = _addressed(request_element, caller, pending=False)
    answer = Element(_q(TNS, "PULLSingleImportEnvelopeResponse"))
    _header(SubElement(answer, _q(TNS, "PULLSingleImportEnvelopeResult")), row, content=True)
    return answer


def _waiting(caller: str):
    return HubDoubleEnvelope.objects.filter(to_country=caller, tracking=hub.PENDING).order_by("pk")[:100]


def _import_headers(request_element: Element, caller: str) -> Element:
    answer = Element(_q(TNS, "GetImportEnvelopeHeadersResponse"))
    result = SubElement(answer, _q(TNS, "GetImportEnvelopeHeadersResult"))
    for row in _waiting(caller):
        _header(SubElement(result, _q(ENT, "EnvelopeHeader")), row)
    return answer


def _pull_all(request_element: Element, caller: str) -> Element:
    answer = Element(_q(TNS, "PULLImportEnvelopeResponse"))
    result = SubElement(answer, _q(TNS, "PULLImportEnvelopesResult"))
    for row in _waiting(caller):
        _header(SubElement(result, _q(ENT, "Envelope")), row, content=True)
    return answer


def _under_delivery(request_element: Element, caller: str) -> Element:
    answer = Element(_q(TNS, "GetUnderDeliveryEnvelopeResponse"))
    result = SubElement(answer, _q(TNS, "GetUnderDeliveryEnvelopeResult"))
    for row in HubDoubleEnvelope.objects.filter(from_country=caller, tracking=hub.PENDING).order_by("pk")[:100]:
        _header(SubElement(result, _q(ENT, "EnvelopeHeader")), row)
    return answer


def _acknowledge(tracking: str, message_element: str, response: str):
    def operation(request_element: Element, caller: str) -> Element:
        row = _addressed(request_element, caller)
        message = (
            _text(request_element, TNS, message_element, required=True, max_length=2000) if message_element else ""
        )
        row.tracking, row.error_message = tracking, message
        row.save(update_fields=["tracking", "error_message"])
        return Element(_q(TNS, response))

    return operation


OPERATIONS = {
    "DeliverEnvelope": _deliver,
    "GetEnvelopeTrackingInfo": _tracking,
    "GetImportEnvelopeHeaders": _import_headers,
    "PULLSingleImportEnvelope": _pull_one,
    "PULLImportEnvelope": _pull_all,
    "GetUnderDeliveryEnvelope": _under_delivery,
    "AcknowledgeEnvelopeReceipt": _acknowledge(hub.DELIVERED, "", "AcknowledgeEnvelopeReceiptResponse"),
    "AdvancedAcknowledgeEnvelopeReceipt": _acknowledge(
        hub.WITH_WARNINGS, "warningMessage", "AdvancedAcknowledgeEnvelopeReceiptResponse"
    ),
    "AcknowledgeFailedEnvelopeReceipt": _acknowledge(hub.FAILED, "message", "AcknowledgeFailedEnvelopeReceiptResponse"),
}
# The SOAPAction of each operation, as the WSDL's binding gives it (the hub dispatches on it too)
ACTIONS = {
    "AdvancedAcknowledgeEnvelopeReceipt": f"{TNS}IDeliveryService/NegativeAcknowledgeEnvelopeReceipt",
}


def _wsdl(request) -> HttpResponse:
    text = hub.WSDL.read_text()
    text = text.replace("https://hub.ephytoexchange.org/hub/DeliveryService", request.build_absolute_uri(request.path))
    return HttpResponse(text, content_type="text/xml; charset=utf-8")


@csrf_exempt
def hub_double(request):
    if not settings.PIF_IPPC_HUB_DOUBLE:
        raise Http404
    if request.method == "GET":
        return _wsdl(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    content_type = request.content_type or ""
    if content_type == "application/soap+xml":
        return _soap(fault=Refused("SOAP 1.2 is not supported: the service is bound to SOAP 1.1."), version=SOAP12)
    if content_type != "text/xml":
        return HttpResponse("Content-Type must be text/xml (SOAP 1.1).", status=415, content_type="text/plain")
    if len(request.body) > MAX_BODY:
        return _soap(fault=Refused("The message is too large.", "soap:Client"))
    try:
        root = SafeET.fromstring(request.body)
    except Exception:  # ParseError, or defusedxml's refusal of a DTD or entities
        return _soap(fault=Refused("The message is not well-formed XML.", "soap:Client"))
    if root.tag == _q(SOAP12, "Envelope"):
        return _soap(fault=Refused("SOAP 1.2 is not supported: the service is bound to SOAP 1.1."), version=SOAP12)
    body = root.find(_q(SOAP11, "Body")) if root.tag == _q(SOAP11, "Envelope") else None
    if body is None or len(body) != 1:
        return _soap(fault=Refused("VersionMismatch: not a SOAP 1.1 envelope with one body element.", "soap:Client"))
    request_element = body[0]
    name = request_element.tag.removeprefix(f"{{{TNS}}}")
    operation = OPERATIONS.get(name)
    if operation is None:
        return _soap(fault=Refused(f"Unknown or unsupported operation: {request_element.tag}.", "soap:Client"))
    action = (request.headers.get("SOAPAction") or "").strip('"')
    if action and action != ACTIONS.get(name, f"{TNS}IDeliveryService/{name}"):
        return _soap(fault=Refused(f"The SOAPAction {action!r} does not match the operation {name}.", "soap:Client"))
    caller = (request.headers.get("X-Hub-Double-NPPO") or settings.PIF_IPPC_HUB_NPPO).upper()
    try:
        with transaction.atomic():
            answer = operation(request_element, caller)
    except Refused as exc:
        return _soap(fault=exc)
    return _soap(answer)
