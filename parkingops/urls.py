"""URL routes: the admin, the platform's push and (later) the integration API."""

from django.contrib import admin
from django.urls import include, path

from orders import admin_views

urlpatterns = [
    # The finance daily summary, inside the admin's URL space: before the admin's catch-all.
    path("admin/orders/summary/", include(admin_views.urlpatterns)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("orders.urls")),
]
