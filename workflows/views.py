"""Task views: each validates its form, calls one service, and completes the task."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.views import generic
from viewflow.workflow.flow.views import mixins

from inspection.applicability import analyses_for_consignment
from inspection.errors import DomainError, DomainInvalid
from inspection.models import Sample
from inspection.selectors import consignment_amendments, consignment_summary, decision_in_force
from inspection.services.checks import documentary_check_record, identity_check_record
from inspection.services.decisions import decision_countersign, decision_record
from inspection.services.escalations import escalation_acknowledge
from inspection.services.follow_up import follow_up_outcomes, follow_up_record
from inspection.services.lab import sample_waive
from inspection.services.onward import arrival_confirm
from inspection.services.sampling import physical_check_record

from . import forms
from .engine import StepRefused
from .receipts import receipt_keep, task_success_url


class TaskFormView(mixins.TaskViewTemplateNames, generic.FormView):
    template_filename = "task.html"
    success_message = _("%(task)s recorded for %(reference)s.")

    @property
    def consignment(self):
        return self.request.activation.process.consignment

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.summary_context()}

    def summary_context(self) -> dict:
        """What the page shows beside the form of what the task is about."""
        # with all its summary shows (by id: the process's `consignment` would be one more read)
        consignment = consignment_summary(self.request.activation.process.artifact_object_id)
        return {"consignment": consignment, "amendments": consignment_amendments(consignment)}

    def record(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.record(form)
        except DomainInvalid as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            raise StepRefused(lambda: self.form_invalid(form)) from exc
        except DomainError as exc:
            form.add_error(None, exc.message)
            raise StepRefused(lambda: self.form_invalid(form)) from exc
        receipt_keep(self.request, self.request.activation.task)
        self.request.activation.execute()
        success_url = task_success_url(self.request)
        messages.success(
            self.request,
            self.success_message
            % {
                "task": self.request.activation.flow_task.task_title,
                "reference": self.request.activation.process.artifact.reference,
            },
        )
        return HttpResponseRedirect(success_url)


class DocumentaryCheckView(TaskFormView):
    form_class = forms.DocumentaryCheckForm

    def get_form_kwargs(self):
        documents = self.consignment.documents.select_related("document_type")
        return {**super().get_form_kwargs(), "documents": documents}

    def record(self, form):
        documentary_check_record(
            actor=self.request.user,
            consignment=self.consignment,
            verdicts=form.verdicts(),
            result=form.cleaned_data["result"],
            reason=form.cleaned_data["reason"],
            photos=form.cleaned_data["photos"],
        )


class IdentityCheckView(TaskFormView):
    form_class = forms.IdentityCheckForm

    def record(self, form):
        identity_check_record(actor=self.request.user, consignment=self.consignment, **form.entered())


class PhysicalCheckView(TaskFormView):
    form_class = forms.PhysicalCheckForm
    template_name = "workflows/physical_check.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("samples", self.samples)
        return context

    def get_form(self, form_class=None):
        data = self.request.POST if self.request.method == "POST" else None
        consignment = self.consignment

        def analyses():  # read once a sample form is drawn (most physical checks take none)
            return analyses_for_consignment(consignment, timezone.localdate())

        self.samples = forms.SampleFormSet(data, prefix="samples", form_kwargs={"analyses": SimpleLazyObject(analyses)})
        return super().get_form(form_class)

    def form_valid(self, form):
        if not self.samples.is_valid():
            return self.form_invalid(form)
        return super().form_valid(form)

    def record(self, form):
        physical_check_record(
            actor=self.request.user,
            consignment=self.consignment,
            samples=[s for s in self.samples.cleaned_data if s],
            **form.entered(),
        )


class DecisionView(TaskFormView):
    form_class = forms.DecisionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "consignment": self.consignment}

    def record(self, form):
        decision_record(actor=self.request.user, consignment=self.consignment, **form.entered())


class CountersignView(TaskFormView):
    form_class = forms.CountersignForm

    def record(self, form):
        decision = decision_in_force(self.consignment)
        decision_countersign(actor=self.request.user, decision=decision, **form.entered())


class LateLabResultView(TaskFormView):
    """A sample's result is late: the supervisor says what was done (chased the lab...) and whether the
    consignment (or export application, `export_views.ExportLateLabResultView`) keeps waiting for it."""

    form_class = forms.LateLabResultForm

    def record(self, form):
        action_taken = form.cleaned_data["action_taken"]
        escalation_acknowledge(
            actor=self.request.user,
            consignment=self.request.activation.process.artifact,  # the consignment, or the export application
            kind="lab_result_late",
            action_taken=action_taken,
        )
        if form.cleaned_data["waive"]:
            sample = Sample.objects.get(pk=self.request.activation.task.data["sample"])
            sample_waive(actor=self.request.user, sample=sample, reason=action_taken)
            from .lab import lab_wait_cancel  # the flow imports these views

            lab_wait_cancel(sample=sample)


class LateDocumentaryCheckView(TaskFormView):
    form_class = forms.EscalationForm

    def record(self, form):
        escalation_acknowledge(
            actor=self.request.user, consignment=self.consignment, kind="documentary_check_late", **form.entered()
        )


class LateFollowUpView(TaskFormView):
    form_class = forms.EscalationForm
    kind = "follow_up_late"

    def record(self, form):
        escalation_acknowledge(actor=self.request.user, consignment=self.consignment, kind=self.kind, **form.entered())


class LateArrivalView(LateFollowUpView):
    """Arrival not confirmed in time: the supervisors investigate (2019/2124 art. 7, 2019/1666 art. 3(4))."""

    kind = "arrival_confirmation_late"


class ArrivalConfirmationView(TaskFormView):
    form_class = forms.ArrivalConfirmationForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "decision": decision_in_force(self.consignment)}

    def record(self, form):
        arrival_confirm(actor=self.request.user, consignment=self.consignment, **form.entered())


class FollowUpView(TaskFormView):
    form_class = forms.FollowUpForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "outcomes": follow_up_outcomes(self.consignment)}

    def record(self, form):
        follow_up_record(actor=self.request.user, consignment=self.consignment, **form.entered())
