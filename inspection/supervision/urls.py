from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("audit/", views.audit_search, name="audit-search"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("consignments/<str:reference>/trail/", views.trail, name="trail"),
    path("consignments/<str:reference>/trail.csv", views.trail_csv, name="trail-csv"),
    path("consignments/<str:reference>/trail.pdf", views.trail_pdf, name="trail-pdf"),
    path("consignments/<str:reference>/trail/verify/", views.trail_verify, name="trail-verify"),
    path("intensified-controls/", views.intensified_control_list, name="intensified-controls"),
    path(
        "intensified-controls/<int:pk>/withdraw/",
        views.intensified_control_withdraw_view,
        name="intensified-control-withdraw",
    ),
    path("tasks/<int:task_pk>/reassign/", views.task_reassign_view, name="task-reassign"),
]
