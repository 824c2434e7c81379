"""The integration API's view bases. Apart from ``parkingops.api``: DRF's settings import that
module (its permissions) while ``rest_framework.generics`` is still loading, so nothing there
may subclass DRF's views."""

from rest_framework import generics

from parkingops import conditional
from parkingops.api import KeysetPagination
from parkingops.api_params import StrictParamsMixin


class ListView(StrictParamsMixin, conditional.ConditionalGetMixin, generics.ListAPIView):
    """A JSON list of the integration API: only the parameters it reads (``StrictParamsMixin``),
    keyset pages (``KeysetPagination``), a weak ``ETag`` of each page."""

    pagination_class = KeysetPagination
