"""The demo's inspections: consignments pushed through the real flow, with the same services and
activations as the task views, and left at every step so that each demo user finds work waiting."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspection.applicability import analyses_for_consignment
from inspection.models import Consignment, ConsignmentStatus, Sample
from inspection.services.checks import documentary_check_record, identity_check_record
from inspection.services.consignments import consignment_arrival_confirm, consignment_arrival_record
from inspection.services.decisions import decision_countersign, decision_record
from inspection.services.follow_up import follow_up_record
from inspection.services.onward import arrival_confirm
from inspection.services.sampling import physical_check_record
from workflows.engine import flow_job_run
from workflows.flows import InspectionFlow
from workflows.steps import open_task, task_complete_as

# Where each demo consignment stops; cycled over the submitted consignments.
STAGES = [
    "documentary",
    "accepted",
    "checks",
    "decision",
    "lab",
    "refused",
    "countersign",
    "channelled",
    "lab_late",
    "closed",
]


def drive(consignment: Consignment, stage: str, users: dict) -> None:
    plan = consignment.check_plan
    if stage in ("documentary", "checks"):
        _arrives_soon(consignment, users["supervisor"])
    analysis = _analysis_for(consignment) if stage in ("lab", "lab_late") else None
    if stage in ("lab", "lab_late") and (not plan.physical_selected or analysis is None):
        stage = "decision"
    if stage == "documentary":
        return
    refuse = stage in ("refused", "countersign", "closed")
    _step(
        consignment,
        InspectionFlow.documentary_check,
        users["inspector"],
        lambda: documentary_check_record(
            actor=users["inspector"],
            consignment=consignment,
            verdicts={d.pk: (True, not refuse) for d in consignment.documents.all()},
            result="not_satisfactory" if refuse else "satisfactory",
            reason="Certificat phytosanitaire expiré / phytosanitary certificate expired" if refuse else "",
        ),
    )
    if stage == "checks":
        return  # the goods are not there yet: the day page offers "Goods arrived"
    _arrived(consignment, users["inspector"])
    if not refuse:
        if plan.identity_selected:
            _step(
                consignment,
                InspectionFlow.identity_check,
                users["inspector"],
                lambda: identity_check_record(
                    actor=users["inspector"],
                    consignment=consignment,
                    seals_as_declared=True,
                    goods_as_declared=True,
                    result="satisfactory",
                ),
            )
        if plan.physical_selected:
            samples = (
                []
                if stage not in ("lab", "lab_late")
                else [
                    {
                        "analysis": analysis,
                        "laboratory": "LTA972",
                        "reason": "random",
                        "conservation": "chilled",
                        "detained": True,
                    }
                ]
            )
            _step(
                consignment,
                InspectionFlow.physical_check,
                users["inspector"],
                lambda: physical_check_record(
                    actor=users["inspector"],
                    consignment=consignment,
                    result="satisfactory",
                    findings="RAS",
                    samples=samples,
                    photos=[_demo_photo(consignment)] if stage == "lab" else [],
                ),
            )
        if stage == "lab_late":
            # the analysis is overdue: its deadline passed, beat's timer task escalates it
            from workflows.tasks import workflow_timers_fire

            past = timezone.now() - datetime.timedelta(hours=1)
            Sample.objects.filter(consignment=consignment).update(result_due_at=past)
            InspectionFlow.task_class.objects.filter(
                process__artifact_object_id=consignment.pk,
                flow_task_type="TIMER",
                status="SCHEDULED",
                previous__flow_task=InspectionFlow.lab_result,
            ).update(scheduled=past)
            workflow_timers_fire()
            return
        if stage in ("lab", "decision"):
            return
    consignment.refresh_from_db()
    if consignment.status != ConsignmentStatus.AWAITING_DECISION:
        return
    decide(consignment, users, refuse=refuse, until=stage)


def decide(consignment: Consignment, users: dict, *, refuse: bool, until: str) -> None:
    """The officer's decision on a consignment awaiting it, then, `until` the stage says so, the supervisor's
    countersignature of a refusal (`refused`) and the follow-up of the destruction (`closed`)."""
    deadline = timezone.localdate() + datetime.timedelta(days=15)
    _step(
        consignment,
        InspectionFlow.decide,
        users["officer"],
        lambda: decision_record(
            actor=users["officer"],
            consignment=consignment,
            **(
                {
                    "code": "non_acceptable",
                    "measure": "destruction",
                    "measure_deadline": deadline,
                    "reasons": ["AbsenceInvalidCertificate"],
                    "notes": "Certificat non valide",
                }
                if refuse
                else _sent_on(consignment)
                if until == "channelled"
                else {"code": "acceptable_for_internal_market"}
            ),
        ),
    )
    if until == "channelled":
        _arrival_confirmed(consignment, users["inspector"])
        return
    if until in ("accepted", "countersign"):
        return
    decision = consignment.decisions.filter(superseded=False).last()
    _step(
        consignment,
        InspectionFlow.countersign,
        users["supervisor"],
        lambda: decision_countersign(
            actor=users["supervisor"],
            decision=decision,
            approve=True,
            comment="Contresigné",
        ),
    )
    if until == "closed":
        _certificate_job_run(consignment)
        _step(
            consignment,
            InspectionFlow.follow_up,
            users["inspector"],
            lambda: follow_up_record(
                actor=users["inspector"],
                consignment=consignment,
                outcome="destroyed",
                evidence="Procès-verbal de destruction 2026-014 / destruction report",
            ),
        )


def _sent_on(consignment: Consignment) -> dict:
    """Goods sent on under control to a place of the reference data: channelled to the establishment of
    destination (animals and their products), else transferred to the control point (2019/1666, 2019/2123)."""
    if consignment.ched_type.code in ("CHED-A", "CHED-P"):
        return {"code": "acceptable_if_channelled", "arrival_point": "MQ-EST-001"}
    return {"code": "acceptable_for_transfer", "arrival_point": "MQ-CP-001"}


def _arrival_confirmed(consignment: Consignment, inspector) -> None:
    """The control point's authority confirms the arrival the same day, seals intact: Part III."""
    _certificate_job_run(consignment)
    _step(
        consignment,
        InspectionFlow.confirm_arrival,
        inspector,
        lambda: arrival_confirm(
            actor=inspector,
            consignment=consignment,
            arrived=True,
            arrived_on=timezone.localdate(),
            seals_intact=True,
            notes="Registre d'entrée de l'établissement / establishment's arrival register",
        ),
    )


