"""The UN/CEFACT SPS certificate (SPSCertificate, the schema the IPPC ePhyto hub and TRACES NT share): the
element builders and readers of every document we write or read in it: the ePhyto of an export certificate
(`ephyto_xml`), a CHED (`ched_xml`), and their imports (`services/ephyto.py`, `services/sps_import.py`).

Reading uses local names only (`child(root, "SPSConsignment")`): senders bind the namespaces to prefixes of
their own, and some use another version of the schema."""

import datetime
import re
from xml.etree.ElementTree import Element, SubElement, register_namespace

from django.utils import timezone

from inspection.models import TransportMode

RSM = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21"
for prefix, uri in (("rsm", RSM), ("ram", RAM), ("udt", UDT)):
    register_namespace(prefix, uri)

# UN/ECE Recommendation 19
MODE_CODES = {TransportMode.SEA: "1", TransportMode.ROAD: "3", TransportMode.AIR: "4"}
TRANSPORT_MODES = {code: mode for mode, code in MODE_CODES.items()}
ADDRESS_LINES = ("LineOne", "LineTwo", "LineThree", "LineFour", "LineFive")


# writing


def rsm(parent: Element, name: str) -> Element:
    return SubElement(parent, f"{{{RSM}}}{name}")


def ram(parent: Element, name: str, text: str | None = None, **attributes) -> Element:
    element = SubElement(parent, f"{{{RAM}}}{name}", {k: v for k, v in attributes.items() if v})
    if text is not None:
        element.text = text
    return element


def date_time(parent: Element, name: str, when: datetime.datetime) -> Element:
    element = ram(parent, name)
    SubElement(element, f"{{{UDT}}}DateTimeString").text = timezone.localtime(when).isoformat(timespec="seconds")
    return element


def party(parent: Element, name: str, *, party_name: str, address: str, country: str, **ids: str) -> Element:
    """An SPSParty: its name, its address on up to five lines, its country; `ids` (an approval number) as ID."""
    element = ram(parent, name)
    for value in ids.values():
        if value:
            ram(element, "ID", value)
    ram(element, "Name", party_name)
    specified = ram(element, "SpecifiedSPSAddress")
    lines = [line.strip() for line in address.replace("\r", "").split("\n") if line.strip()] or [""]
    if len(lines) > len(ADDRESS_LINES):  # the schema has five lines: the last holds the rest
        lines = [*lines[:4], "\n".join(lines[4:])]
    for label, line in zip(ADDRESS_LINES, lines, strict=False):
        ram(specified, label, line)
    if country:
        ram(specified, "CountryID", country)
    return element


def note(parent: Element, name: str, subject: str, content: str, language: str = "") -> Element:
    element = ram(parent, name)
    ram(element, "Subject", subject)
    ram(element, "Content", content, languageID=language)
    return element


# reading


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(element: Element | None, name: str) -> list[Element]:
    return [c for c in element if local(c.tag) == name] if element is not None else []


def child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        found = children(element, name)
        element = found[0] if found else None
    return element


def text(element: Element | None, *path: str) -> str:
    found = child(element, *path) if path else element
    return re.sub(r"\s+", " ", found.text or "").strip() if found is not None else ""


def raw_text(element: Element | None, *path: str) -> str:
    """The text as written (line breaks kept: an address, a free text)."""
    found = child(element, *path) if path else element
    return (found.text or "").strip() if found is not None else ""


def texts_by_language(element: Element | None, name: str) -> str:
    """The text in French, else English, else the first given."""
    found = [e for e in children(element, name) if text(e)]
    for language in ("fr", "en"):
        for e in found:
            if e.get("languageID") == language:
                return text(e)
    return text(found[0]) if found else ""
