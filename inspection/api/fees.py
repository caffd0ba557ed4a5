"""`GET /api/v1/fees/`: the fee statements of the caller's company (Regulation (EU) 2017/625, art. 79)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics

from inspection.selectors import fees_visible_to

from .serializers import FeeStatementSerializer


class FeeStatementListView(generics.ListAPIView):
    serializer_class = FeeStatementSerializer

    def get_queryset(self):
        return fees_visible_to(self.request.user)

    @extend_schema(
        summary="The company's fee statements, newest first",
        description=(
            "One statement a consignment, drawn when the officer decides and shown once the decision is in force "
            "(a refusal once countersigned). Paginated like the consignments (`?page=`). Staff see every "
            "statement; an importer only the company's."
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
