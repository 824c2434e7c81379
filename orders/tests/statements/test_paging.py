"""The statement's pages (``orders.statements``): every holder's statement shows a page of
holders at a time and always the whole statement's total (from the rollup, exact before and
after a roll, with orders no entry admitted); one holder's orders come a page at a time; the
pages together hold every line and every order once."""

import re
from datetime import datetime

import pytest
from django.utils import timezone

from orders.models import PayOrder
from orders.rollup.services import SETTLE, roll_up
from orders.statements import admin as statement_admin
from orders.statements import selectors
from orders.statements.selectors import StatementQuery
from orders.tests.conftest import FINANCE
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from orders.tests.statements.test_stays_and_renewals import renewals_and_stays  # noqa: F401
from orders.tests.test_admin import cell_texts
from parkingops.formatting import CHINA
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db

STATEMENT = "/admin/orders/statement/"
NOVEMBER = StatementQuery(
    date_from=datetime(2026, 11, 1).date(), date_to=datetime(2026, 11, 30).date()
)


@pytest.fixture
def finance_en(staff_client):
    return staff_client(*FINANCE, language="en")


def rows(response, kind: str) -> list[list[str]]:
    page = response.content.decode()
    return [cell_texts(row) for row in re.findall(rf'<tr class="{kind}">(.*?)</tr>', page, re.S)]


def next_page(response) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', response.content.decode())
    return found and STATEMENT + found[1].replace("&amp;", "&")


def test_the_total_without_the_lines_equals_the_lines_total_before_and_after_a_roll(
    renewals_and_stays,  # noqa: F811
):
    november_orders = PayOrder.objects.filter(whitelist_entry__holder="李四")
    assert selectors.statement_total(query=NOVEMBER) == selectors.statement(query=NOVEMBER).total

    roll_up(now=timezone.now() + SETTLE)
    assert selectors.statement_total(query=NOVEMBER) == selectors.statement(query=NOVEMBER).total

    # After the watermark: an order of 李四 with relief and amount-coupon money, and one no
    # entry admitted (in no statement).
    late = PayOrderFactory(
        plate="渝B5C8Q6",
        whitelist_entry=november_orders.first().whitelist_entry,
        pay_time=datetime(2026, 11, 20, 9, tzinfo=CHINA),
        pay_value=1234,
    )
    DiscountFactory(order=late, relief_value=34)
    MerchantCouponFactory(order=late, coupon_type=1, coupon_value=99)
    PayOrderFactory(whitelist_entry=None, pay_time=datetime(2026, 11, 21, 9, tzinfo=CHINA))
    whole = selectors.statement(query=NOVEMBER).total
    assert (whole.orders, whole.paid, whole.relief, whole.coupon_value) == (5, 3684, 234, 399)
    assert selectors.statement_total(query=NOVEMBER) == whole

    # A deleted entry leaves its orders (rolled up or not) to no holder: out of the total.
    november_orders.first().whitelist_entry.delete()
    whole = selectors.statement(query=NOVEMBER).total
    assert (whole.orders, whole.paid) == (3, 1750)
    assert selectors.statement_total(query=NOVEMBER) == whole


def test_every_holders_pages_show_each_holder_once_and_always_the_whole_total(
    finance_en,
    renewals_and_stays,  # noqa: F811
    monkeypatch,
):
    # 张三 has two entries: a page to themself; 李四 and 王五 one each, a page together.
    monkeypatch.setattr(statement_admin, "ENTRIES_PER_PAGE", 2)
    whole = selectors.statement(query=NOVEMBER)

    url, pages, holders, plates, totals = f"{STATEMENT}?month=2026-11", 0, [], [], set()
    while url:
        response = finance_en.get(url)
        assert response.status_code == 200
        pages += 1
        holders += [
            row[0] for row in rows(response, "orders-summary-subtotal orders-statement-holder")
        ]
        plates += [row[1] for row in rows(response, "orders-statement-plate")]
        totals.add(tuple(rows(response, "orders-summary-total")[0]))
        url = next_page(response)

    # 张三, then 李四 and 王五 (renewals only), in the lines' order; the total of every page is
    # the whole statement's.
    assert pages == 2
    assert holders == [entry.holder for entry in whole.holders] == ["张三", "李四", "王五"]
    assert plates == [line.plate for entry in whole.holders for line in entry.plates]
    assert totals == {
        ("Total", "4", "¥24.50", "¥2.00", "¥3.00", "3", "¥900.00", "2", "91", "¥10.00")
    }
    assert whole.total.orders == 4


def test_one_holders_orders_come_a_page_at_a_time_each_once(finance_en, november, monkeypatch):
    monkeypatch.setattr(statement_admin, "ORDERS_PER_PAGE", 2)

    first = finance_en.get(STATEMENT, {"month": "2026-11", "holder": "张三"})
    second = finance_en.get(next_page(first))

    serials = [row[2] for row in rows(first, "orders-statement-order")]
    serials += [row[2] for row in rows(second, "orders-statement-order")]
    holder = StatementQuery(NOVEMBER.date_from, NOVEMBER.date_to, holder="张三")
    expected = selectors.statement_orders(query=holder).values_list("pay_serial", flat=True)
    assert sorted(serials) == sorted(expected) and len(serials) == 3
    assert "Orders 1 to 2 of 3" in first.content.decode()
    assert "Orders 3 to 3 of 3" in second.content.decode()
    assert next_page(second) is None
    # The lines and the total are the holder's whole month on every page.
    for response in (first, second):
        assert rows(response, "orders-summary-total")[0][1:3] == ["3", "¥17.50"]


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999999999999999999999", "1.5", "%00"])
def test_a_page_that_is_not_one_shows_the_first_or_the_last(finance_en, november, page):
    response = finance_en.get(STATEMENT, {"month": "2026-11", "page": page})

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert rows(response, "orders-summary-total")[0][1] == "4"


def test_holder_pages_hold_every_holder_once_a_big_one_alone(db):
    for n in range(5):
        WhitelistEntryFactory(plate=f"川A1000{n}", holder="大公司")
    WhitelistEntryFactory(plate="川A20000", holder="")
    WhitelistEntryFactory(plate="川A20001", holder="小店")
    WhitelistEntryFactory(plate="川A20002", holder="个人")

    pages = selectors.holder_pages(entries_per_page=2)

    assert pages == [["", "个人"], ["大公司"], ["小店"]]
