"""URL routes: health and metrics, the admin, the platform's push, the integration API and its
documentation."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from orders.admin import plate as admin_plate
from orders.admin import summary as admin_summary
from orders.monitoring.views import metrics
from orders.statements import admin as admin_statements
from parkingops import api_errors, error_pages
from parkingops.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # The finance daily summary, inside the admin's URL space: before the admin's catch-all.
    path("admin/orders/summary/", include(admin_summary.urlpatterns)),
    path("admin/orders/statement/", include(admin_statements.urlpatterns)),
    path("admin/orders/plate/", include(admin_plate.urlpatterns)),
    # Parks moved to the whitelist app and the platform's call log beside its client: the old
    # addresses (bookmarks, links in mails) lead to the new pages.
    re_path(
        r"^admin/orders/park/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/whitelist/park/%(rest)s", query_string=True),
    ),
    re_path(
        r"^admin/orders/platformcall/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/parkingops/platformcall/%(rest)s", query_string=True),
    ),
    # 我的任务 at a short address too.
    path("admin/jobs/", RedirectView.as_view(pattern_name="admin:parkingops_job_changelist")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orders.urls")),
    path("api/v1/whitelist/", include("whitelist.urls")),
    # The OpenAPI 3 schema and its interactive page (Swagger UI, bundled: works offline); the
    # platform's push in a document and a page of its own.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/schema/platform/",
        SpectacularAPIView.as_view(custom_settings=settings.PLATFORM_SCHEMA_SETTINGS),
        name="api-schema-platform",
    ),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/docs/platform/",
        SpectacularSwaggerView.as_view(url_name="api-schema-platform"),
        name="api-docs-platform",
    ),
    # Any other API address is a JSON 404, as the API answers an unknown object. Only paths
    # ending in a slash: without one, APPEND_SLASH still redirects /api/v1/orders first.
    re_path(r"^api/(?P<path>(?:[\s\S]*/)?)\Z", api_errors.not_found),  # a newline (%0A) too
]

# Error pages in the admin's look and language; under /api/ the API's JSON (error_pages).
handler403 = error_pages.permission_denied
handler404 = error_pages.page_not_found
handler500 = error_pages.server_error
