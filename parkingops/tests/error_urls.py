"""The site's URLconf plus views that fail, for the error pages' tests (ROOT_URLCONF)."""

from django.db import OperationalError
from django.http import Http404
from django.urls import path

from parkingops.urls import handler403, handler404, handler500  # noqa: F401 (the handlers)
from parkingops.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise OperationalError("the database is gone")


def missing(request):
    raise Http404("no such thing")


urlpatterns = [
    path("broken/", broken),
    path("api/v1/broken/", broken),
    path("api/v1/missing/", missing),
    *site_urlpatterns,
]
