"""Payment channels by name: the seeded table, the names in the order list and its filter, the
daily summary (page and API), the order API, and the order CSV's code and name columns."""

import re
from datetime import datetime

import pytest
from django.utils import translation

from orders.channels import channel_label, channel_names
from orders.models import Channel
from orders.tests.conftest import FINANCE, csv_text
from orders.tests.factories import PayOrderFactory
from parkingops.formatting import CHINA

ORDERS = "/admin/orders/payorder/"
SUMMARY = "/admin/orders/summary/daily/"
ORDERS_EXPORT = "/admin/orders/payorder/export/"

pytestmark = pytest.mark.django_db

# The codes docs/platform-api.md documents; 200102 is in its examples only.
DOCUMENTED = {"100002", "100102", "200001", "200201", "800001", "800071", "800072"}


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def test_the_migration_seeds_the_documented_codes_and_not_200102():
    assert set(Channel.objects.values_list("code", flat=True)) == DOCUMENTED
    assert Channel.objects.get(code="800072").name == "农信"
    assert Channel.objects.get(code="200201").name_en == "WeChat JSAPI"


def test_a_named_code_shows_its_name_and_an_unnamed_one_its_code_with_a_hint():
    with translation.override("zh-hans"):
        names = channel_names()

        assert channel_label("100002", names) == "支付宝APP"
        assert channel_label("200102", names) == "200102（尚未命名）"


def test_english_readers_get_the_english_name_or_the_chinese_one_when_none():
    Channel.objects.create(code="200102", name="微信扫码付")

    with translation.override("en"):
        names = channel_names()

    assert names["100002"] == "Alipay app"
    assert names["200102"] == "微信扫码付"


def test_order_list_and_its_channel_filter_show_names_in_one_query_per_page(
    staff_client, django_assert_max_num_queries
):
    for _ in range(30):
        PayOrderFactory(channel="100002")
    PayOrderFactory(channel="200102")
    client = staff_client(*FINANCE)

    with django_assert_max_num_queries(12):
        page = client.get(ORDERS).content.decode()

    cells = re.findall(r'<td class="field-channel_display">(.*?)</td>', page, re.S)
    texts = {re.sub(r"<[^>]+>", "", cell) for cell in cells}
    assert texts == {"支付宝APP", "200102（尚未命名）"}
    # The filter offers names, and its parameter stays the code.
    assert re.search(r'href="\?channel=100002"[^>]*>\s*支付宝APP', page)
    assert re.search(r'href="\?channel=200102"[^>]*>\s*200102（尚未命名）', page)


def test_naming_200102_renames_it_everywhere_at_once(staff_client):
    PayOrderFactory(channel="200102", pay_time=china(2026, 11, 1, 12))
    client = staff_client(*FINANCE)
    Channel.objects.create(code="200102", name="微信扫码付")

    orders = client.get(ORDERS).content.decode()
    summary = client.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-01"}).content.decode()

    assert "微信扫码付" in orders and "尚未命名" not in orders
    assert re.search(r'<td title="200102">微信扫码付</td>', summary)


def test_daily_summary_page_shows_an_unnamed_code_with_its_hint(staff_client):
    PayOrderFactory(channel="999999", pay_time=china(2026, 11, 1, 12))

    page = staff_client(*FINANCE).get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-01"})

    assert "999999（尚未命名）" in page.content.decode()


def test_order_csv_has_the_code_and_the_name(staff_client):
    PayOrderFactory(channel="800071")
    PayOrderFactory(channel="200102")

    rows = [
        line.split(",") for line in csv_text(staff_client(*FINANCE).get(ORDERS_EXPORT)).splitlines()
    ]

    header = rows[0]
    by_code = {row[header.index("支付渠道")]: row[header.index("支付渠道名称")] for row in rows[1:]}
    assert by_code == {"800071": "银联", "200102": ""}
