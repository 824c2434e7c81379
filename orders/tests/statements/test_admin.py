"""The statement page and its CSV export (``orders.statements.admin``, ``.exports``)."""

import io
import re
from datetime import datetime

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import PayOrder
from orders.tests.conftest import FINANCE, OPERATIONS, csv_rows
from orders.tests.factories import PayOrderFactory
from orders.tests.test_admin import cell_texts, listed_serials

STATEMENT = "/admin/orders/statement/"
EXPORT = "/admin/orders/statement/export/"


def table_rows(response, kind: str) -> list[list[str]]:
    page = response.content.decode()
    return [cell_texts(row) for row in re.findall(rf'<tr class="{kind}">(.*?)</tr>', page, re.S)]


@pytest.fixture
def finance(staff_client):
    return staff_client(*FINANCE)


@pytest.fixture
def finance_en(staff_client):
    return staff_client(*FINANCE, language="en")


# The renewals and stays columns, empty in ``november`` (orders only).
NONE = ["0", "¥0.00", "0", "0", "¥0.00"]


def test_the_page_shows_each_holders_subtotal_then_their_plates_and_the_total(
    finance, november, django_assert_max_num_queries
):
    # The holders to page, their entries, five grouped reads, the total (the rollup's read,
    # renewals, stays), the session's; on PostgreSQL also each read's statement timeout (set
    # and reset) and the rollup read's transaction: as many whatever the number of orders.
    with django_assert_max_num_queries(19):
        response = finance.get(STATEMENT, {"month": "2026-11"})

    assert response.status_code == 200
    rows = re.findall(r'<tr class="(orders-[a-z -]+)">(.*?)</tr>', response.content.decode(), re.S)
    assert [(kind.split()[-1], cell_texts(cells)) for kind, cells in rows] == [
        ("orders-statement-holder", ["张三", "持有人小计", "3", "¥17.50", "¥2.00", "¥3.00", *NONE]),
        ("orders-statement-plate", ["", "川A12345", "1", "¥2.50", "¥0.00", "¥0.00", *NONE]),
        ("orders-statement-plate", ["", "川A660P1", "2", "¥15.00", "¥2.00", "¥3.00", *NONE]),
        ("orders-statement-holder", ["李四", "持有人小计", "1", "¥7.00", "¥0.00", "¥0.00", *NONE]),
        ("orders-statement-plate", ["", "渝B5C8Q6", "1", "¥7.00", "¥0.00", "¥0.00", *NONE]),
        ("orders-summary-total", ["合计", "4", "¥24.50", "¥2.00", "¥3.00", *NONE]),
    ]
    page = response.content.decode()
    assert (
        'href="/admin/orders/payorder/?q=%E5%B7%9DA660P1&amp;pay_date_from=2026-11-01'
        '&amp;pay_date_to=2026-11-30"' in page
    )
    assert 'href="/admin/orders/statement/export/?from=2026-11-01&amp;to=2026-11-30"' in page


def test_with_one_holder_the_page_lists_their_orders_beneath(finance, november):
    response = finance.get(STATEMENT, {"month": "2026-11", "holder": "张三"})

    orders = table_rows(response, "orders-statement-order")
    assert [(row[0], row[1], row[4], row[5]) for row in orders] == [
        ("张三", "川A12345", "2026-11-15 12:00:00", "¥2.50"),
        ("张三", "川A660P1", "2026-11-01 00:00:00", "¥10.00"),
        ("张三", "川A660P1", "2026-11-30 23:59:00", "¥5.00"),
    ]


def test_the_csv_has_order_rows_then_plate_and_holder_subtotals_marked_by_row_kind(
    finance_en, november
):
    response = finance_en.get(EXPORT, {"month": "2026-11"})

    rows = csv_rows(response)
    assert rows[0] == [
        "row_kind",
        "holder",
        "plate",
        "pay_serial",
        "parking_serial",
        "park_uuid",
        "park_name",
        "pay_time",
        "order_count",
        "pay_value_yuan",
        "pay_value_fen",
        "discount_relief_yuan",
        "coupon_money_yuan",
        "renewal_count",
        "renewal_value_yuan",
        "stay_count",
        "stay_minutes",
        "stay_gap_yuan",
    ]
    shape = [(r[0], r[1], r[2], r[7], r[8], r[9], r[11], r[12]) for r in rows[1:]]
    assert shape == [
        ("order", "张三", "川A12345", "2026-11-15 12:00:00", "", "2.50", "0.00", "0.00"),
        ("plate_subtotal", "张三", "川A12345", "", "1", "2.50", "0.00", "0.00"),
        ("order", "张三", "川A660P1", "2026-11-01 00:00:00", "", "10.00", "2.00", "3.00"),
        ("order", "张三", "川A660P1", "2026-11-30 23:59:00", "", "5.00", "0.00", "0.00"),
        ("plate_subtotal", "张三", "川A660P1", "", "2", "15.00", "2.00", "3.00"),
        ("holder_subtotal", "张三", "", "", "3", "17.50", "2.00", "3.00"),
        ("order", "李四", "渝B5C8Q6", "2026-11-02 08:00:00", "", "7.00", "0.00", "0.00"),
        ("plate_subtotal", "李四", "渝B5C8Q6", "", "1", "7.00", "0.00", "0.00"),
        ("holder_subtotal", "李四", "", "", "1", "7.00", "0.00", "0.00"),
        ("total", "Total", "", "", "4", "24.50", "2.00", "3.00"),
    ]
    assert response["Content-Disposition"] == (
        'attachment; filename="statement_2026-11-01_2026-11-30.csv"'
    )


