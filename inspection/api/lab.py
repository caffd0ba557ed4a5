"""`POST /api/v1/lab-results/`: laboratories return results (lab role only)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inspection.errors import UploadRefused
from inspection.models import LabResult
from inspection.ports import receive_lab_result
from inspection.roles import Role, user_roles
from inspection.services.documents import pdf_upload_check
from inspection.services.lab import (
    LAB_MAX_ANALYTES,
    LAB_SUBMISSION_MAX_BYTES,
    lab_sample_for,
    lab_submission_store,
    lab_submission_too_large,
)

from .schema import ERROR, FIELD_ERRORS


class IsLab(permissions.BasePermission):
    message = "Only a laboratory account can post results."

    def has_permission(self, request, view):
        return Role.LAB in user_roles(request.user)


class AnalyteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    value = serializers.CharField(max_length=100)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    limit = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class LabResultInSerializer(serializers.Serializer):
    sample = serializers.CharField(max_length=40, help_text="Sample number, as printed on its label")
    conclusion = serializers.ChoiceField(choices=LabResult.Conclusion.choices)
    analytes = AnalyteSerializer(many=True, required=False, default=list, max_length=LAB_MAX_ANALYTES)
    report = serializers.FileField(required=False, help_text="The lab's report, PDF")

    def validate_report(self, report):
        try:
            return pdf_upload_check(report, field="report")
        except UploadRefused as refused:
            raise serializers.ValidationError(refused.errors["report"]) from None


class LabResultOutSerializer(serializers.Serializer):
    sample = serializers.CharField(source="sample.number")
    conclusion = serializers.CharField()
    received_at = serializers.DateTimeField()
    late = serializers.BooleanField()


class LabResultView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsLab]

    @extend_schema(
        request={"application/json": LabResultInSerializer, "multipart/form-data": LabResultInSerializer},
        responses={
            201: LabResultOutSerializer,
            200: LabResultOutSerializer,
            404: OpenApiResponse(
                FIELD_ERRORS.ref, description="No such sample, or one sent to another laboratory (under `sample`)."
            ),
            413: OpenApiResponse(
                ERROR.ref, description=f"A body other than a form larger than {LAB_SUBMISSION_MAX_BYTES // 1024} KiB."
            ),
        },
        examples=[
            OpenApiExample(
                "Pesticide residues within limits",
                value={
                    "sample": "CHEDD.FR.2026.0000042-S1",
                    "conclusion": "satisfactory",
                    "analytes": [{"name": "chlorpyrifos", "value": "<0.01", "unit": "mg/kg", "limit": "0.01"}],
                },
                request_only=True,
            )
        ],
        summary="Post a laboratory result (idempotent: the same result twice is one result)",
    )
    def post(self, request):
        if _body_too_large(request):
            return Response({"detail": lab_submission_too_large()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        if not hasattr(request.data, "items"):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object or a multipart form."]})
        raw = {k: v for k, v in request.data.items() if not hasattr(v, "read")}  # files are not evidence JSON
        submission = lab_submission_store(lab_user=request.user, payload=raw)
        payload = LabResultInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        sample = lab_sample_for(sample_number=data["sample"], lab_user=request.user)
        result, created = receive_lab_result(
            submission=submission,
            sample=sample,
            conclusion=data["conclusion"],
            analytes=data["analytes"],
            report=data.get("report"),
        )
        return Response(
            LabResultOutSerializer(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def _body_too_large(request) -> bool:
    """A body other than a multipart form (whose PDF report is bounded on its own) larger than the stored post
    may be: refused on its declared length, before it is read or parsed."""
    if request.content_type.startswith("multipart/"):
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > LAB_SUBMISSION_MAX_BYTES
    except ValueError:
        return False
