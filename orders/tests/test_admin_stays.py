"""停车记录, 续费记录 and a plate's page in the admin, over the Django test client: lists,
filters, search, totals, a stay's timeline, exports opened with openpyxl, and who may see what
(the roles of ``parkingops.roles``)."""

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from orders.exports.stays import RENEWAL_COLUMNS, STAY_COLUMNS
from orders.models import PayOrder, PushLog
from orders.stays.models import Renewal
from orders.tests.conftest import csv_rows
from orders.tests.factories import (
    MerchantCouponFactory,
    PayOrderFactory,
    RenewalFactory,
    StayFactory,
)
from orders.tests.test_admin import messages_of, result_rows
from parkingops.roles import FINANCE, OPERATIONS, ROLES
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

STAYS = "/admin/orders/stay/"
RENEWALS = "/admin/orders/renewal/"
PUSH_LOG = "/admin/orders/pushlog/"
PLATE = "/admin/orders/plate/{}/"
ORDERS = "/admin/orders/payorder/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(staff_client):
    return staff_client(*ROLES[FINANCE])


@pytest.fixture
def operations(staff_client):
    return staff_client(*ROLES[OPERATIONS])


@pytest.fixture
def stays(db) -> dict:
    """A left stay paid in full, a left stay 3 yuan short, and a car in the park."""
    east = ParkFactory(park_uuid="park-east", name="东门停车场")
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    entered = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 China time
    paid = StayFactory(park=east, enter_time=entered, left=True, parking_time=7500)
    PayOrderFactory(park=east, parking_serial=paid.parking_serial, pay_value=1000)
    short = StayFactory(
        park=east, plate="川B12345", enter_time=entered + timedelta(days=1), left=True
    )
    PayOrderFactory(park=east, parking_serial=short.parking_serial, pay_value=700)
    inside = StayFactory(
        park=west, plate="川C00001", enter_time=entered + timedelta(days=2), needs_review=True
    )
    return {"paid": paid, "short": short, "inside": inside}


def test_stay_list_shows_length_money_and_flags_the_gap(finance, stays):
    response = finance.get(STAYS)
    assert response.status_code == 200
    rows = {row[1]: row for row in result_rows(response)}
    assert rows["川A660P1"][4] == "2 小时 05 分"
    assert rows["川A660P1"][8:10] == ["¥10.00", "¥0.00"]
    assert rows["川B12345"][9] == "¥3.00"
    assert rows["川C00001"][9] == "—"
    assert rows["川C00001"][10] == "在场"
    html = response.content.decode()
    assert html.count('class="orders-gap"') == 2  # the short stay's row and the total
    assert '<td class="stays-total-count">3</td>' in html
    assert '<td class="stays-total-in-park">1</td>' in html
    assert '<td class="stays-total-fee">¥20.00</td>' in html
    assert '<td class="stays-total-paid">¥17.00</td>' in html
    assert '<td class="stays-total-with-gap">1</td>' in html


@pytest.mark.parametrize(
    ("query", "plates"),
    [
        ("in_park=1", {"川C00001"}),
        ("in_park=0", {"川A660P1", "川B12345"}),
        ("has_gap=1", {"川B12345"}),
        ("has_gap=0", {"川A660P1", "川C00001"}),
        ("review=1", {"川C00001"}),
        ("park=park-west", {"川C00001"}),
        ("entry_date_from=2026-11-02&entry_date_to=2026-11-02", {"川B12345"}),
        ("exit_date_from=2026-11-01&exit_date_to=2026-11-01", {"川A660P1"}),
        ("q=%E5%B7%9Da+660p1", {"川A660P1"}),  # 川a 660p1: any spelling
        ("q=12345", {"川B12345"}),  # the plate's ending
    ],
)
def test_stay_list_filters_and_search(finance, stays, query, plates):
    response = finance.get(f"{STAYS}?{query}")
    assert response.status_code == 200
    assert {row[1] for row in result_rows(response)} == plates


def test_stay_list_searches_the_parking_serial(finance, stays):
    response = finance.get(STAYS, {"q": stays["short"].parking_serial})
    assert [row[1] for row in result_rows(response)] == ["川B12345"]


@pytest.mark.parametrize(
    "query", ["has_gap=2", "in_park=x", "entry_date_from=2026-02-30", "park=%00", "q=%00("]
)
def test_stay_list_refuses_a_bad_value_with_a_message_never_a_500(finance, stays, query):
    response = finance.get(f"{STAYS}?{query}", follow=True)
    assert response.status_code in {200, 400}
    if response.status_code == 200 and "q=" not in query:
        assert messages_of(response)


