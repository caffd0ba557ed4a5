from django.urls import path

from . import account, documents, exports, replacements, split, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("account/tokens/", account.api_tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke/", account.api_token_revoke_view, name="api-token-revoke"),
    path("account/notifications/", account.notification_settings, name="notification-settings"),
    path("consignments/", views.consignment_list, name="consignment-list"),
    path("exports/", exports.export_list, name="export-list"),
    path("exports/new/", exports.export_new, name="export-new"),
    path("exports/<str:application>/", exports.export_detail, name="export-detail"),
    path("exports/<str:application>/check/", exports.export_check_view, name="export-check"),
    path("exports/<str:application>/issue/", exports.export_issue_view, name="export-issue"),
    path("exports/<str:application>/refuse/", exports.export_refuse_view, name="export-refuse"),
    path("exports/<str:application>/replace/", exports.export_replace_view, name="export-replace"),
    path("exports/<str:application>/withdraw/", exports.export_withdraw_view, name="export-withdraw"),
    path("consignments/new/", views.consignment_new, name="consignment-new"),
    path("consignments/checklist/", views.part_one_checklist_view, name="part-one-checklist"),
    path("consignments/import-ephyto/", documents.ephyto_import_view, name="ephyto-import"),
    path(
        "consignments/commodity-lines-template.<str:extension>",
        documents.commodity_template,
        name="commodity-template",
    ),
    path("consignments/<str:reference>/", views.consignment_detail, name="consignment-detail"),
    path("consignments/<str:reference>/edit/", views.consignment_edit, name="consignment-edit"),
    path("consignments/<str:reference>/split/", split.consignment_split_view, name="consignment-split"),
    path("consignments/<str:reference>/replace/", replacements.consignment_replace_view, name="consignment-replace"),
    path("consignments/<str:reference>/cancel/", views.consignment_cancel_view, name="consignment-cancel"),
    path("consignments/<str:reference>/clone/", views.consignment_clone_view, name="consignment-clone"),
    path(
        "consignments/<str:reference>/commodities/import/",
        documents.commodities_import_view,
        name="commodities-import",
    ),
    path("consignments/<str:reference>/documents/", documents.document_upload_view, name="document-upload"),
    path(
        "consignments/<str:reference>/documents/<int:document_id>/",
        documents.document_download,
        name="document-download",
    ),
    path(
        "consignments/<str:reference>/documents/<int:document_id>/remove/",
        documents.document_remove_view,
        name="document-remove",
    ),
]
