"""Task views of the export flow: each validates its form, calls one service, and completes the task (as the
inspection's, `views.TaskFormView`)."""

from inspection.errors import TransitionNotAllowed
from inspection.models import ExportApplication
from inspection.selectors import destination_requirements
from inspection.services.export_decisions import export_decision_record
from inspection.services.exports import export_check_record, export_may_issue

from . import export_forms
from .views import TaskFormView


class ExportTaskFormView(TaskFormView):
    @property
    def application(self) -> ExportApplication:
        return self.request.activation.process.application

    def summary_context(self) -> dict:
        application = (
            ExportApplication.objects.select_related("operator")
            .prefetch_related("lines", "checks")
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

    def record(self, form):
        export_check_record(actor=self.request.user, application=self.application, kind="inspection", **form.entered())


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
