"""The push log's pages never show a mobile number whole to users without
``orders.view_personal_data``, whatever shape the push had (PUSH_PROTOCOL.md, Hardening).

Pushes go through the real endpoint, so the log rows are what the platform (or anyone) sent.
"""

import json

import pytest
from django.contrib.messages import get_messages

from conftest import JSON
from orders.models import PushLog
from orders.tests.factories import PayOrderFactory

PUSH_LOG = "/admin/orders/pushlog/"
MOBILE = "13800138000"
VIEW = ("orders.view_pushlog", "orders.view_payorder")
VIEW_PERSONAL = (*VIEW, "orders.view_personal_data")

pytestmark = pytest.mark.django_db

EMBEDDED = json.dumps([{"mobile": MOBILE, "relief_value": "1"}])
BODIES = {
    "json-string-inside-json": json.dumps({"plate": "川A660P1", "discounts": EMBEDDED}),
    "leading-spaces": "   " + json.dumps({"discounts": "  " + EMBEDDED}),
    "cut-at-64-kib": json.dumps(
        {"discounts": [{"mobile": MOBILE}], "x_pad": "a" * 70_000, "x_tail": MOBILE}
    ),
    "number-under-another-key": json.dumps({"x_contact": int(MOBILE), "x_note": "+86 " + MOBILE}),
    "mobile-as-plate-and-serial": json.dumps({"plate": MOBILE, "pay_serial": MOBILE}),
    "mobile-named-in-the-message": f'{{"{MOBILE}": 1, "{MOBILE}": 2}}',
}


def pages(client) -> str:
    (log,) = PushLog.objects.all()
    listing = client.get(PUSH_LOG)
    detail = client.get(f"{PUSH_LOG}{log.pk}/change/")
    assert listing.status_code == detail.status_code == 200
    return listing.content.decode() + detail.content.decode()


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_push_log_pages_mask_mobiles_in_every_shape_of_body(staff_client, post, body):
    post(body, JSON)

    masked = pages(staff_client(*VIEW))
    whole = pages(staff_client(*VIEW_PERSONAL))

    assert MOBILE not in masked
    assert "138****8000" in masked
    assert MOBILE in whole


def test_the_cut_body_is_stored_cut_and_shown_as_received(staff_client, post):
    post(BODIES["cut-at-64-kib"], JSON)

    log = PushLog.objects.get()
    assert len(log.body) == 64 * 1024
    with pytest.raises(ValueError):
        json.loads(log.body)


def test_the_order_page_masks_its_push_logs_messages(staff_client):
    order = PayOrderFactory()
    PushLog.objects.create(
        pay_serial=order.pay_serial,
        code="1400",
        reason="bad_body",
        message=f"key '{MOBILE}' is given twice",
    )
    url = f"/admin/orders/payorder/{order.pk}/change/"

    masked = staff_client(*VIEW).get(url).content.decode()
    whole = staff_client(*VIEW_PERSONAL).get(url).content.decode()

    assert MOBILE not in masked
    assert "key &#x27;138****8000&#x27; is given twice" in masked
    assert MOBILE in whole


def test_replay_messages_mask_mobiles_for_operations(staff_client, post):
    post(BODIES["mobile-named-in-the-message"], JSON)
    log = PushLog.objects.get()
    operations = staff_client("orders.view_pushlog", "orders.replay_pushlog")

    response = operations.post(
        PUSH_LOG,
        {"action": "replay_selected", "_selected_action": [log.pk], "index": "0"},
        follow=True,
    )

    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("138****8000" in text for text in shown)
    assert not any(MOBILE in text for text in shown)
