"""Audit search filters."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from inspection.models import AuditAction, AuditEvent, Bcp, ChedType, CommodityLine

DATE = django_filters.widgets.forms.DateInput(attrs={"type": "date"})


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(label=_("Actor"), field_name="actor__username", lookup_expr="iexact")
    action = django_filters.ChoiceFilter(label=_("Step"), choices=AuditAction.choices, empty_label=_("All"))
    outcome = django_filters.CharFilter(label=_("Outcome"), method="filter_outcome")
    occurred_from = django_filters.DateFilter(
        label=_("From"), field_name="occurred_at", lookup_expr="date__gte", widget=DATE
    )
    occurred_to = django_filters.DateFilter(
        label=_("To"), field_name="occurred_at", lookup_expr="date__lte", widget=DATE
    )
    ched_type = django_filters.ModelChoiceFilter(
        label=_("CHED type"),
        field_name="consignment__ched_type",
        to_field_name="code",
        queryset=ChedType.objects.all(),
        empty_label=_("All"),
    )
    bcp = django_filters.ModelChoiceFilter(
        label=_("BCP"),
        field_name="consignment__bcp",
        to_field_name="code",
        queryset=Bcp.objects.all(),
        empty_label=_("All"),
    )
    commodity = django_filters.CharFilter(label=_("CN code"), method="filter_commodity")
    origin = django_filters.CharFilter(label=_("Origin (ISO code)"), method="filter_origin")
    reference = django_filters.CharFilter(
        label=_("Reference"), field_name="consignment__reference", lookup_expr="icontains"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def filter_outcome(self, queryset, name, value):
        """The result of a check, the conclusion of a lab result, or the status a consignment moved to."""
        value = value.strip()
        return queryset.filter(Q(data__result=value) | Q(data__conclusion=value) | Q(data__to=value))

    def filter_commodity(self, queryset, name, value):
        lines = CommodityLine.objects.filter(consignment=OuterRef("consignment"), cn_code__startswith=value.strip())
        return queryset.filter(Exists(lines))

    def filter_origin(self, queryset, name, value):
        return queryset.filter(consignment__country_of_origin=value.strip().upper())
