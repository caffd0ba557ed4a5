"""The exports part of `manage.py demo`: the demo exporter (`exporter`, password "demo") of a banana and
pineapple exporting company, and its applications driven through the real services: certificates issued,
one refused, one awaiting checks, one draft; the certificates delivered to the local IPPC hub double and most of
them acknowledged by the importing countries. Safe to run twice (skipped when the company has applications)."""

from django.conf import settings
from django.contrib.auth.models import Group, User

from inspection.exchange import hub
from inspection.exchange.local import DoubleRoute
from inspection.models import ExportApplication, HubDelivery, Membership, Operator
from inspection.roles import Role
from inspection.services.exports import export_application_create, export_check_record, export_refuse
from inspection.services.hub import hub_deliveries_poll, hub_delivery_deliver
from inspection.services.phyto import phyto_certificate_issue

EXPORTER = ("Banamart SAS", "Habitation Lareinty, 97232 Le Lamentin, Martinique", "FR0972321234500")

MARKETS = [
    # (destination, consignee, address, point of entry, UN/LOCODE, mode, means, line)
    (
        "CA",
        "Fresh Tropics Inc.",
        "2100 rue Notre-Dame O, Montréal QC",
        "Montréal",
        "CAMTR",
        "sea",
        "CMA CGM FORT SAINT LOUIS 0MQ3NS",
        ("Bananes dessert fraîches", "08039010", "Musa acuminata", "MUBAC", "18000.000", 1000, "CT"),
    ),
    (
        "US",
        "Caribbean Produce LLC",
        "Port Everglades, Fort Lauderdale FL",
        "Port Everglades",
        "USPEF",
        "sea",
        "CMA CGM GUADELOUPE 0MQ4NS",
        ("Ananas frais Victoria", "08043000", "Ananas comosus", "ANHCO", "6000.000", 600, "CT"),
    ),
    (
        "LC",
        "Island Fresh Ltd",
        "Castries, Saint Lucia",
        "Castries",
        "LCCAS",
        "sea",
        "L'EXPRESS DES ÎLES",
        ("Ignames fraîches", "07143000", "Dioscorea spp.", "", "2500.000", 100, "BG"),
    ),
    (
        "GB",
        "Tropical Roots UK",
        "New Covent Garden Market, London",
        "London Heathrow",
        "GBLHR",
        "air",
        "AF 0633",
        ("Gingembre frais", "09101100", "Zingiber officinale", "ZINOF", "800.000", 80, "CT"),
    ),
]


def _application(market) -> dict:
    country, consignee, address, entry, locode, mode, means, line = market
    description, hs, botanical, eppo, weight, packages, package_type = line
    return {
        "consignor": {"name": EXPORTER[0], "address": EXPORTER[1]},
        "consignee": {"name": consignee, "address": address, "country": country},
        "destination": {"country": country, "point_of_entry": entry, "unlocode": locode},
        "conveyance": {"mode": mode, "id": means},
        "distinguishing_marks": "BANAMART MQ",
        "lines": [
            {
                "description": description,
                "hs_code": hs,
                "botanical_name": botanical,
                "eppo_code": eppo,
                "net_weight_kg": weight,
                "packages": packages,
                "package_type": package_type,
                "place_of_production": "Habitation Lareinty, Le Lamentin",
            }
        ],
    }


def exports_demo(*, password: str) -> int:
    """The demo exporter and its applications; returns how many were made."""
    operator, _ = Operator.objects.get_or_create(
        eori=EXPORTER[2], defaults={"name": EXPORTER[0], "address": EXPORTER[1], "email": "exporter@example.org"}
    )
    user, created = User.objects.get_or_create(
        username="exporter", defaults={"first_name": "Émile", "last_name": "Banamart", "email": "exporter@example.org"}
    )
    if created:
        user.set_password(password)
        user.save()
    user.groups.add(*Group.objects.filter(name=Role.EXPORTER))
    Membership.objects.update_or_create(user=user, defaults={"operator": operator})
    if ExportApplication.objects.filter(operator=operator).exists():
        return 0
    inspector, officer = User.objects.get(username="inspector"), User.objects.get(username="officer")
    made = []
    for i, market in enumerate(MARKETS * 2):
        draft = i == len(MARKETS) * 2 - 1
        application = export_application_create(actor=user, application=_application(market), draft=draft)
        made.append(application)
        if draft or i % 4 == 3:  # a draft, and one awaiting the post's checks
            continue
        export_check_record(actor=inspector, application=application, kind="documentary", result="satisfactory")
        if i == 2:
            export_check_record(
                actor=inspector,
                application=application,
                kind="inspection",
                result="not_satisfactory",
                notes="Live scale insects (Aspidiella hartii) on 4 tubers of 40",
            )
            export_refuse(actor=officer, application=application, reason="Quarantine pest found at inspection.")
            continue
        export_check_record(actor=inspector, application=application, kind="inspection", result="satisfactory")
        phyto_certificate_issue(actor=officer, application=application)
    hub_demo()
    return len(made)


def hub_demo() -> None:
    """Deliver the demo's envelopes to the local hub double now (the worker is not up yet: its own send will
    find them sent), then answer them as the importing NPPOs would: all acknowledged but Saint Lucia's, left
    waiting, and beat's poll run once. Nothing when the double is off (a real hub configured)."""
    if not settings.PIF_IPPC_HUB_DOUBLE or settings.PIF_IPPC_HUB_URL:
        return
    ours = DoubleRoute().session()
    for pk in HubDelivery.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        hub_delivery_deliver(delivery_id=pk, session=ours)
    for country in {market[0] for market in MARKETS} - {"LC"}:
        theirs = DoubleRoute(country).session()
        for header in hub.hub_import_headers(session=theirs):
            hub.hub_acknowledge(delivery_number=header["hubDeliveryNumber"], session=theirs)
    hub_deliveries_poll(session=ours)
