from django.urls import include, path

from .customs import CustomsChedDetailView, CustomsChedView, CustomsWebhookView
from .exports import ExportApplicationViewSet
from .fees import FeeStatementListView
from .lab import LabResultView
from .reference import ReferenceListView
from .root import ApiRouter
from .tokens import LoginTokenView
from .views import ConsignmentViewSet

router = ApiRouter()
router.register("consignments", ConsignmentViewSet, basename="consignment")
router.register("exports", ExportApplicationViewSet, basename="export")

urlpatterns = [
    path("auth/token/", LoginTokenView.as_view(), name="api-token"),
    path("fees/", FeeStatementListView.as_view(), name="fee-statements"),
    path("lab-results/", LabResultView.as_view(), name="lab-results"),
    path("reference/<str:list>/", ReferenceListView.as_view(), name="reference-list"),
    path("customs/cheds/", CustomsChedView.as_view(), name="customs-ched-list"),
    path("customs/cheds/<str:reference>/", CustomsChedDetailView.as_view(), name="customs-ched-detail"),
    path("customs/webhook/", CustomsWebhookView.as_view(), name="customs-webhook"),
    path("", include(router.urls)),
]
