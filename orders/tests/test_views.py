"""The push endpoint over the Django test client: the protocol's answers and what is stored."""

from conftest import answer
from orders.models import PayOrder, PushLog


def test_signed_form_push_for_whitelisted_plate_is_stored(whitelisted, push):
    response = push(pay_serial="20210421164242075523115813")

    assert response.status_code == 200
    assert answer(response)["code"] == "1001"
    order = PayOrder.objects.get()
    assert order.pay_serial == "20210421164242075523115813"
    assert PushLog.objects.get().order == order
