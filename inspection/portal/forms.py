"""The importer's Part I form. Fields check types only; the rules are the service's, and its field-level
errors are put back on these fields by `attach_errors`."""

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from inspection import part_one_schema
from inspection.models import (
    MAX_NUMBER_OF_ANIMALS,
    Bcp,
    ChedType,
    DocumentType,
    NotificationKind,
    PackageType,
    Purpose,
    TransportMode,
)

# The form's names of the Part I fields it holds (the top level and the groups: consignor, arrival...).
MAIN_FIELDS = [f for f in part_one_schema.PART_ONE if not f.on_line]
LINE_FIELDS = part_one_schema.fields(line=True)


DATETIME_INPUTS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


def _choices(queryset, label=lambda o: o.name):
    return [("", "—")] + [(o.code, label(o)) for o in queryset]


def _country_choices():
    return [("", "—")] + [(code, name) for code, name in countries]


def schema_form_field(field: part_one_schema.PartOneField) -> forms.Field:
    """A form field for a Part I field of the schema that the form does not lay out by hand: labelled with its
    box number and its column's verbose name, typed only (the rules are the service's)."""
    label = f"{field.number} {capfirst(field.label)}"
    types = ", ".join(sorted(field.ched_types))
    help_text = "" if field.ched_types == part_one_schema.ALL else types
    if field.kind == "decimal":
        return forms.DecimalField(
            label=label,
            max_digits=12,
            decimal_places=3,
            required=False,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
        )
    if field.kind == "datetime":
        return forms.DateTimeField(
            label=label,
            required=False,
            help_text=help_text,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=DATETIME_INPUTS,
        )
    if field.kind == "country":
        return forms.ChoiceField(label=label, choices=_country_choices, required=False, help_text=help_text)
    if field.kind == "choice":
        return forms.ChoiceField(label=label, choices=[("", "—"), *field.choices], required=False, help_text=help_text)
    widget = forms.Textarea(attrs={"rows": 2}) if field.kind == "long_text" else None
    return forms.CharField(label=label, max_length=field.max_length, required=False, help_text=help_text, widget=widget)


