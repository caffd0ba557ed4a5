"""The CHEDs that follow a CHED: a replacement (`POST /consignments/{reference}/replace/`) and the parts of a
split (`POST /consignments/{reference}/split/`). Actions of `ConsignmentViewSet`, thin over
`services/replacements.py` and `services/split.py`."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action

from inspection.models import MAX_NUMBER_OF_ANIMALS
from inspection.services.replacements import consignment_replace
from inspection.services.split import MAX_PARTS, consignment_split

from .idempotency import IDEMPOTENCY_KEY, idempotent
from .parsers import BoundedJSONParser
from .serializers import POSITIVE_INT_MAX, ConsignmentSerializer, PartOneSerializer

MAX_LINES = 500


class SplitLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=MAX_LINES, help_text="The line's number in Part I, from 1")
    net_weight_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, help_text="This part's share; the whole line when left out"
    )
    packages = serializers.IntegerField(min_value=1, max_value=POSITIVE_INT_MAX, required=False)
    number_of_animals = serializers.IntegerField(min_value=1, max_value=MAX_NUMBER_OF_ANIMALS, required=False)


# ListField, not `many=True`: drf-spectacular then gives the schema its minItems and maxItems
class SplitPartSerializer(serializers.Serializer):
    lines = serializers.ListField(child=SplitLineSerializer(), min_length=1, max_length=MAX_LINES)


class SplitSerializer(serializers.Serializer):
    parts = serializers.ListField(child=SplitPartSerializer(), min_length=2, max_length=MAX_PARTS)


class SuccessorActions:
    """Mixed into `ConsignmentViewSet`: its `get_object` (404 for another company's CHED) and `_detail`."""

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=PartOneSerializer,
        responses={201: ConsignmentSerializer},
        summary="Replace a CHED under checks with a corrected Part I",
        description=(
            "Once the BCP has started its checks (before, amend it with PATCH: 409 here) and before its decision "
            "(409 after, for a CHED already replaced or split, and while a sample awaits its laboratory result, late "
            "or not). The whole corrected Part I, under the submit's "
            "rules but the arrival's (the goods may be at the post); `ched_type` and `bcp` stay as they were (400). "
            "The answer is the new CHED (201): a number of its own, `replaces` naming the old one, submitted, its "
            "checks to be done again. The old one reads `replaced`, with `replaced_by`. By the operator's users or "
            "a certifying officer (403 for other staff)."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    @idempotent
    def replace(self, request, reference=None):
        consignment = self.get_object()
        payload = PartOneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        new = consignment_replace(actor=request.user, consignment=consignment, part_one=dict(payload.validated_data))
        return self._detail(new, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=SplitSerializer,
        responses={201: ConsignmentSerializer},
        summary="Certifying officer: split a consignment into parts with decisions of their own",
        description=(
            "Once every check is done and before the decision (`awaiting_decision`, no sample awaiting its result, "
            "late or not; 409 otherwise, and for a part of a split consignment, which is not split again). Each "
            "part names Part I's commodity lines it takes (numbered from 1), with its share "
            "of each quantity (`net_weight_kg`, `packages`, `number_of_animals`) or the whole line when left out. "
            "Over the parts, each line's quantities add up to exactly the line's: more or less is a 400. The parts "
            "are CHEDs numbered after the consignment (`CHEDPP.MQ.2026.0000123.1`, `.2`...), each awaiting its own "
            "decision; the answer is the split consignment (201), `split` with its `parts`. Certifying officers "
            "only (403)."
        ),
        examples=[
            OpenApiExample(
                "Two lines: the first accepted whole, the second split",
                request_only=True,
                value={
                    "parts": [
                        {"lines": [{"line": 1}, {"line": 2, "net_weight_kg": "800.000", "packages": 80}]},
                        {"lines": [{"line": 2, "net_weight_kg": "200.000", "packages": 20}]},
                    ]
                },
            )
        ],
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    @idempotent
    def split(self, request, reference=None):
        consignment = self.get_object()
        payload = SplitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consignment_split(actor=request.user, consignment=consignment, parts=payload.validated_data["parts"])
        return self._detail(consignment, status.HTTP_201_CREATED)
