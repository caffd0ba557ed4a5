"""The flows of the post, each read top to bottom as its BPMN diagram (`/workflow/<flow>/chart/`):
- `InspectionFlow`, the inspection of a consignment, from submitted Part I to decision and follow-up (the
  README's steps 1-8);
- `ExportFlow`, an export application, from submitted to the phytosanitary certificate issued or refused.

Every step calls one service of `inspection.services`; the gateways only read what those services recorded."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.status import STATUS

from inspection.models import Consignment, ConsignmentStatus, ExportApplication, ExportCheck, ExportStatus, Sample
from inspection.roles import Step
from inspection.selectors import follow_up_needed
from inspection.services.certificates import certificate_issue
from inspection.services.checks import check_plan_record
from inspection.services.export_decisions import export_certificate_issue
from inspection.services.export_samples import EXPORT_SAMPLES_PENDING, export_results_awaited
from inspection.services.lab import consignment_recall, lab_result_late, lab_result_record
from inspection.services.onward import arrival_confirmation_due, arrival_expected

from . import export_views, views
from .engine import CeleryJob, ForEach
from .models import ExportProcess, InspectionProcess
from .roles import StepTask
from .steps import task_cancel
from .timers import documentary_check_deadline

# What a task list shows of each task: the consignment it is about.
SUMMARY = "{{ process.artifact.reference }} · {{ process.artifact.consignor_name }} · {{ process.artifact.bcp.code }}"


class LabWaits:
    """The steps of a wait per sample, shared by the flows that take samples: each declares its `lab_result`
    Handle (`apply_lab_result`), its deadline (`lab_result_due`) escalated to a `late_lab_result` task
    (`mark_result_late`), the supervisors asked again every `PIF_LAB_CHASE_DAYS` while they keep waiting
    (`still_late`, `chase_lab`), and the Join of the waits (`only_escalations_left`)."""

    def apply_lab_result(self, activation, **result):
        return lab_result_record(**result)

    def only_escalations_left(self, activation, active_tasks) -> bool:
        """Every result is in: a supervisor's open "late result" task, or the wait before chasing the lab again,
        is moot (the join cancels it)."""
        return all(task.flow_task in (self.late_lab_result, self.chase_lab) for task in active_tasks)

    def is_result_still_awaited(self, activation) -> bool:
        """The supervisor chose to keep waiting (not to decide without the result), and it has not come."""
        return _sample_of(activation.task).status == Sample.Status.LATE

    def lab_chase_due(self, activation) -> datetime.datetime:
        """When the supervisors are asked again about a result they chose to keep waiting for."""
        return timezone.now() + datetime.timedelta(days=settings.PIF_LAB_CHASE_DAYS)

    def lab_result_due(self, activation) -> datetime.datetime:
        return _sample_of(activation.task).result_due_at

    def mark_result_late(self, activation):
        sample = _sample_of(activation.task)
        activation.task.data = {"sample": sample.pk}
        activation.task.save(update_fields=["data"])
        lab_result_late(sample=sample)


class InspectionFlow(LabWaits, flow.Flow):
    """One consignment's checks at the border control post."""

    process_class = InspectionProcess
    summary_prefetch = ("process__artifact__bcp",)  # what a task list row shows of it (`SUMMARY`)
    lock_impl = lock.select_for_update_lock
    process_title = _("Inspection")
    process_description = _("Checks and decision on a consignment presented at the BCP.")
    process_summary_template = SUMMARY

    # importer (portal or API): Part I is submitted, the inspection starts
    submit = flow.StartHandle(this.start_inspection).Annotation(title=_("Part I submitted")).Next(this.plan_checks)
    # certifying officer: one part of a split consignment, checked as its parent was, comes to its own decision
    split_part = (
        flow.StartHandle(this.start_inspection).Annotation(title=_("Part of a split consignment")).Next(this.decide)
    )

    # system
    plan_checks = flow.Function(this.plan).Annotation(title=_("Plan checks")).Next(this.documentary_check)

    # inspector
    documentary_check = (
        StepTask(views.DocumentaryCheckView.as_view())
        .Annotation(title=_("Documentary check"), summary_template=SUMMARY)
        .Permission(Step.DOCUMENTARY_CHECK)
        .OnTimeout(this.documentary_check_due, this.documentary_check_late, interrupting=False)
        .Next(this.after_documents)
    )
    after_documents = (
        flow.Switch()
        .Annotation(title=_("Documents satisfactory? Which check next?"))
        .Case(this.identity_check, this.needs_identity_check)
        .Case(this.physical_check, this.needs_physical_check)
        .Default(this.decide)
    )
    identity_check = (
        StepTask(views.IdentityCheckView.as_view())
        .Annotation(title=_("Identity check"), summary_template=SUMMARY)
        .Permission(Step.IDENTITY_CHECK)
        .Next(this.after_identity)
    )
    after_identity = (
        flow.Switch()
        .Annotation(title=_("Identity satisfactory? Physical check next?"))
        .Case(this.physical_check, this.needs_physical_check)
        .Default(this.decide)
    )
    physical_check = (
        StepTask(views.PhysicalCheckView.as_view())
        .Annotation(title=_("Physical check and sampling"), summary_template=SUMMARY)
        .Permission(Step.PHYSICAL_CHECK)
        .Next(this.each_released_sample)
    )
    each_released_sample = (
        ForEach()
        .Annotation(title=_("One wait per sample released pending its result"))
        .Each(this.released_result, this.released_samples)
        .Always(this.consignment_detained)
    )
    consignment_detained = (
        flow.If(this.has_detained_samples)
        .Annotation(title=_("Detained for lab results?"))
        .Then(this.each_sample)
        .Else(this.decide)
    )

    # lab: one wait per sample, escalated to the supervisors when the result is late
    each_sample = ForEach().Annotation(title=_("One wait per sample")).Each(this.lab_result, this.detained_samples)
    lab_result = (
        flow.Handle(this.apply_lab_result)
        .Annotation(title=_("Lab result"))
        .OnTimeout(this.lab_result_due, this.late_lab_result, interrupting=False)
        .Next(this.lab_results_in)
    )
    lab_results_in = (
        flow.Join(continue_on_condition=this.only_escalations_left)
        .Annotation(title=_("All results in"))
        .Next(this.decide)
    )
    released_result = (
        flow.Handle(this.apply_lab_result)
        .Annotation(title=_("Lab result (released pending)"))
        .OnTimeout(this.lab_result_due, this.late_released_result, interrupting=False)
        .Next(this.recall_needed)
    )
    recall_needed = (
        flow.If(this.is_recall)
        .Annotation(title=_("Unsatisfactory after release?"))
        .Then(this.recall)
        .Else(this.sample_closed)
    )
    recall = flow.Function(this.recall_consignment).Annotation(title=_("Recall: new decision")).Next(this.decide)
    sample_closed = flow.End()

    # certifying officer
    decide = (
        StepTask(views.DecisionView.as_view())
        .Annotation(title=_("Decision"), summary_template=SUMMARY)
        .Permission(Step.DECISION)
        .Next(this.is_refused)
    )
    is_refused = (
        flow.If(this.is_refusal).Annotation(title=_("Refused?")).Then(this.countersign).Else(this.issue_certificate)
    )

    # supervisor
    countersign = (
        StepTask(views.CountersignView.as_view())
        .Annotation(title=_("Countersign the refusal"), summary_template=SUMMARY)
        .Permission(Step.COUNTERSIGN)
        .Next(this.refusal_confirmed)
    )
    refusal_confirmed = (
        flow.If(this.is_countersigned)
        .Annotation(title=_("Countersigned?"))
        .Then(this.issue_certificate)
        .Else(this.decide)
    )
    late_lab_result = (
        StepTask(views.LateLabResultView.as_view())
        .Annotation(title=_("Late lab result"), summary_template=SUMMARY)
        .Permission(Step.ESCALATION)
        .onCreate(this.mark_result_late)
        .Next(this.still_late)
    )
    still_late = (
        flow.If(this.is_result_still_awaited)
        .Annotation(title=_("Still waiting for the result?"))
        .Then(this.chase_lab)
        .Else(this.lab_results_in)
    )
    chase_lab = flow.Timer(this.lab_chase_due).Annotation(title=_("Ask again later")).Next(this.late_lab_result)
    late_released_result = (
        StepTask(views.LateLabResultView.as_view())
        .Annotation(title=_("Late lab result (released pending)"), summary_template=SUMMARY)
        .Permission(Step.ESCALATION)
        .onCreate(this.mark_result_late)
        .Next(this.released_still_late)
    )
    released_still_late = (
        flow.If(this.is_result_still_awaited)
        .Annotation(title=_("Still waiting for the result?"))
        .Then(this.chase_released)
        .Else(this.escalation_closed)
    )
    # no join cancels this wait when the result comes: the timer asks again first
    chase_released = flow.Timer(this.lab_chase_due).Annotation(title=_("Ask again later")).Next(this.released_chase_due)
    released_chase_due = (
        flow.If(this.is_result_still_awaited)
        .Annotation(title=_("Result still awaited?"))
        .Then(this.late_released_result)
        .Else(this.escalation_closed)
    )
    follow_up_late = (
        StepTask(views.LateFollowUpView.as_view())
        .Annotation(title=_("Follow-up overdue"), summary_template=SUMMARY)
        .Permission(Step.ESCALATION)
        .Next(this.escalation_closed)
    )
    documentary_check_late = (
        StepTask(views.LateDocumentaryCheckView.as_view())
        .Annotation(title=_("Documentary check not started"), summary_template=SUMMARY)
        .Permission(Step.ESCALATION)
        .Next(this.escalation_closed)
    )
    escalation_closed = flow.End()

    # system
    issue_certificate = CeleryJob(this.issue).Annotation(title=_("Issue certificate")).Next(this.needs_follow_up)
    needs_follow_up = (
        flow.Switch()
        .Annotation(title=_("Sent on to a control point? Refused or channelled?"))
        .Case(this.confirm_arrival, this.is_arrival_expected)
        .Case(this.follow_up, this.is_follow_up_needed)
        .Default(this.end)
    )

    # the receiving side: the authority of the control point, establishment or warehouse (Part III)
    confirm_arrival = (
        StepTask(views.ArrivalConfirmationView.as_view())
        .Annotation(title=_("Arrival confirmed at the control point"), summary_template=SUMMARY)
        .Permission(Step.ARRIVAL_CONFIRMATION)
        .OnTimeout(this.arrival_confirmation_due, this.arrival_late, interrupting=False)
        .Next(this.end)
    )
    arrival_late = (
        StepTask(views.LateArrivalView.as_view())
        .Annotation(title=_("Arrival at the control point not confirmed"), summary_template=SUMMARY)
        .Permission(Step.ESCALATION)
        .Next(this.escalation_closed)
    )

    # inspector
    follow_up = (
        StepTask(views.FollowUpView.as_view())
        .Annotation(title=_("Follow-up (Part III)"), summary_template=SUMMARY)
        .Permission(Step.FOLLOW_UP)
        .OnTimeout(this.follow_up_due, this.follow_up_late, interrupting=False)
        .Next(this.end)
    )
    end = flow.End()

    # ---- steps: each calls one service
    def start_inspection(self, activation, consignment: Consignment):
        activation.process.artifact = consignment
        return activation.process

    def plan(self, activation):
        check_plan_record(consignment=activation.process.consignment)

    def recall_consignment(self, activation):
        consignment_recall(sample=_sample_of(activation.task))
        # a follow-up of the superseded decision (channelled goods) has nothing left to follow
        open_follow_ups = activation.process.task_set.filter(
            flow_task__in=[self.follow_up, self.confirm_arrival], status__in=[STATUS.NEW, STATUS.ASSIGNED]
        )
        for task in open_follow_ups:
            task_cancel(task)

    def issue(self, activation):
        certificate_issue(consignment=activation.process.consignment)

    # ---- gateways: read what the services recorded (`consignment_awaits` says what is outstanding)
    def needs_identity_check(self, activation) -> bool:
        """Reached after the documentary check: identity comes first when the plan selected it."""
        consignment = activation.process.consignment
        return consignment.status == ConsignmentStatus.CHECKING and consignment.check_plan.identity_selected

    def needs_physical_check(self, activation) -> bool:
        """Still checking once the documentary and identity checks are satisfactory: the physical check."""
        return activation.process.consignment.status == ConsignmentStatus.CHECKING

    def released_samples(self, activation) -> list[dict]:
        samples = activation.process.consignment.samples.filter(detained=False, status=Sample.Status.AWAITING)
        return [{"sample": pk} for pk in samples.values_list("pk", flat=True)]

    def is_recall(self, activation) -> bool:
        """A result that is not satisfactory for a consignment already released re-opens it."""
        sample = _sample_of(activation.task)  # the gateway's task, reached from the sample's wait
        return sample.consignment.status == ConsignmentStatus.ACCEPTED and sample.result.conclusion != "satisfactory"

    def has_detained_samples(self, activation) -> bool:
        return activation.process.consignment.status == ConsignmentStatus.AWAITING_LAB

    def detained_samples(self, activation) -> list[dict]:
        samples = activation.process.consignment.samples.filter(detained=True, status=Sample.Status.AWAITING)
        return [{"sample": pk} for pk in samples.values_list("pk", flat=True)]

    def is_refusal(self, activation) -> bool:
        return activation.process.consignment.status == ConsignmentStatus.AWAITING_COUNTERSIGN

    def is_countersigned(self, activation) -> bool:
        return activation.process.consignment.status == ConsignmentStatus.REFUSED

    def is_follow_up_needed(self, activation) -> bool:
        return follow_up_needed(activation.process.consignment)

    def is_arrival_expected(self, activation) -> bool:
        """Goods sent on to a named place: its arrival confirmed is their Part III (no follow-up besides)."""
        return arrival_expected(activation.process.consignment)

    # ---- deadlines (fired by celery beat through `workflows.tasks.workflow_timers_fire`)
    def documentary_check_due(self, activation) -> datetime.datetime:
        """One hour before arrival, the documentary check should have started (moved with the arrival:
        `timers.arrival_deadlines_rearm`)."""
        return documentary_check_deadline(activation.process.consignment)

    def follow_up_due(self, activation) -> datetime.datetime:
        """The end of the measure's deadline day (Martinique time); 30 days for a channelled consignment."""
        decision = activation.process.consignment.decisions.filter(superseded=False).last()
        if decision is None or decision.measure_deadline is None:
            return timezone.now() + datetime.timedelta(days=30)
        day_after = datetime.datetime.combine(decision.measure_deadline + datetime.timedelta(days=1), datetime.time())
        return timezone.make_aware(day_after)

    def arrival_confirmation_due(self, activation) -> datetime.datetime:
        """15 days from the decision (`PIF_ARRIVAL_CONFIRMATION_DAYS`), then the supervisors investigate."""
        return arrival_confirmation_due(activation.process.consignment)


