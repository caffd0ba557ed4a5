"""Forms of the inspection steps. They check types; the rules are the services'."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_countries import countries

from inspection.applicability import (
    acceptance_blockers,
    decision_codes_for,
    for_ched_type,
    measures_for,
    refusal_reasons_for,
)
from inspection.models import Analysis, CheckResult, ControlPoint, FollowUp, Laboratory, Sample
from inspection.services.photos import PHOTOS_PER_CHECK_MAX

from .pickers import SearchableCheckboxes
from .widgets import PhotoInput

RESULT = forms.ChoiceField(label=_("Result"), choices=CheckResult.choices, widget=forms.RadioSelect)
REASON = forms.CharField(
    label=_("Reason (required when not satisfactory)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
)


class TaskForm(forms.Form):
    """A task form: its idempotency key is drawn with it and kept by the tablet's draft (`receipts.py`)."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)

    def entered(self) -> dict:
        """What the user entered, for the step's service."""
        return {name: value for name, value in self.cleaned_data.items() if name != "idempotency_key"}


class PhotosField(forms.FileField):
    """A list of uploaded photos (Django's "Uploading multiple files"); the check service decides what a photo
    is, and refuses the lot with a message on `photos`."""

    widget = PhotoInput

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Photos"),
            required=False,
            help_text=ngettext_lazy(
                "Up to %(max)d photo (JPEG, PNG or WebP). Its location and other metadata are removed.",
                "Up to %(max)d photos (JPEG, PNG or WebP). Their location and other metadata are removed.",
                "max",
            )
            % {"max": PHOTOS_PER_CHECK_MAX},
            **kwargs,
        )

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(file, initial) for file in files if file]


def _coded(model):
    return _named(model.objects.in_force(timezone.localdate()))


def _named(rows):
    return [(row.code, str(row.name)) for row in rows]


class DocumentaryCheckForm(TaskForm):
    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = list(documents)
        for document in self.documents:
            label = f"{document.document_type.name} {document.reference}"
            self.fields[f"doc_{document.pk}_present"] = forms.BooleanField(
                label=_("%(document)s: present") % {"document": label}, required=False
            )
            self.fields[f"doc_{document.pk}_valid"] = forms.BooleanField(
                label=_("%(document)s: valid") % {"document": label}, required=False
            )
        self.fields["result"] = RESULT
        self.fields["reason"] = REASON
        self.fields["photos"] = PhotosField()

    def verdicts(self) -> dict[int, tuple[bool, bool]]:
        data = self.cleaned_data
        return {d.pk: (data[f"doc_{d.pk}_present"], data[f"doc_{d.pk}_valid"]) for d in self.documents}


class IdentityCheckForm(TaskForm):
    seals_as_declared = forms.BooleanField(label=_("Seal numbers as declared"), required=False)
    goods_as_declared = forms.BooleanField(label=_("Goods as declared"), required=False)
    result = RESULT
    reason = REASON
    photos = PhotosField()


