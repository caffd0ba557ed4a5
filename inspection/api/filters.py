"""The consignment list's filters as the API declares them: the portal's, with `ched_type` an enum of the codes
and `bcp` a plain code (an unknown one finds nothing), so that every value the schema allows is answered."""

import django_filters
from django.utils.translation import gettext_lazy as _

from inspection.filters import ConsignmentFilter

from .serializers import CHED_TYPE_CODES


class ConsignmentApiFilter(ConsignmentFilter):
    ched_type = django_filters.ChoiceFilter(
        label=_("CHED type"), field_name="ched_type__code", choices=[(code, code) for code in CHED_TYPE_CODES]
    )
    bcp = django_filters.CharFilter(
        label=_("BCP"), field_name="bcp__code", help_text="A BCP's code (`GET /api/v1/reference/bcps/`)."
    )
