"""``GET /api/v1/statements/``: the statement per holder (``orders.statements``) as JSON (the
lines per holder and plate, each plate linking to its orders), and ``GET
/api/v1/statements/export/``: the same statement as a file with every order.

The permissions of the other order endpoints: viewing pay orders, and exporting for the file.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import PayOrder
from orders.permissions import EXPORT_ORDERS
from orders.statements import selectors
from orders.statements.exports import statement_csv, statement_machine_csv, statement_xlsx
from parkingops import conditional, tabular
from parkingops.api_exports import FileExportView, export_schema
from parkingops.api_params import StrictParamsMixin, refuse_empty
from parkingops.formatting import CHINA


class StatementQuerySerializer(serializers.Serializer):
    """The statement's parameters, for the schema: the view reads them with
    ``selectors.read_params``, the rules (and messages) of the admin page."""

    def get_fields(self):
        return {
            "month": serializers.RegexField(
                r"^[0-9]{4}-[0-9]{2}$",
                required=False,
                help_text=_("The month, YYYY-MM (default: this month, China time)."),
            ),
            "from": serializers.DateField(
                required=False,
                help_text=_("Instead of a month: the first day, YYYY-MM-DD (with “to”)."),
            ),
            "to": serializers.DateField(
                required=False,
                help_text=_("Instead of a month: the last day, YYYY-MM-DD (at most 366 days)."),
            ),
            "holder": serializers.CharField(
                required=False, help_text=_("One holder, as the whitelist names them.")
            ),
            "plate": serializers.CharField(
                required=False, help_text=_("One plate, in any spelling (川a 660p1).")
            ),
        }


class StatementLineSerializer(serializers.Serializer):
    """A plate's orders, a holder's or the statement's; money in fen."""

    order_count = serializers.IntegerField(source="orders")
    pay_value = serializers.IntegerField(source="paid", help_text=_("Amount paid (fen)."))
    discount_relief = serializers.IntegerField(
        source="relief", help_text=_("Discount relief (fen).")
    )
    coupon_value = serializers.IntegerField(
        help_text=_("Coupon money (fen): amount coupons only; other types are not money.")
    )
    renewal_count = serializers.IntegerField(
        source="renewals", help_text=_("Fixed-car renewals paid in the period.")
    )
    renewal_value = serializers.IntegerField(
        help_text=_("What those renewals paid (fen): money of its own, not in pay_value.")
    )
    stay_count = serializers.IntegerField(
        source="stays", help_text=_("Stays that left in the period.")
    )
    stay_minutes = serializers.IntegerField(help_text=_("Their length added up, in whole minutes."))
    stay_gap = serializers.IntegerField(
        help_text=_("Their payment gaps added up (fen): due at the exit but not paid by orders.")
    )


class StatementPlateSerializer(StatementLineSerializer):
    plate = serializers.CharField()
    orders_url = serializers.SerializerMethodField(
        help_text=_("The plate's orders of the period in /api/v1/orders/.")
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_orders_url(self, line: selectors.StatementLine) -> str:
        query: selectors.StatementQuery = self.context["query"]
        params = {
            "plate": line.plate,
            "pay_time_after": query.date_from.isoformat(),
            "pay_time_before": query.date_to.isoformat(),
        }
        url = f"{reverse('orders:api-orders')}?{urlencode(params)}"
        return self.context["request"].build_absolute_uri(url)


class StatementHolderSerializer(serializers.Serializer):
    holder = serializers.CharField(help_text=_("Blank: entries that name no holder."))
    total = StatementLineSerializer(help_text=_("The holder's subtotal."))
    plates = StatementPlateSerializer(many=True)


class StatementSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="query.date_from")
    date_to = serializers.DateField(source="query.date_to")
    holder = serializers.CharField(source="query.holder", help_text=_("Blank: every holder."))
    plate = serializers.CharField(source="query.plate", help_text=_("Blank: every plate."))
    holders = StatementHolderSerializer(many=True)
    total = StatementLineSerializer()


def _statement(request: Request) -> selectors.Statement:
    """Return the statement the query asks for (the admin page's rules), or answer 400."""
    refuse_empty(request.query_params, selectors.PARAMETERS)
    try:
        query = selectors.read_params(
            request.query_params, today=timezone.now().astimezone(CHINA).date()
        )
    except selectors.StatementQueryError as exc:
        raise exceptions.ValidationError(exc.errors) from None
    return selectors.statement(query=query)


@extend_schema(
    summary=_("Statement per holder"),
    description=_(
        "For a month (or a range of China-time days), the orders of the plates each holder "
        "holds — the holder of the whitelist entry that admitted the order — per holder and "
        "plate: count, amount paid, discount relief and coupon money (amount coupons); the "
        "renewals paid (count, amount) and the stays that left (count, minutes, payment gap), "
        "with each holder's subtotal and the total. Every order too: "
        "/api/v1/statements/export/."
    ),
    parameters=[StatementQuerySerializer],
    responses=StatementSerializer,
)
class StatementView(StrictParamsMixin, conditional.ConditionalGetMixin, APIView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    file_export = "orders:api-statements-export"
    query_parameters = {"GET": tuple(selectors.PARAMETERS)}

    def get(self, request: Request):
        statement = _statement(request)
        context = {"request": request, "query": statement.query}
        return Response(StatementSerializer(statement, context=context).data)


@export_schema(
    summary=_("Export the statement per holder (CSV or Excel)"),
    description=_(
        "The statement of GET /api/v1/statements/ with the same parameters, with every order: "
        "per holder each plate's orders (row_kind order) and the plate's subtotal "
        "(plate_subtotal), the holder's subtotal (holder_subtotal), the total last (total). "
        "Needs orders.export_orders."
    ),
    parameters=[StatementQuerySerializer],
)
class StatementExportView(FileExportView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    export_permission = EXPORT_ORDERS
    query_parameters = {"GET": tuple(selectors.PARAMETERS)}

    def export_data(self):
        return _statement(self.request)

    def export_filename(self, statement) -> str:
        query = statement.query
        return tabular.export_filename("statement", query.date_from, query.date_to)

    writers = (statement_machine_csv, statement_csv, statement_xlsx)