def test_a_stay_page_shows_its_timeline_in_order_and_links_its_orders(finance, stays):
    stay = stays["short"]
    order = PayOrderFactory(
        park=stay.park,
        parking_serial=stay.parking_serial,
        pay_value=100,
        pay_time=stay.enter_time + timedelta(minutes=30),
    )
    PushLog.objects.create(
        kind=PushLog.Kind.EXIT,
        code="1001",
        reason="accepted",
        plate=stay.plate,
        stay=stay,
        received_at=stay.leave_time + timedelta(seconds=5),
    )
    response = finance.get(f"{STAYS}{stay.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    timeline = html.split('class="stays-timeline"')[1].split("</table>")[0]
    labels = [label for label in ("入场", f"/admin/orders/payorder/{order.pk}/", "出场") if label]
    positions = [timeline.index(label) for label in labels]
    assert positions == sorted(positions)
    assert "收到推送" in timeline
    # The order's page links back to its stay.
    order_page = finance.get(f"/admin/orders/payorder/{order.pk}/change/").content.decode()
    assert f"/admin/orders/stay/{stay.pk}/change/" in order_page


def test_order_list_links_each_order_to_its_stay_for_those_who_may_see_stays(
    finance, staff_client, stays
):
    lost = PayOrderFactory(park=stays["paid"].park, parking_serial="no-stay-pushed")
    page = finance.get(ORDERS)
    html = page.content.decode()
    stay_url = f"{STAYS}{stays['short'].pk}/change/"
    assert f'<a href="{stay_url}">查看</a>' in html
    rows = {row[-2]: row for row in result_rows(page)}  # by pay serial
    assert rows[lost.pay_serial][-1] == "—"
    # Without the stay permission: neither the column nor the link on the order's page.
    clerk = staff_client("orders.view_payorder")
    assert "/admin/orders/stay/" not in clerk.get(ORDERS).content.decode()
    paid = PayOrder.objects.get(parking_serial=stays["short"].parking_serial)
    assert stay_url in finance.get(f"{ORDERS}{paid.pk}/change/").content.decode()
    assert "/admin/orders/stay/" not in clerk.get(f"{ORDERS}{paid.pk}/change/").content.decode()


def test_stays_are_read_only_and_refused_to_a_role_that_may_not(staff_client, stays):
    viewer = staff_client("orders.view_stay")
    assert viewer.post(f"{STAYS}{stays['paid'].pk}/change/", {}).status_code == 403
    assert viewer.get(f"{STAYS}add/").status_code == 403
    nobody = staff_client("whitelist.view_park")
    assert nobody.get(STAYS).status_code == 403
    assert nobody.get(RENEWALS).status_code == 403


def test_operations_sees_stays_but_not_renewals_or_exports(operations, stays):
    assert operations.get(STAYS).status_code == 200
    assert operations.get(RENEWALS).status_code == 403
    assert operations.get(f"{STAYS}export/").status_code == 403


def test_stay_exports_open_with_serials_as_text_and_formulas_escaped(finance, stays):
    StayFactory(park=stays["paid"].park, parking_serial="=1+1", left=True)
    rows = csv_rows(finance.get(f"{STAYS}export/", {"park": "park-east"}))
    assert len(rows) == 4
    by_serial = {row[0]: row for row in rows[1:]}
    assert "'=1+1" in by_serial
    short = by_serial[stays["short"].parking_serial]
    # The columns of the API's stay file (orders.exports.stays, described once).
    column = {c.source: n for n, c in enumerate(STAY_COLUMNS)}
    assert short[column["length_minutes"]] == "60"
    assert short[column["gap"]] == "3.00"
    response = finance.get(f"{STAYS}export/xlsx/", {"park": "park-east"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    serials = [row[0] for row in values]
    assert stays["short"].parking_serial in serials
    assert all(isinstance(serial, str) for serial in serials if serial)


@pytest.fixture
def renewals(db) -> dict:
    east = ParkFactory(park_uuid="park-east", name="东门停车场")
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    day = datetime(2026, 11, 1, 2, tzinfo=UTC)
    return {
        "a": RenewalFactory(park=east, pay_time=day, pay_value=30000),
        "b": RenewalFactory(park=east, pay_time=day, pay_value=20000, plate="川B12345"),
        "c": RenewalFactory(
            park=west,
            pay_time=day + timedelta(days=3),
            pay_value=99900,
            vip_type=Renewal.VipType.YEARLY,
            quantity=365,
        ),
    }


def test_renewal_list_totals_per_park_and_type(finance, renewals):
    response = finance.get(RENEWALS)
    assert response.status_code == 200
    html = response.content.decode()
    totals = html.split('class="orders-totals"')[1].split("</table>")[0]
    assert "东门停车场" in totals and "月卡" in totals and "¥500.00" in totals
    assert "西门停车场" in totals and "年卡" in totals and "¥999.00" in totals
    rows = result_rows(response)
    assert len(rows) == 3
    assert {row[3] for row in rows} == {"月卡", "年卡"}


@pytest.mark.parametrize(
    ("query", "plates"),
    [
        ("park=park-west", ["川A660P1"]),
        ("vip_type=5", ["川A660P1"]),
        ("pay_date_from=2026-11-01&pay_date_to=2026-11-01", ["川A660P1", "川B12345"]),
        ("q=%E5%B7%9Db12345", ["川B12345"]),
    ],
)
def test_renewal_list_filters_and_search(finance, renewals, query, plates):
    response = finance.get(f"{RENEWALS}?{query}")
    assert sorted(row[1] for row in result_rows(response)) == plates


def test_renewal_search_by_pay_serial_and_exports(finance, renewals):
    serial = renewals["c"].pay_serial
    assert [row[1] for row in result_rows(finance.get(RENEWALS, {"q": serial}))] == ["川A660P1"]
    rows = csv_rows(finance.get(f"{RENEWALS}export/", {"q": serial}))
    # The columns of the API's renewal file (orders.exports.stays): the amount in yuan first.
    column = {c.source: n for n, c in reversed(list(enumerate(RENEWAL_COLUMNS)))}
    assert rows[1][0] == serial and rows[1][column["vip_type_label"]] == "年卡"
    assert rows[1][column["pay_value"]] == "999.00"
    response = finance.get(f"{RENEWALS}export/xlsx/")
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    assert sum(1 for row in sheet.iter_rows() if row[0].value in {serial}) == 1


def test_plate_page_shows_each_role_only_what_it_may_see(finance, operations, staff_client, stays):
    WhitelistEntryFactory(plate="川A660P1", park_uuid="park-east", holder="张三 13812345678")
    everywhere = WhitelistEntryFactory(plate="川A660P1", park_uuid="", valid_until=None)
    RenewalFactory(park=stays["paid"].park)
    url = PLATE.format("川a660p1")
    seen = finance.get(url)
    assert seen.status_code == 200
    html = seen.content.decode()
    # Entries read as on the whitelist: the park by name (全部车场 for all), 长期有效.
    entry_url = f"/admin/whitelist/whitelistentry/{everywhere.pk}/change/"
    assert f'<a href="{entry_url}">全部车场</a>' in html
    assert ">东门停车场</a>" in html and "长期有效" in html
    for section in ("plate-whitelist", "plate-stays", "plate-orders", "plate-renewals"):
        assert f'id="{section}"' in html
    assert "13812345678" not in html and "138****5678" in html
    ops = operations.get(url).content.decode()
    assert 'id="plate-stays"' in ops and 'id="plate-whitelist"' in ops
    assert 'id="plate-orders"' not in ops and 'id="plate-renewals"' not in ops
    assert staff_client("whitelist.view_park").get(url).status_code == 403
    # Every list showing the plate links to its page, the whitelist's too.
    assert "/admin/orders/plate/" in finance.get(STAYS).content.decode()
    whitelist = operations.get("/admin/whitelist/whitelistentry/").content.decode()
    assert '<a href="/admin/orders/plate/%E5%B7%9DA660P1/">查看</a>' in whitelist


@pytest.mark.parametrize("plate", ["%00", "a" * 100, "%E5%B7", "<script>", "..", "%20"])
def test_plate_page_of_any_text_is_a_page_or_a_404_never_a_500(finance, plate):
    response = finance.get(PLATE.format(plate))
    assert response.status_code in {200, 404}
    if response.status_code == 200:
        assert 'id="plate-stays"' in response.content.decode()


def test_coupon_and_push_log_lists_link_plates_and_an_unlinkable_plate_is_text(finance, stays):
    MerchantCouponFactory(order=PayOrderFactory(park=stays["paid"].park, plate="川B12345"))
    for plate in ("川C00001", "川A/B1"):  # the second: what a refused push may carry
        PushLog.objects.create(
            kind=PushLog.Kind.ENTRY, code="1403", reason="not_whitelisted", plate=plate
        )
    coupons = finance.get("/admin/orders/merchantcoupon/").content.decode()
    assert '<a href="/admin/orders/plate/%E5%B7%9DB12345/">川B12345</a>' in coupons
    log = finance.get(PUSH_LOG)
    assert log.status_code == 200
    html = log.content.decode()
    assert '<a href="/admin/orders/plate/%E5%B7%9DC00001/">川C00001</a>' in html
    assert re.search(r'<td class="field-plate_display(_masked)?">川A/B1</td>', html)


def test_push_log_kind_filter_and_an_entry_fixed_by_a_later_push(finance, stays):
    stay = stays["inside"]
    at = datetime(2026, 11, 3, tzinfo=UTC)
    refused = PushLog.objects.create(
        kind=PushLog.Kind.ENTRY,
        code="1002",
        reason="bad_signature",
        plate=stay.plate,
        received_at=at,
    )
    PushLog.objects.create(
        kind=PushLog.Kind.ENTRY,
        code="1001",
        reason="accepted",
        plate=stay.plate,
        stay=stay,
        received_at=at + timedelta(minutes=1),
    )
    still = PushLog.objects.create(
        kind=PushLog.Kind.EXIT,
        code="1002",
        reason="bad_signature",
        plate=stay.plate,
        received_at=at,
    )
    response = finance.get(PUSH_LOG, {"kind": "entry"})
    rows = result_rows(response)
    assert len(rows) == 2 and all("入场" in row for row in rows)
    fixed = finance.get(PUSH_LOG, {"fixed": "1"})
    assert f"/admin/orders/pushlog/{refused.pk}/change/" in fixed.content.decode()
    not_fixed = finance.get(PUSH_LOG, {"fixed": "0"}).content.decode()
    assert f"/admin/orders/pushlog/{still.pk}/change/" in not_fixed
    assert finance.get(PUSH_LOG, {"kind": "nope"}, follow=True).status_code == 200
