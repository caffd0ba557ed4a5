"""The exports part of `manage.py demo`: the demo exporter (`exporter`, password "demo") of a banana and
pineapple exporting company, and its applications driven through the real export flow (`workflows.flows.
ExportFlow`), each step claimed and completed as its task form does: certificates issued (one of them then
replaced), one sampled at its inspection and issued once the laboratory's satisfactory result came in (the
lab's post routed to the flow's wait, as the lab API does), one refused, a re-export of pineapples that came in
under the company's CHED-PP, one awaiting the post's checks, one draft; the certificates delivered to the local
IPPC hub double and most of them acknowledged by the importing countries. Safe to run twice (skipped when the
company has applications)."""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inspection.exchange import hub
from inspection.exchange.local import DoubleRoute
from inspection.models import ExportApplication, HubDelivery, Membership, Operator
from inspection.ports import receive_lab_result
from inspection.roles import Role
from inspection.selectors import destination_requirements
from inspection.services.consignments import consignment_create
from inspection.services.export_decisions import export_decision_record
from inspection.services.export_samples import export_inspection_record
from inspection.services.exports import export_application_create, export_check_record
from inspection.services.hub import hub_deliveries_poll, hub_delivery_deliver
from inspection.services.lab import lab_sample_for, lab_submission_store
from inspection.services.phyto import phyto_certificate_replace
from workflows.engine import flow_job_run
from workflows.export_steps import export_step_complete
from workflows.flows import ExportFlow

from ._demo_flow import drive

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
        _check(application, inspector, "documentary", "satisfactory")
        if i == 2:
            _check(
                application,
                inspector,
                "inspection",
                "not_satisfactory",
                "Live scale insects (Aspidiella hartii) on 4 tubers of 40",
            )
            _decide(application, officer, issue=False, reason="Quarantine pest found at inspection.")
            continue
        if i == 1:  # pineapples: a sample for pest identification, its result before the decision
            _inspect_with_sample(application, inspector)
            _lab_result(application)
        else:
            _check(application, inspector, "inspection", "satisfactory")
        _decide(application, officer, issue=True)
        if i == 0:  # the consignee changed after issue: ISPM 12 §1.3.1, a replacement certificate
            phyto_certificate_replace(
                actor=officer,
                application=application,
                reason="Changement de destinataire / change of consignee",
                changes={"consignee_name": "Tropical Imports Ltd", "consignee_address": "12 Harbour Rd, Halifax NS"},
            )
    made.append(_reexport(user, operator, inspector, officer))
    hub_demo()
    return len(made)


def _check(application, inspector, kind: str, result: str, notes: str = "") -> None:
    export_step_complete(
        user=inspector,
        application=application,
        step=kind,
        record=lambda: export_check_record(
            actor=inspector,
            application=application,
            kind=kind,
            result=result,
            notes=notes,
            # the inspector confirms the destination's checklist (docs/regulation.md, section 9)
            requirements_met=[r.pk for r in destination_requirements(application)] if kind == "documentary" else [],
        ),
    )


def _inspect_with_sample(application, inspector) -> None:
    sample = {"analysis": "PEST_IDENTIFICATION", "laboratory": "LTA972", "reason": "random", "conservation": "ambient"}
    export_step_complete(
        user=inspector,
        application=application,
        step="inspection",
        record=lambda: export_inspection_record(
            actor=inspector, application=application, result="satisfactory", sample=sample
        ),
    )


def _lab_result(application) -> None:
    """The territorial laboratory's satisfactory result, posted as its system does (`/api/v1/lab-results/`)."""
    lab = User.objects.get(username="lab")
    sample = lab_sample_for(sample_number=application.samples.get().number, lab_user=lab)
    payload = {"sample": sample.number, "conclusion": "satisfactory", "analytes": []}
    submission = lab_submission_store(lab_user=lab, payload=payload)
    receive_lab_result(submission=submission, sample=sample, conclusion="satisfactory", analytes=[])


