"""Task views of the export flow: each validates its form, calls one service, and completes the task (as the
inspection's, `views.TaskFormView`)."""

from django.db.models import Prefetch
from django.utils import timezone

from inspection.errors import TransitionNotAllowed
from inspection.models import ExportApplication, Sample
from inspection.selectors import destination_requirements
from inspection.services.export_decisions import export_decision_record
from inspection.services.export_samples import export_analyses, export_inspection_record
from inspection.services.exports import export_check_record, export_may_issue

from . import export_forms
from .views import LateLabResultView, TaskFormView


class ExportTaskFormView(TaskFormView):
    @property
    def application(self) -> ExportApplication:
        return self.request.activation.process.application

    def summary_context(self) -> dict:
        application = (
            ExportApplication.objects.select_related("operator")
            .prefetch_related(
                "lines",
                "checks",
                Prefetch("samples", queryset=Sample.objects.select_related("analysis", "laboratory", "result")),
            )
            .get(pk=self.request.activation.process.artifact_object_id)
        )
        return {"application": application, "requirements": destination_requirements(application)}


class ExportDocumentaryCheckView(ExportTaskFormView):
    form_class = export_forms.ExportDocumentaryCheckForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "requirements": destination_requirements(self.application)}

    def record(self, form):
        export_check_record(actor=self.request.user, application=self.application, kind="documentary", **form.entered())


class ExportInspectionView(ExportTaskFormView):
    form_class = export_forms.ExportInspectionForm

    def get_form_kwargs(self):
        analyses = export_analyses(self.application, timezone.localdate())
        return {**super().get_form_kwargs(), "analyses": analyses}

    def record(self, form):
        export_inspection_record(actor=self.request.user, application=self.application, **form.entered())


class ExportDecisionView(ExportTaskFormView):
    form_class = export_forms.ExportDecisionForm

    def get_form_kwargs(self):
        try:
            export_may_issue(self.application)
        except TransitionNotAllowed:
            may_issue = False
        else:
            may_issue = True
        return {**super().get_form_kwargs(), "may_issue": may_issue}

    def record(self, form):
        export_decision_record(actor=self.request.user, application=self.application, **form.entered())


class ExportLateLabResultView(ExportTaskFormView, LateLabResultView):
    """A sample's result is late: as for a consignment; without it, the certifying officer may only refuse."""

    form_class = export_forms.ExportLateLabResultForm
