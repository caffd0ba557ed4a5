"""Forms of the export steps. They check types; the rules are the services' (`inspection.services.exports`,
`inspection.services.export_decisions`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inspection.models import ExportCheck, Laboratory, Sample

from .forms import LateLabResultForm, TaskForm, _coded, _named

BLANK = [("", "—")]

EXPORT_RESULT = forms.ChoiceField(label=_("Result"), choices=ExportCheck.Result.choices, widget=forms.RadioSelect)
NOTES = forms.CharField(
    label=_("Findings (required when not satisfactory)"),
    required=False,
    max_length=2000,
    widget=forms.Textarea(attrs={"rows": 3}),
)


class ExportDocumentaryCheckForm(TaskForm):
    """The documents, and each requirement of the destination in force, confirmed one by one."""

    requirements_met = forms.MultipleChoiceField(
        label=_("The destination's requirements, each confirmed"), required=False, widget=forms.CheckboxSelectMultiple
    )
    result = EXPORT_RESULT
    notes = NOTES

    def __init__(self, *args, requirements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirements_met"].choices = [
            (str(r.pk), f"{r.get_kind_display()}: {r.text}") for r in requirements
        ]
        if not requirements:
            del self.fields["requirements_met"]

    def entered(self) -> dict:
        return {"requirements_met": [], **super().entered()}


class ExportInspectionForm(TaskForm):
    """The inspection of the consignment (ISPM 23): free from quarantine pests and conforming to the
    destination's requirements, or not, with what was found; and, when an analysis is chosen, the sample taken
    for it (the certificate then waits for its result)."""

    result = EXPORT_RESULT
    notes = NOTES
    sample_analysis = forms.ChoiceField(label=_("Sample: analysis (none: no sample)"), required=False)
    sample_laboratory = forms.ChoiceField(label=_("Sample: laboratory"), required=False)
    sample_reason = forms.ChoiceField(label=_("Sample: why"), required=False, choices=BLANK + Sample.Reason.choices)
    sample_conservation = forms.ChoiceField(
        label=_("Sample: conservation"), required=False, choices=BLANK + Sample.Conservation.choices
    )

    def __init__(self, *args, analyses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample_analysis"].choices = BLANK + _named(analyses)
        self.fields["sample_laboratory"].choices = BLANK + _coded(Laboratory)

    def entered(self) -> dict:
        data = self.cleaned_data
        sample = None
        if data["sample_analysis"]:
            sample = {name: data[f"sample_{name}"] for name in ("analysis", "laboratory", "reason", "conservation")}
        return {"result": data["result"], "notes": data["notes"], "sample": sample}


class ExportDecisionForm(TaskForm):
    """Offers "issue" only after a satisfactory documentary check and inspection (the service refuses it
    otherwise)."""

    ISSUE, REFUSE = "issue", "refuse"

    decision = forms.ChoiceField(
        label=_("Phytosanitary certificate"),
        choices=[(ISSUE, _("Issue the certificate")), (REFUSE, _("Refuse the certificate"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason for refusal (the exporter reads it)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, may_issue: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_issue:
            self.fields["decision"].choices = [c for c in self.fields["decision"].choices if c[0] == self.REFUSE]

    def entered(self) -> dict:
        return {"issue": self.cleaned_data["decision"] == self.ISSUE, "reason": self.cleaned_data["reason"]}


class ExportLateLabResultForm(LateLabResultForm):
    """A late result of an export sample: the application keeps waiting, or goes to the certifying officer, who
    may then only refuse the certificate (`export_may_issue`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        waive = self.fields["waive"]
        waive.label = _("The export application")
        waive.choices = [
            ("0", _("Keeps waiting for the result")),
            ("1", _("Goes to the certifying officer without it (the certificate can then only be refused)")),
        ]
