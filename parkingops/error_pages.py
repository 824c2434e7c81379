"""The back-office's error pages: 403, 404, the CSRF refusal and 500 in the admin's look,
translated, with a way back. Addresses under ``/api/`` keep their JSON answers
(``api_errors``).

403 and 404 are drawn inside the admin's frame (header, language switch, user links), so they
take the admin's context like any admin page. 500 does not: the database may be the reason for
it, so ``500.html`` is a standalone page rendered without a context (as Django's own
``server_error`` does) and reads nothing from the database.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views import defaults

from parkingops import api_errors


def is_api(request: HttpRequest) -> bool:
    """Whether the request is for the integration API, which answers in JSON."""
    return request.path_info.startswith("/api/")


def _admin_page(request: HttpRequest, template: str, title: str, status: int) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": title}
    return render(request, template, context, status=status)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``: a page or action the user is not allowed (e.g. a ModelAdmin's
    ``PermissionDenied``)."""
    return _admin_page(request, "403.html", gettext("Access denied"), 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: an unknown address; under ``/api/`` the API's JSON 404."""
    if is_api(request):
        return api_errors.not_found(request)
    return _admin_page(request, "404.html", gettext("Page not found"), 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent from an expired page or without its cookie."""
    return _admin_page(request, "403_csrf.html", gettext("The form could not be sent"), 403)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: Django's own view (``500.html``, no context); under ``/api/`` JSON."""
    if is_api(request):
        return api_errors.server_error(request)
    return defaults.server_error(request)
