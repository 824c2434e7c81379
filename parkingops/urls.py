"""URL routes: the admin, the platform's push, the integration API and its documentation."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from orders import admin_views
from parkingops.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The finance daily summary, inside the admin's URL space: before the admin's catch-all.
    path("admin/orders/summary/", include(admin_views.urlpatterns)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orders.urls")),
    path("api/v1/whitelist/", include("whitelist.urls")),
    # The OpenAPI 3 schema and its interactive page (Swagger UI, bundled: works offline).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
