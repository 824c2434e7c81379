from django.urls import path, re_path

from orders import views

app_name = "orders"

urlpatterns = [
    # The trailing slash is optional: a platform posting without it must not get a redirect.
    re_path(r"^push/pay-orders/?$", views.PayOrderPushView.as_view(), name="push-pay-orders"),
    # The integration API's reads.
    path("orders/", views.OrderListView.as_view(), name="api-orders"),
    path("orders/<str:pay_serial>/", views.OrderDetailView.as_view(), name="api-order"),
    path("coupons/", views.CouponListView.as_view(), name="api-coupons"),
    path("coupons/totals/", views.CouponTotalsView.as_view(), name="api-coupon-totals"),
    path("summary/daily/", views.DailySummaryView.as_view(), name="api-daily-summary"),
]