def _certificate_job_run(consignment: Consignment) -> None:
    """The follow-up comes after the certificate job: run it here as the worker would (the worker then
    receives the same job too, and skips it as already done)."""
    job = InspectionFlow.task_class.objects.get(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.issue_certificate
    )
    flow_job_run.run(job.flow_task.activation_class(job).ref())


def _analysis_for(consignment: Consignment) -> str | None:
    """The first analysis meant for the consignment's CHED type and commodities (none for live animals)."""
    analyses = analyses_for_consignment(consignment, timezone.localdate())
    return analyses[0].code if analyses else None


def _demo_photo(consignment: Consignment) -> SimpleUploadedFile:
    """A generated photo of the opened cartons, as a tablet would upload it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (214, 190, 150))
    draw = ImageDraw.Draw(image)
    for x in (60, 300, 540):
        draw.rectangle((x, 220, x + 200, 420), fill=(176, 132, 84), outline=(90, 60, 30), width=6)
        draw.ellipse((x + 40, 250, x + 160, 330), fill=(236, 160, 40))
    draw.text((60, 40), f"{consignment.reference} - photo de démonstration", fill=(40, 40, 40), font_size=28)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def _step(consignment, node, user, record):
    task = open_task(consignment, node)
    if task is None:
        raise RuntimeError(f"{consignment.reference}: no open {node.name} task")
    task_complete_as(user=user, task=task, record=record, consignment=consignment)
    consignment.refresh_from_db()


def _arrives_soon(consignment: Consignment, staff) -> None:
    """The consignments still waiting for their checks arrive today or tomorrow (their ETA confirmed by the
    post), so that the inspector's day has arrivals."""
    day = timezone.localdate() + datetime.timedelta(days=consignment.pk % 2)
    at = datetime.datetime.combine(day, datetime.time([7, 9, 11, 14, 16][consignment.pk % 5]))
    consignment_arrival_confirm(
        actor=staff,
        consignment=consignment,
        expected_arrival=timezone.make_aware(at),
        source="Grand Port Maritime de la Martinique, vessel schedule",
    )


def _arrived(consignment: Consignment, staff) -> None:
    """The goods are at the post, now (identity and physical checks wait for them): the demo's decided
    consignments have their arrival before their decision, as the dashboard's lead time measures it."""
    consignment_arrival_record(actor=staff, consignment=consignment, arrived_at=timezone.now())
