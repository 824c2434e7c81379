"""The orders app's HTTP routes under ``/api/v1/``: the platform's push and the integration
API's reads."""

from django.urls import path, re_path

from orders.api import views as api
from orders.api.outcomes import PushOutcomesView
from orders.api.statements import StatementExportView, StatementView
from orders.push.views import EntryPushView, ExitPushView, PayOrderPushView, RenewalPushView

app_name = "orders"

urlpatterns = [
    # The trailing slash is optional: a platform posting without it must not get a redirect.
    re_path(r"^push/pay-orders/?$", PayOrderPushView.as_view(), name="push-pay-orders"),
    re_path(r"^push/entries/?$", EntryPushView.as_view(), name="push-entries"),
    re_path(r"^push/exits/?$", ExitPushView.as_view(), name="push-exits"),
    re_path(r"^push/renewals/?$", RenewalPushView.as_view(), name="push-renewals"),
    # The integration API's reads, each list's files at ``export/`` (before an order's serial:
    # no pay serial is "export").
    path("orders/", api.OrderListView.as_view(), name="api-orders"),
    path("orders/export/", api.OrderExportView.as_view(), name="api-orders-export"),
    path("orders/<str:pay_serial>/", api.OrderDetailView.as_view(), name="api-order"),
    path("stays/", api.StayListView.as_view(), name="api-stays"),
    path("stays/export/", api.StayExportView.as_view(), name="api-stays-export"),
    path("renewals/", api.RenewalListView.as_view(), name="api-renewals"),
    path("renewals/export/", api.RenewalExportView.as_view(), name="api-renewals-export"),
    path("coupons/", api.CouponListView.as_view(), name="api-coupons"),
    path("coupons/export/", api.CouponExportView.as_view(), name="api-coupons-export"),
    path("coupons/totals/", api.CouponTotalsView.as_view(), name="api-coupon-totals"),
    path(
        "coupons/totals/export/",
        api.CouponTotalsExportView.as_view(),
        name="api-coupon-totals-export",
    ),
    path("summary/daily/", api.DailySummaryView.as_view(), name="api-daily-summary"),
    path(
        "summary/daily/export/",
        api.DailySummaryExportView.as_view(),
        name="api-daily-summary-export",
    ),
    path("statements/", StatementView.as_view(), name="api-statements"),
    path("statements/export/", StatementExportView.as_view(), name="api-statements-export"),
    path("push-outcomes/", PushOutcomesView.as_view(), name="api-push-outcomes"),
]
