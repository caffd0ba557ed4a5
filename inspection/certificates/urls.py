from django.urls import path

from . import fees, phyto_views, views

urlpatterns = [
    # the bare number: the same answer for every number, whether issued or not
    path("verify/<str:number>/", views.VerifyView.as_view(), name="verify-number"),
    path("verify/<str:number>/<str:key>/", views.VerifyView.as_view(), name="verify"),
    path("certificates/<str:number>/pdf/", views.certificate_download, name="certificate-pdf"),
    path("certificates/<str:number>/revoke/", views.certificate_revoke_view, name="certificate-revoke"),
    path("certificates/<str:number>/replace/", views.certificate_reissue_view, name="certificate-replace"),
    path("fees/<str:reference>/pdf/", fees.fee_statement_download, name="fee-statement-pdf"),
    path("certificates/preview/<str:reference>/", views.certificate_preview, name="certificate-preview"),
    # exports: the ISPM 12 phytosanitary certificate and its ePhyto XML
    path("phyto/<str:number>/pdf/", phyto_views.phyto_pdf, name="phyto-pdf"),
    path("phyto/<str:number>/ephyto.xml", phyto_views.phyto_ephyto, name="phyto-ephyto"),
]
