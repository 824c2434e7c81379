"""``GET /metrics``: the Prometheus metrics, for a token or an allowed address only."""

import hmac
from ipaddress import ip_network

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from orders.monitoring.metrics import render
from parkingops.netaddr import client_address, in_networks

# With neither METRICS_TOKEN nor METRICS_ALLOWED_IPS, only this host may scrape.
LOOPBACK = [ip_network("127.0.0.1/32"), ip_network("::1/128")]


def _token_matches(authorization: str, token: str) -> bool:
    scheme, _space, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Bytes: compare_digest refuses non-ASCII text, and a header may hold anything.
    return hmac.compare_digest(
        given.strip().encode("utf-8", "replace"), token.encode("utf-8", "replace")
    )


def allowed(request: HttpRequest) -> bool:
    """Tell whether ``request`` may read the metrics: it carries the token, or comes from an
    allowed address (this host when nothing is configured)."""
    token = settings.METRICS_TOKEN
    if token and _token_matches(request.META.get("HTTP_AUTHORIZATION", ""), token):
        return True
    networks = settings.METRICS_ALLOWED_IPS or ([] if token else LOOPBACK)
    address = client_address(request.META, trusted_proxies=settings.TRUSTED_PROXIES)
    return in_networks(address, networks)


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponseForbidden("Forbidden\n", content_type="text/plain; charset=utf-8")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