def _sample_of(task) -> Sample:
    """The sample a lab wait (or its timer, or its escalation) is about: the nearest task carrying it."""
    while "sample" not in (task.data or {}):
        task = task.previous.get()
    return Sample.objects.select_related("consignment", "application").get(pk=task.data["sample"])


# What a task list shows of an export task: the application it is about.
EXPORT_SUMMARY = (
    "{{ process.artifact.reference }} · {{ process.artifact.consignee_name }} · "
    "{{ process.artifact.destination_country.name }}"
)


class ExportFlow(LabWaits, flow.Flow):
    """One application for a phytosanitary certificate (ISPM 12, export or re-export of goods that came in under
    a CHED-PP): the post checks the consignment, a certifying officer issues the certificate or refuses it."""

    process_class = ExportProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Export certificate")
    process_description = _("Checks of an export consignment and its phytosanitary certificate (ISPM 12).")
    process_summary_template = EXPORT_SUMMARY
    summary_prefetch = ("process__artifact",)

    # exporter (portal or API): the application is submitted
    submit = (
        flow.StartHandle(this.start_export).Annotation(title=_("Application submitted")).Next(this.documentary_check)
    )

    # inspector
    documentary_check = (
        StepTask(export_views.ExportDocumentaryCheckView.as_view())
        .Annotation(title=_("Documentary check (export)"), summary_template=EXPORT_SUMMARY)
        .Permission(Step.DOCUMENTARY_CHECK)
        .Next(this.documents_ok)
    )
    documents_ok = (
        flow.If(this.is_documentary_check_satisfactory)
        .Annotation(title=_("Documents and the destination's requirements satisfactory?"))
        .Then(this.inspection)
        .Else(this.decide)
    )
    inspection = (
        StepTask(export_views.ExportInspectionView.as_view())
        .Annotation(title=_("Inspection of the export consignment"), summary_template=EXPORT_SUMMARY)
        .Permission(Step.PHYSICAL_CHECK)
        .Next(this.samples_taken)
    )
    samples_taken = (
        flow.If(this.has_samples_awaiting)
        .Annotation(title=_("Samples awaiting a lab result?"))
        .Then(this.each_sample)
        .Else(this.decide)
    )

    # lab: one wait per sample, escalated to the supervisors when the result is late
    each_sample = ForEach().Annotation(title=_("One wait per sample")).Each(this.lab_result, this.awaited_samples)
    lab_result = (
        flow.Handle(this.apply_lab_result)
        .Annotation(title=_("Lab result"))
        .OnTimeout(this.lab_result_due, this.late_lab_result, interrupting=False)
        .Next(this.lab_results_in)
    )
    lab_results_in = (
        flow.Join(continue_on_condition=this.only_escalations_left)
        .Annotation(title=_("All results in"))
        .Next(this.decide)
    )

    # supervisor
    late_lab_result = (
        StepTask(export_views.ExportLateLabResultView.as_view())
        .Annotation(title=_("Late lab result"), summary_template=EXPORT_SUMMARY)
        .Permission(Step.ESCALATION)
        .onCreate(this.mark_result_late)
        .Next(this.still_late)
    )
    still_late = (
        flow.If(this.is_result_still_awaited)
        .Annotation(title=_("Still waiting for the result?"))
        .Then(this.chase_lab)
        .Else(this.lab_results_in)
    )
    chase_lab = flow.Timer(this.lab_chase_due).Annotation(title=_("Ask again later")).Next(this.late_lab_result)

    # certifying officer
    decide = (
        StepTask(export_views.ExportDecisionView.as_view())
        .Annotation(title=_("Issue or refuse the certificate"), summary_template=EXPORT_SUMMARY)
        .Permission(Step.DECISION)
        .Next(this.to_issue)
    )
    to_issue = (
        flow.If(this.is_issue_decided)
        .Annotation(title=_("Certificate to issue?"))
        .Then(this.issue_certificate)
        .Else(this.refused)
    )
    refused = flow.End()

    # system: the ISPM 12 PDF (export or re-export model) and its ePhyto XML, signed by a worker
    issue_certificate = CeleryJob(this.issue).Annotation(title=_("Issue the phytosanitary certificate")).Next(this.end)
    end = flow.End()

    # ---- steps: each calls one service
    def start_export(self, activation, application: ExportApplication):
        activation.process.artifact = application
        return activation.process

    def issue(self, activation):
        export_certificate_issue(application=activation.process.application)

    # ---- gateways: read what the services recorded
    def is_documentary_check_satisfactory(self, activation) -> bool:
        """Not satisfactory: nothing to inspect, the certifying officer refuses."""
        satisfactory = ExportCheck.objects.filter(
            application_id=activation.process.artifact_object_id,
            kind=ExportCheck.Kind.DOCUMENTARY,
            result=ExportCheck.Result.SATISFACTORY,
        )
        return satisfactory.exists()

    def has_samples_awaiting(self, activation) -> bool:
        return export_results_awaited(activation.process.artifact_object_id)

    def awaited_samples(self, activation) -> list[dict]:
        samples = activation.process.application.samples.filter(status__in=EXPORT_SAMPLES_PENDING)
        return [{"sample": pk} for pk in samples.values_list("pk", flat=True)]

    def is_issue_decided(self, activation) -> bool:
        """The officer decided the issue (`export_decision_record`): still checking, with its officer; read
        again, as the decision's service locked and changed its own copy of the application."""
        decided = ExportApplication.objects.filter(
            pk=activation.process.artifact_object_id, status=ExportStatus.CHECKING, decided_by__isnull=False
        )
        return decided.exists()
