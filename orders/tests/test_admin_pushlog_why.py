"""The push log says why a push was refused, in Chinese: the outcome's label and explanation,
why no whitelist entry let the plate in (linking the entry), which field was invalid, and
whether a later replay or retry fixed it.

The refusals are real pushes over HTTP to a live server; the pages are read as a clerk would.
"""

import html
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone, translation

from conftest import FORM, JSON, PUSH_URL, form_body, json_body
from orders.demo import simulator
from orders.models import PayOrder, PushLog
from orders.push.outcomes import Outcome
from orders.tests.factories import PayOrderFactory
from whitelist.models import Uncovered
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

PUSH_LOG = "/admin/orders/pushlog/"
PLATE = simulator.DEMO_PLATE
VIEW = ("orders.view_pushlog", "orders.view_payorder")
# Loopback needs no proxy, and a configured one could not reach the live server anyway.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_post(url: str, body: str, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (the live server's own http URL)
        url, data=body.encode("utf-8"), headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def china(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


NOW = datetime.now(UTC).replace(microsecond=0)
# Each case: the entries (keyword arguments of the factory), what the log row keeps, and the
# sentence the clerk reads.
OTHER_PARK_UUID = "7d1f5a55-0000-4000-8000-00000000c0de"
CASES = {
    "no-entry": ([], Uncovered.NO_ENTRY, "该车牌没有任何白名单条目。"),
    "disabled": ([{"is_active": False}], Uncovered.DISABLED, "白名单条目已停用。"),
    "expired": (
        [{"valid_until": NOW - timedelta(days=2)}],
        Uncovered.EXPIRED,
        f"白名单条目已于 {china(NOW - timedelta(days=2))} 到期。",
    ),
    "not-yet-started": (
        [{"valid_from": NOW + timedelta(days=10)}],
        Uncovered.NOT_YET_VALID,
        f"白名单条目 {china(NOW + timedelta(days=10))} 才生效。",
    ),
    "other-park": (
        [{"park_uuid": OTHER_PARK_UUID}],
        Uncovered.OTHER_PARK,
        "白名单条目仅适用于车场 春熙路停车场。",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_a_refused_push_over_http_says_why_in_chinese_and_links_the_entry(
    case, live_server, staff_client, app_id, secret
):
    entries, why, sentence = CASES[case]
    ParkFactory(park_uuid=OTHER_PARK_UUID, name="春熙路停车场")
    made = [WhitelistEntryFactory(plate=PLATE, **fields) for fields in entries]
    params = simulator.build_push(app_id=app_id)

    status, body = http_post(live_server.url + PUSH_URL, form_body(params, secret), FORM)

    # The platform's answer is the contract's, unchanged.
    assert (status, body["code"], body["reason"]) == (403, "1403", "not_whitelisted")
    assert body["message"] == "plate is not on a valid whitelist entry"
    log = PushLog.objects.get()
    assert log.refusal == why
    assert log.refusal_entry_id == (made[0].pk if made else None)
    clerk = staff_client(*VIEW)
    listing = page_text(clerk.get(PUSH_LOG))
    detail = page_text(clerk.get(f"{PUSH_LOG}{log.pk}/change/"))
    for text in (listing, detail):
        assert "不在白名单" in text
        assert sentence in text
        if made:
            assert f'href="/admin/whitelist/whitelistentry/{made[0].pk}/change/"' in text
            assert f"白名单条目 #{made[0].pk}" in text
    with translation.override("en"):
        assert str(Outcome.NOT_WHITELISTED.explanation) not in detail  # never in English
    assert "请改正条目（使其在支付时间有效），然后重放这条推送。" in detail


def test_an_old_row_without_the_detail_shows_the_generic_explanation(staff_client):
    log = PushLog.objects.create(
        code="1403", reason="not_whitelisted", message="plate is not on a valid whitelist entry"
    )

    detail = page_text(staff_client(*VIEW).get(f"{PUSH_LOG}{log.pk}/change/"))

    assert "支付时该车牌在本车场没有生效的白名单条目" in detail
    assert "白名单条目 #" not in detail


def test_an_invalid_nested_field_is_named_in_chinese_with_its_path(
    staff_client, post, params, secret
):
    # A real JSON array inside a JSON body, its first discount's amount not a whole number.
    response = post(json_body({**params, "discounts": [{"relief_value": "1.5"}]}, secret), JSON)

    assert response.status_code == 400
    log = PushLog.objects.get()
    assert log.field_path == "discounts[0].relief_value"
    detail = page_text(staff_client(*VIEW).get(f"{PUSH_LOG}{log.pk}/change/"))
    assert (
        "字段「优惠 › 第 1 项 › 抵扣金额（分）」(discounts[0].relief_value) 无效："
        "must be a non-negative integer (decimal digits only)" in detail
    )


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("pay_time", "12x", "字段「支付时间」(pay_time) 无效："),
        ("mcoupons", "[{", "字段「商户券」(mcoupons) 无效："),
        ("x_note", "a&channel=1", "字段 x_note 无效："),
    ],
)
def test_an_invalid_field_is_named_by_the_serializers_label(
    staff_client, post, params, secret, field, value, shown
):
    post(form_body({**params, field: value}, secret), FORM)

    log = PushLog.objects.get()
    assert log.reason == Outcome.INVALID_FIELD
    assert shown in page_text(staff_client(*VIEW).get(PUSH_LOG))


def replay(client, log: PushLog):
    response = client.post(
        PUSH_LOG,
        {"action": "replay_selected", "_selected_action": [log.pk], "index": "0"},
        follow=True,
    )
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_replay_speaks_chinese_and_turns_a_refusal_into_a_fixed_row(
    staff_client, post, params, secret
):
    post(form_body(params, secret), FORM)
    refused = PushLog.objects.get()
    operations = staff_client(*VIEW, "orders.replay_pushlog")

    first = replay(operations, refused)
    assert "已重放：不在白名单（1403 not_whitelisted）。该车牌没有任何白名单条目。" in first[0]
    assert "请改正条目" in first[0]
    assert "尚未修复" in page_text(operations.get(f"{PUSH_LOG}{refused.pk}/change/"))

    WhitelistEntryFactory(plate=PLATE, valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    second = replay(operations, refused)

    assert "已重放：已接收（1001 accepted）。订单已保存，无需处理。" in second[0]
    order = PayOrder.objects.get()
    fixed = page_text(operations.get(f"{PUSH_LOG}?fixed=1"))
    unfixed = page_text(operations.get(f"{PUSH_LOG}?fixed=0"))
    detail = page_text(operations.get(f"{PUSH_LOG}{refused.pk}/change/"))
    assert f"/admin/orders/pushlog/{refused.pk}/change/" in fixed
    assert "✓" in fixed
    assert f"/admin/orders/pushlog/{refused.pk}/change/" not in unfixed
    assert f'href="/admin/orders/payorder/{order.pk}/change/"' in detail


def test_the_fixed_filter_keeps_accepted_rows_out_and_refuses_odd_values(staff_client):
    order = PayOrderFactory()
    accepted = PushLog.objects.create(
        code="1001", reason="accepted", pay_serial=order.pay_serial, order=order
    )
    fixed = PushLog.objects.create(
        code="1403", reason="not_whitelisted", pay_serial=order.pay_serial
    )
    open_ = PushLog.objects.create(code="1401", reason="bad_signature", pay_serial="nope")
    clerk = staff_client(*VIEW)

    def rows(query: str) -> set[int]:
        response = clerk.get(f"{PUSH_LOG}?{query}")
        return {row.pk for row in response.context["cl"].result_list}

    assert rows("fixed=1") == {fixed.pk}
    assert rows("fixed=0") == {open_.pk}
    assert accepted.pk in rows("")
    assert rows("fixed=2") == set()  # refused with a message, never "no filter"
    assert clerk.get(f"{PUSH_LOG}?fixed=1%00").status_code in (302, 400)  # never a 500


def test_the_list_shows_the_reasons_in_chinese_and_filters_by_them(staff_client):
    PushLog.objects.create(code="1403", reason="not_whitelisted")
    PushLog.objects.create(code="1401", reason="bad_signature")

    page = staff_client(*VIEW).get(f"{PUSH_LOG}?reason=not_whitelisted")

    text = page_text(page)
    assert "不在白名单 (not_whitelisted)" in text  # the filter's choice
    assert "签名错误 (bad_signature)" in text
    assert [row.reason for row in page.context["cl"].result_list] == ["not_whitelisted"]
    # The label carries its explanation as a tooltip.
    assert 'title="支付时该车牌在本车场没有生效的白名单条目' in text


def test_a_page_of_the_log_costs_the_same_queries_with_fifty_refused_rows(
    staff_client, django_assert_max_num_queries
):
    clerk = staff_client(*VIEW)
    clerk.get(PUSH_LOG)  # warm the session and the filters' reads
    orders = PayOrderFactory.create_batch(3)
    parks = [ParkFactory(), ParkFactory()]
    PushLog.objects.bulk_create(
        PushLog(
            code="1403",
            reason="not_whitelisted",
            pay_serial=orders[n % 3].pay_serial if n % 2 else f"x{n}",
            refusal=Uncovered.OTHER_PARK,
            refusal_entry_id=n + 1,
            refusal_park=parks[n % 2].park_uuid,
        )
        for n in range(60)
    )

    with django_assert_max_num_queries(12):
        response = clerk.get(PUSH_LOG)

    assert len(response.context["cl"].result_list) == 50
    text = page_text(response)
    assert text.count("✓") == 25
    assert text.count(f"白名单条目仅适用于车场 {parks[0].name}。") == 25


def test_the_detail_masks_a_mobile_number_in_the_field_name(staff_client, post, params, secret):
    post(form_body({**params, "13800138000": "x&pay_value=1"}, secret), FORM)

    masked = page_text(staff_client(*VIEW).get(PUSH_LOG))
    whole = page_text(staff_client(*VIEW, "orders.view_personal_data").get(PUSH_LOG))

    assert "13800138000" not in masked
    assert "字段 138****8000 无效" in masked
    assert "字段 13800138000 无效" in whole
