"""The phytosanitary certificate of an export application, after the ISPM 12 model (Annex 1 for export,
Annex 2 for re-export): its template context and HTML. Bilingual like the CHED: French first, English in
italics (docs/regulation.md, "Exports")."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from inspection.models import ExportApplication, ExportKind, PackageType

from .documents import Bi, bi, named, qr_data_uri, verify_url

TEMPLATE = "certificates/phyto.html"
# The plant protection organisation that certifies (ISPM 12: "Plant Protection Organization of [contracting
# party]"): France, whose services in Martinique (DAAF, service de l'alimentation) issue for Martinique.
NPPO = Bi("Organisation de la protection des végétaux de la France", "Plant Protection Organization of France")


def _country(code) -> Bi | None:
    return bi(lambda: code.name) if code else None


def phyto_context(
    *,
    application: ExportApplication,
    number: str,
    verify_key: str,
    issued_at: datetime.datetime | None,
    signer: str,
    officer: str,
    replaces=None,
) -> dict:
    """Everything `certificates/phyto.html` prints."""
    lines = list(application.lines.all())
    package_types = {p.code: p for p in PackageType.objects.filter(code__in={line.package_type for line in lines})}
    origins = sorted({str(line.country_of_origin) for line in lines})
    return {
        "number": number,
        "a": application,
        "replaces": replaces,
        "replaces_issued_at": timezone.localtime(replaces.issued_at) if replaces else None,
        "reexport": application.kind == ExportKind.REEXPORT,
        "nppo": NPPO,
        "verify_url": verify_url(number, verify_key),
        "qr": qr_data_uri(verify_url(number, verify_key)),
        "issued_at": timezone.localtime(issued_at) if issued_at else None,
        "signer": signer,
        "officer": officer,
        "place": settings.PIF_SIGNING_LOCATION,
        "destination": _country(application.destination_country),
        "consignee_country": _country(application.consignee_country),
        "original_country": _country(application.original_country),
        "transport_mode": bi(application.get_transport_mode_display) if application.transport_mode else None,
        "places_of_origin": [
            f"{line.place_of_production} ({line.country_of_origin.code})" for line in lines if line.place_of_production
        ]
        or origins,
        "lines": [{"line": line, "package_type": named(package_types.get(line.package_type))} for line in lines],
        "totals": {
            "packages": sum(line.packages for line in lines),
            "net_weight_kg": sum(line.net_weight_kg for line in lines),
        },
    }


def phyto_html(context: dict) -> str:
    return render_to_string(TEMPLATE, context)


def phyto_facts(certificate) -> dict:
    """What `/verify/<number>/<key>/` shows of a phytosanitary certificate: what is printed on it."""
    application = certificate.application
    return {
        "number": certificate.number,
        "found": True,
        "kind": certificate.kind,
        "kind_label": str(certificate._meta.verbose_name).capitalize(),
        "status": certificate.status,
        "status_label": certificate.get_status_display(),
        "valid": certificate.status == certificate.Status.VALID,
        "export_reference": application.reference,
        "destination_country": str(application.destination_country),
        "issued_at": certificate.issued_at,
        "signer": certificate.signer,
        "sha256": certificate.sha256,
        "ephyto_sha256": certificate.ephyto_sha256,
        "replaced_by": replaced.number if (replaced := getattr(certificate, "replaced_by", None)) else None,
        "withdrawn_at": certificate.revoked_at,
    }
