from django.urls import include, path

from .lab import LabResultView
from .reference import ReferenceListView
from .root import ApiRouter
from .tokens import LoginTokenView
from .views import ConsignmentViewSet

router = ApiRouter()
router.register("consignments", ConsignmentViewSet, basename="consignment")

urlpatterns = [
    path("auth/token/", LoginTokenView.as_view(), name="api-token"),
    path("lab-results/", LabResultView.as_view(), name="lab-results"),
    path("reference/<str:list>/", ReferenceListView.as_view(), name="reference-list"),
    path("", include(router.urls)),
]
