from django.urls import re_path

from orders import views

app_name = "orders"

urlpatterns = [
    # The trailing slash is optional: a platform posting without it must not get a redirect.
    re_path(r"^push/pay-orders/?$", views.PayOrderPushView.as_view(), name="push-pay-orders"),
]