def _decide(application, officer, *, issue: bool, reason: str = "") -> None:
    """The officer's decision; an issue is then made by the certificate job, run here as the worker would (the
    worker receives the same job too, and skips it as already done)."""
    export_step_complete(
        user=officer,
        application=application,
        step="decision",
        record=lambda: export_decision_record(actor=officer, application=application, issue=issue, reason=reason),
    )
    if issue:
        job = ExportFlow.task_class.objects.get(
            process__artifact_object_id=application.pk, flow_task=ExportFlow.issue_certificate
        )
        flow_job_run.run(job.flow_task.activation_class(job).ref())


def _reexport(exporter, operator, inspector, officer) -> ExportApplication:
    """Pineapples from the Dominican Republic, imported by the company under a CHED-PP (accepted at the port),
    re-exported to Saint Lucia: the ISPM 12 re-export certificate."""
    importer, created = User.objects.get_or_create(
        username="banamart-imports", defaults={"first_name": "Service", "last_name": "Import Banamart"}
    )
    if created:
        importer.set_unusable_password()  # files the company's CHEDs in the demo; nobody logs in as it
        importer.save()
    importer.groups.add(*Group.objects.filter(name=Role.IMPORTER))
    Membership.objects.update_or_create(user=importer, defaults={"operator": operator})
    ched = consignment_create(actor=importer, part_one=_ched_pp(operator), draft=False)
    drive(ched, "accepted", {"inspector": inspector, "officer": officer, "supervisor": officer})
    market = ("LC", "Island Fresh Ltd", "Castries, Saint Lucia", "Castries", "LCCAS", "sea", "L'EXPRESS DES ÎLES")
    line = ("Ananas frais (réexportation)", "08043000", "Ananas comosus", "ANHCO", "2000.000", 200, "CT")
    body = {
        **_application((*market, line)),
        "kind": "reexport",
        "reexport": {
            "original_certificate": "DO-2026-004512",
            "original_country": "DO",
            "ched_reference": ched.reference,
        },
    }
    body["lines"][0]["country_of_origin"] = "DO"
    body["lines"][0]["place_of_production"] = "Finca La Esperanza, Monte Plata (DO)"
    application = export_application_create(actor=exporter, application=body, draft=False)
    _check(application, inspector, "documentary", "satisfactory")
    _check(application, inspector, "inspection", "satisfactory")
    _decide(application, officer, issue=True)
    return application


def _ched_pp(operator) -> dict:
    """The CHED-PP the re-exported pineapples came in with (Part I as the company's system filed it)."""
    arrival = timezone.localtime() + datetime.timedelta(days=3)
    arrival = arrival.replace(hour=7, minute=0, second=0, microsecond=0)
    return {
        "ched_type": "CHED-PP",
        "bcp": "FRFDF1",
        "consignor": {"name": "Frutas del Cibao SRL", "address": "Av. Duarte 120, Santiago", "country": "DO"},
        "consignee": {"name": operator.name, "address": operator.address, "country": "FR"},
        "country_of_origin": "DO",
        "country_of_dispatch": "DO",
        "purpose": "internal_market",
        "arrival": {
            "expected_at": arrival,
            "transport_mode": "sea",
            "transport_id": "CMA CGM FORT DESAIX 612N",
            "transport_document": "BL7304512",
        },
        "containers": [{"number": "CSQU3054383", "seal": "FX734512"}],
        "commodities": [
            {
                "cn_code": "08043000",
                "description": "Ananas frais",
                "species": "Ananas comosus",
                "eppo_code": "ANHCO",
                "net_weight_kg": "2000.000",
                "packages": 200,
                "package_type": "CT",
            }
        ],
        "accompanying_documents": [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": "DO-2026-004512"}],
        "place_of_destination": {
            "name": operator.name,
            "address": operator.address,
            "country": "MQ",
            "approval_number": "",
        },
    }


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
