"""The integration API's whitelist routes, under ``/api/v1/whitelist/``."""

from django.urls import path

from whitelist import views

app_name = "whitelist"

urlpatterns = [
    path("", views.WhitelistListView.as_view(), name="api-whitelist"),
    path("export/", views.WhitelistExportView.as_view(), name="api-whitelist-export"),
    path("bulk/", views.WhitelistBulkView.as_view(), name="api-whitelist-bulk"),
    path("deleted/", views.WhitelistDeletedView.as_view(), name="api-whitelist-deleted"),
    path("<int:pk>/", views.WhitelistDetailView.as_view(), name="api-whitelist-entry"),
]
