from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inspection.exchange.double import hub_double
from inspection.health import healthz
from inspection.observability.metrics import metrics
from inspection.portal.manifest import web_manifest
from workflows import incidents
from workflows.lab_reports import lab_report
from workflows.labels import sample_label
from workflows.photos import check_photo
from workflows.simulation import views as simulations
from workflows.today import arrival_record, today
from workflows.urls import site

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("hub-double/", hub_double, name="hub-double"),  # 404 unless PIF_IPPC_HUB_DOUBLE
    path("manifest.webmanifest", web_manifest, name="web-manifest"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("inspection.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("inspection.certificates.urls")),
    path("workflow/samples/<str:number>/label/", sample_label, name="sample-label"),
    path("workflow/today/", today, name="today"),
    path("workflow/arrivals/<int:pk>/arrived/", arrival_record, name="arrival-record"),
    path("workflow/photos/<int:pk>/", check_photo, name="check-photo"),
    path("workflow/lab-results/<int:pk>/report/", lab_report, name="lab-report"),
    path("workflow/incidents/", incidents.incident_list, name="incidents"),
    path("workflow/incidents/<int:task_pk>/retry/", incidents.incident_retry, name="incident-retry"),
    path("supervision/simulations/", simulations.simulation_list, name="simulations"),
    path("supervision/simulations/<int:pk>/", simulations.simulation_detail, name="simulation-detail"),
    path("supervision/simulations/<int:pk>/send/", simulations.simulation_send_again, name="simulation-send-again"),
    path("supervision/simulations/<int:pk>/files/<str:name>", simulations.simulation_file, name="simulation-file"),
    path(
        "workflow/incidents/deliveries/<str:kind>/<int:pk>/retry/",
        incidents.incident_delivery_retry,
        name="incident-delivery-retry",
    ),
    path("supervision/", include("inspection.supervision.urls")),
    path("workflow/", site.urls),
    path("", include("inspection.portal.urls")),
]