class PartOneForm(forms.Form):
    ched_type = forms.ChoiceField(label=_("CHED type"), required=False)
    bcp = forms.ChoiceField(label=_("Border control post"), required=False)
    consignor_name = forms.CharField(label=_("Consignor (exporter)"), max_length=200, required=False)
    consignor_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    consignor_country = forms.ChoiceField(label=_("Country"), required=False)
    consignee_name = forms.CharField(label=_("Consignee (importer)"), max_length=200, required=False)
    consignee_address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    consignee_country = forms.ChoiceField(label=_("Country"), required=False)
    country_of_origin = forms.ChoiceField(label=_("Country of origin"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False)
    expected_at = forms.DateTimeField(
        label=_("Expected arrival (Martinique time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_INPUTS,
    )
    transport_mode = forms.ChoiceField(
        label=_("Transport mode"), choices=[("", "—"), *TransportMode.choices], required=False
    )
    transport_id = forms.CharField(label=_("Vessel or flight"), max_length=100, required=False)
    transport_document = forms.CharField(label=_("Bill of lading / air waybill"), max_length=100, required=False)

    def __init__(self, *args, fixed_ched_type: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["ched_type"].choices = _choices(ChedType.objects.all(), lambda o: f"{o.code} – {o.name}")
        if fixed_ched_type:
            self.fields["ched_type"].disabled = True
            self.fields["ched_type"].initial = fixed_ched_type
        self.fields["bcp"].choices = _choices(Bcp.objects.in_force(today))
        self.fields["purpose"].choices = _choices(Purpose.objects.in_force(today))
        for name in ("consignor_country", "consignee_country", "country_of_origin"):
            self.fields[name].choices = _country_choices()
        # the boxes the form does not lay out by hand, from the schema; only those of the chosen CHED type
        self.box_fields = []
        for field in MAIN_FIELDS:
            if field.form_name in self.fields or (fixed_ched_type and not field.applies_to(fixed_ched_type)):
                continue
            self.fields[field.form_name] = schema_form_field(field)
            self.box_fields.append(field.form_name)

    def boxes(self):
        """The bound fields of the boxes laid out from the schema (the template's "Other boxes" section)."""
        return [self[name] for name in self.box_fields]


class ContainerForm(forms.Form):
    number = forms.CharField(label=_("Container number"), max_length=20, required=False)
    seal = forms.CharField(label=_("Seal number"), max_length=40, required=False)


class CommodityLineForm(forms.Form):
    cn_code = forms.CharField(
        label=_("CN code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"list": "cn-codes", "inputmode": "numeric", "autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    species = forms.CharField(label=_("Species"), max_length=200, required=False)
    eppo_code = forms.CharField(label=_("EPPO code"), max_length=12, required=False)
    net_weight_kg = forms.DecimalField(
        label=_("Net weight (kg)"),
        max_digits=12,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )
    packages = forms.IntegerField(label=_("Packages"), min_value=0, required=False)
    package_type = forms.ChoiceField(label=_("Package type"), required=False)
    number_of_animals = forms.IntegerField(
        label=_("Number of animals (CHED-A)"), min_value=1, max_value=MAX_NUMBER_OF_ANIMALS, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package_type"].choices = _choices(PackageType.objects.in_force(timezone.localdate()))
        for field in LINE_FIELDS:
            if field.key not in self.fields:
                self.fields[field.key] = schema_form_field(field)


class DocumentForm(forms.Form):
    type = forms.ChoiceField(label=_("Document type"), required=False)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _choices(DocumentType.objects.in_force(timezone.localdate()))


ContainerFormSet = forms.formset_factory(ContainerForm, extra=1, can_delete=True)
CommodityLineFormSet = forms.formset_factory(CommodityLineForm, extra=1, can_delete=True)
DocumentFormSet = forms.formset_factory(DocumentForm, extra=1, can_delete=True)
SECTIONS = (
    ("containers", ContainerFormSet),
    ("commodities", CommodityLineFormSet),
    ("accompanying_documents", DocumentFormSet),
)


class PartOneForms:
    """The main form and its three formsets, as one unit that turns into a Part I dict and back."""

    def __init__(self, data=None, *, part: dict | None = None, fixed_ched_type: str | None = None):
        part = part or {}
        self.form = PartOneForm(data, initial=_flat_initial(part), fixed_ched_type=fixed_ched_type)
        self.formsets = {
            name: formset_class(data, prefix=name, initial=part.get(name) or None) for name, formset_class in SECTIONS
        }
        self.section_errors: dict[str, list[str]] = {}
        self._indices: dict[str, list[int]] = {}

    def is_valid(self) -> bool:
        return self.form.is_valid() and all(fs.is_valid() for fs in self.formsets.values())

    def part_one(self) -> dict:
        data = self.form.cleaned_data
        part: dict = {}
        for field in MAIN_FIELDS:
            if field.form_name in data:
                part_one_schema.put(part, field, data[field.form_name])
        for group in part_one_schema.GROUPS:
            part.setdefault(group, {})
        for name, formset in self.formsets.items():
            rows, indices = [], []
            for i, form in enumerate(formset.forms):
                row = {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
                if form.cleaned_data.get("DELETE") or not any(v not in (None, "") for v in row.values()):
                    continue
                rows.append(row)
                indices.append(i)
            part[name], self._indices[name] = rows, indices
        return part

    def attach_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's `{path: messages}` on the field each path names."""
        for path, messages in errors.items():
            keys = path.split(".")
            if keys[0] in self.formsets:
                if len(keys) == 1:
                    self.section_errors.setdefault(keys[0], []).extend(messages)
                else:
                    form = self.formsets[keys[0]].forms[self._indices[keys[0]][int(keys[1])]]
                    for message in messages:
                        form.add_error(keys[2], message)
                continue
            schema_field = part_one_schema.BY_PATH.get(path)
            field = schema_field.form_name if schema_field else keys[-1]
            for message in messages:
                self.form.add_error(field if field in self.form.fields else None, message)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors or self.section_errors or any(fs.total_error_count() for fs in self.formsets.values())
        )


def _flat_initial(part: dict) -> dict:
    initial = {field.form_name: part_one_schema.get(part, field) for field in MAIN_FIELDS}
    for name in ("expected_at", "after_bcp_departure_at"):
        if initial.get(name):
            initial[name] = timezone.localtime(initial[name])
    return {k: v for k, v in initial.items() if v not in (None, "")}


class DocumentUploadForm(forms.Form):
    """An accompanying document's file. The type of file is checked by the service, on its content."""

    type = forms.ChoiceField(label=_("Document type"))
    reference = forms.CharField(label=_("Document number"), max_length=100, required=False)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _choices(DocumentType.objects.in_force(timezone.localdate()))


class EphytoImportForm(forms.Form):
    file = forms.FileField(
        label=_("ePhyto certificate (XML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )


class CommodityLinesImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
    replace = forms.BooleanField(label=_("Replace the lines already entered"), required=False)


class NotificationChoicesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Email me when"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class WebhookForm(forms.Form):
    webhook_url = forms.URLField(
        label=_("Webhook URL (HTTPS)"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for no webhook."),
    )
    new_secret = forms.BooleanField(label=_("Make a new signing secret"), required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the system that will use it"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. our ERP")}),
    )