def test_the_csv_order_rows_add_up_to_the_total_it_states(finance_en, november):
    rows = csv_rows(finance_en.get(EXPORT, {"from": "2026-10-01", "to": "2026-12-31"}))

    orders = [row for row in rows[1:] if row[0] == "order"]
    assert sum(int(row[10]) for row in orders) == int(rows[-1][10]) == 2450 + 2 * 9999
    assert len(orders) == int(rows[-1][8]) == 6


def test_the_csv_headers_are_chinese_with_their_units(finance, november):
    header = csv_rows(finance.get(EXPORT, {"month": "2026-11"}))[0]

    assert header[:3] == ["行类型", "持有人", "车牌"]
    assert header[12:] == [
        "商户券金额(元)",
        "续费笔数",
        "续费金额(元)",
        "停车次数",
        "停车时长(分钟)",
        "停车差额(元)",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "0000-13"}, "is not a month"),
        ({"from": "0001-01-01", "to": "2026-11-01"}, "out of range"),
        ({"holder": "nobody"}, "No whitelist entry has the holder “nobody”."),
        ({"holder": "a\x00"}, "NUL"),
        ({"month": "2026-11", "view": "pivot"}, "“view” is not a parameter of this page."),
    ],
)
@pytest.mark.parametrize("url", [STATEMENT, EXPORT])
def test_hostile_parameters_answer_400_with_the_reason(finance_en, november, url, params, message):
    response = finance_en.get(url, params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_finance_may_see_the_statement_but_operations_may_not(staff_client, november):
    viewer = staff_client("orders.view_payorder")

    assert viewer.get(STATEMENT).status_code == 200
    assert viewer.get(EXPORT).status_code == 403  # exporting needs "export orders"
    assert staff_client(*OPERATIONS).get(STATEMENT).status_code == 403


def test_the_statement_and_the_pivot_are_linked_from_the_admin_index_and_the_orders_app(
    finance, staff_client
):
    for url in ["/admin/", "/admin/orders/"]:
        page = finance.get(url).content.decode()
        assert f'href="{STATEMENT}"' in page
        assert 'href="/admin/orders/summary/daily/?view=pivot"' in page
    assert f'href="{STATEMENT}"' not in staff_client(*OPERATIONS).get("/admin/").content.decode()


def test_the_csv_reads_a_fixed_number_of_queries_whatever_the_number_of_orders(
    finance_en, november
):
    """Subtotals from three grouped queries, orders from one cursor with their discounts and
    coupons read once per chunk: more orders, no more queries."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = finance_en.get(EXPORT, {"month": "2026-11"})
            b"".join(response.streaming_content)
        return len(captured.captured_queries)

    before = queries()
    for day in range(1, 21):
        PayOrderFactory(
            park=november["park"],
            plate="渝B5C8Q6",
            whitelist_entry=november["li"],
            pay_time=november["zhang_a"].valid_from.replace(year=2026, month=11, day=day),
        )
    assert queries() == before


def test_a_plates_link_opens_the_order_list_of_that_plate_and_the_statements_days(
    finance, november
):
    page = finance.get(STATEMENT, {"month": "2026-11"}).content.decode()
    link = re.search(r'<a href="(/admin/orders/payorder/\?q=%E6%B8%9D[^"]+)"', page)[1]

    listed = finance.get(link.replace("&amp;", "&"))

    assert listed.status_code == 200
    assert listed_serials(listed) == {
        order.pay_serial for order in PayOrder.objects.filter(plate="渝B5C8Q6", pay_value=700)
    }


def test_the_excel_file_has_the_csvs_rows_as_typed_cells_on_one_sheet(finance_en, november):
    csv_header, *csv_lines = csv_rows(finance_en.get(EXPORT, {"month": "2026-11"}))
    response = finance_en.get(EXPORT + "xlsx/", {"month": "2026-11"})

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    header, *rows = [[cell.value for cell in row] for row in book["Statement"].iter_rows()]
    assert header == csv_header
    assert [row[0] for row in rows] == [row[0] for row in csv_lines]
    first_order = rows[0]
    assert isinstance(first_order[3], str) and len(first_order[3]) >= 20  # the serial, whole
    assert isinstance(first_order[7], datetime)
    assert rows[-1][:2] == ["total", "Total"] and rows[-1][9] == 24.5
    assert book.sheetnames == ["Statement", "Filters"]


def test_the_page_offers_excel_first_then_csv(finance, november):
    page = finance.get(STATEMENT, {"month": "2026-11"}).content.decode()

    assert page.index(EXPORT + "xlsx/?") < page.index(EXPORT + "?")