class PhysicalCheckForm(TaskForm):
    result = RESULT
    findings = forms.CharField(label=_("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = REASON
    photos = PhotosField()


class SampleForm(forms.Form):
    analysis = forms.ChoiceField(label=_("Analysis"))
    laboratory = forms.ChoiceField(label=_("Laboratory"))
    reason = forms.ChoiceField(label=_("Why"), choices=Sample.Reason.choices)
    conservation = forms.ChoiceField(label=_("Conservation"), choices=Sample.Conservation.choices)
    detained = forms.TypedChoiceField(
        label=_("Consignment"),
        choices=[("1", _("Detained until the result")), ("0", _("Released pending the result"))],
        coerce=lambda v: v == "1",
    )

    def __init__(self, *args, analyses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analysis"].choices = _named(analyses) if analyses is not None else _coded(Analysis)
        self.fields["laboratory"].choices = _coded(Laboratory)


SampleFormSet = forms.formset_factory(SampleForm, extra=0, max_num=10)


class DecisionForm(TaskForm):
    """Offers only the decisions, measures and reasons of the consignment's CHED type, and no acceptable
    decision after a check or a sample result that was not satisfactory; the details a decision requires
    (`DecisionCode.requires`) are asked of the decisions that need them."""

    code = forms.ChoiceField(label=_("Decision"))
    exit_bcp = forms.CharField(label=_("Exit BCP (transit, temporary admission)"), required=False, max_length=100)
    destination_country = forms.ChoiceField(
        label=_("Third country of destination (transit, transhipment)"), required=False
    )
    arrival_point = forms.ChoiceField(
        label=_("Control point, establishment or warehouse (channelled, transfer, onward transportation, warehouse)"),
        required=False,
    )
    next_bcp = forms.CharField(
        label=_("Next BCP on the same vessel or aircraft (onward travel)"), required=False, max_length=100
    )
    onward_facility = forms.CharField(
        label=_("Onward transportation facility (onward transportation)"), required=False, max_length=300
    )
    measure = forms.ChoiceField(label=_("Measure (refusal)"), required=False)
    measure_deadline = forms.DateField(
        label=_("Deadline for the measure"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reasons = forms.MultipleChoiceField(label=_("Reasons (refusal)"), required=False, widget=SearchableCheckboxes)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, consignment, **kwargs):
        super().__init__(*args, **kwargs)
        today, ched_type = timezone.localdate(), consignment.ched_type_id
        codes = decision_codes_for(ched_type, today)
        failed_checks, failed_sample = acceptance_blockers(consignment)
        if failed_checks or failed_sample:  # only a refusal can follow
            codes = codes.filter(acceptable=False)
        self.fields["code"].choices = _named(codes)
        self.fields["destination_country"].choices = [("", "—"), *countries]
        points = for_ched_type(ControlPoint.objects.in_force(today), ched_type)
        self.fields["arrival_point"].choices = [
            ("", "—"),
            *((p.code, f"{p.code} – {p.name} ({p.get_kind_display()})") for p in points),
        ]
        self.fields["measure"].choices = [("", "—"), *_named(measures_for(ched_type, today))]
        self.fields["reasons"].choices = _named(refusal_reasons_for(ched_type, today))


class CountersignForm(TaskForm):
    approve = forms.TypedChoiceField(
        label=_("Refusal"),
        choices=[("1", _("Countersign: the consignment is refused")), ("0", _("Send back to the officer"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EscalationForm(TaskForm):
    action_taken = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))


class LateLabResultForm(EscalationForm):
    waive = forms.TypedChoiceField(
        label=_("The consignment"),
        choices=[("0", _("Keeps waiting for the result")), ("1", _("Is decided without this result"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
        required=False,
        empty_value=False,
    )


class FollowUpForm(TaskForm):
    """Offers the outcomes that close the decision: its measure's, or arrival for channelled goods."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUp.Outcome.choices)
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, outcomes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if outcomes:
            self.fields["outcome"].choices = [c for c in FollowUp.Outcome.choices if c[0] in outcomes]


class ArrivalConfirmationForm(TaskForm):
    """The receiving side's Part III: the goods arrived (when, seals intact or not), or did not."""

    arrived = forms.TypedChoiceField(
        label=_("The goods"),
        choices=[("1", _("Arrived")), ("0", _("Did not arrive"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    arrived_on = forms.DateField(
        label=_("Date of arrival"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    seals_intact = forms.TypedChoiceField(
        label=_("Seals"),
        choices=[("", "—"), ("1", _("Intact")), ("0", _("Not intact"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, decision=None, **kwargs):
        super().__init__(*args, **kwargs)
        point = decision.arrival_point if decision is not None else None
        if point is not None:
            self.fields["arrived"].help_text = _("At %(place)s, %(address)s (%(code)s).") % {
                "place": point.name,
                "address": point.address,
                "code": point.code,
            }
