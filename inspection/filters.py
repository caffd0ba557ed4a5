"""Consignment list filters, shared by the portal and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from inspection.models import Bcp, ChedType, Consignment, ConsignmentStatus


class ConsignmentFilter(django_filters.FilterSet):
    reference = django_filters.CharFilter(label=_("Reference"), lookup_expr="icontains")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ConsignmentStatus.choices, empty_label=_("All"))
    ched_type = django_filters.ModelChoiceFilter(
        label=_("CHED type"),
        field_name="ched_type",
        to_field_name="code",
        queryset=ChedType.objects.all(),
        empty_label=_("All"),
    )
    bcp = django_filters.ModelChoiceFilter(
        label=_("BCP"), field_name="bcp", to_field_name="code", queryset=Bcp.objects.all(), empty_label=_("All")
    )
    arrival_from = django_filters.DateFilter(
        label=_("Arrival from"),
        field_name="expected_arrival",
        lookup_expr="date__gte",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )
    arrival_to = django_filters.DateFilter(
        label=_("Arrival to"),
        field_name="expected_arrival",
        lookup_expr="date__lte",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Consignment
        fields = ["reference", "status", "ched_type", "bcp"]
