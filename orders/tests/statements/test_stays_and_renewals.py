"""The statement's renewals and stays per holder (``orders.statements``): their own columns,
each unit apart (renewal money, stay minutes, stay gap), beside the orders of ``november``."""

from datetime import date, datetime

import pytest

from orders.statements import selectors
from orders.statements.selectors import read_params
from orders.tests.api.test_views import csv_rows, key_client, make_user, streamed
from orders.tests.conftest import FINANCE
from orders.tests.factories import PayOrderFactory, RenewalFactory, StayFactory
from orders.tests.test_admin import cell_texts
from parkingops.formatting import CHINA
from whitelist.tests.factories import WhitelistEntryFactory

TODAY = date(2026, 11, 20)
STATEMENTS = "/api/v1/statements/"


def _china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture
def renewals_and_stays(november) -> dict:
    """张三's 川A660P1 renews twice and leaves twice (one stay unpaid: a 10-yuan gap); 王五
    (no orders at all) renews once; out-of-period and unowned ones count nowhere."""
    zhang_a, li = november["zhang_a"], november["li"]
    wang = WhitelistEntryFactory(plate="川A99999", holder="王五")
    RenewalFactory(plate=zhang_a.plate, whitelist_entry=zhang_a, pay_time=_china(2026, 11, 3, 9))
    RenewalFactory(
        plate=zhang_a.plate, whitelist_entry=zhang_a, pay_time=_china(2026, 11, 30, 23), vip_type=5
    )
    RenewalFactory(plate=wang.plate, whitelist_entry=wang, pay_time=_china(2026, 11, 5, 9))
    RenewalFactory(plate=li.plate, whitelist_entry=li, pay_time=_china(2026, 12, 1, 0))  # Dec.
    RenewalFactory(plate="京A00001", pay_time=_china(2026, 11, 5, 9))  # no entry: nobody's

    # Serials of their own: the order factory's sequence spells serials as the stay's does.
    paid = StayFactory(
        parking_serial="stay-paid",
        left=True, plate=zhang_a.plate, entry_whitelist_entry=zhang_a,
        enter_time=_china(2026, 11, 4, 8), parking_time=5430,
    )  # fmt: skip
    PayOrderFactory(parking_serial=paid.parking_serial, pay_value=1000, plate="京A00002")
    StayFactory(
        parking_serial="stay-unpaid",
        left=True, plate=zhang_a.plate, exit_whitelist_entry=zhang_a,
        enter_time=_china(2026, 11, 6, 8), parking_time=60,
    )  # fmt: skip
    # In the park: not left.
    StayFactory(parking_serial="stay-in", plate=zhang_a.plate, entry_whitelist_entry=zhang_a)
    return {"wang": wang}


def line_of(statement, holder: str, plate: str = ""):
    entry = next(entry for entry in statement.holders if entry.holder == holder)
    return entry.total if not plate else next(p for p in entry.plates if p.plate == plate)


def test_renewals_and_stays_are_counted_per_holder_and_plate_each_unit_apart(
    renewals_and_stays, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        statement = selectors.statement(query=read_params({"month": "2026-11"}, today=TODAY))

    zhang = line_of(statement, "张三", "川A660P1")
    assert (zhang.orders, zhang.paid) == (2, 1500)  # the orders alone, renewals not added
    assert (zhang.renewals, zhang.renewal_value) == (2, 60000)
    assert (zhang.stays, zhang.stay_seconds, zhang.stay_minutes, zhang.stay_gap) == (
        2,
        5490,
        91,
        1000,
    )
    assert line_of(statement, "张三").renewal_value == 60000
    wang = line_of(statement, "王五")
    assert (wang.orders, wang.paid, wang.renewals, wang.renewal_value) == (0, 0, 1, 30000)
    assert line_of(statement, "李四").renewals == 0
    total = statement.total
    assert (total.paid, total.renewals, total.renewal_value, total.stays) == (2450, 3, 90000, 2)


def test_one_holder_or_plate_narrows_renewals_and_stays_too(renewals_and_stays):
    statement = selectors.statement(
        query=read_params({"month": "2026-11", "plate": "川a99999"}, today=TODAY)
    )

    assert [entry.holder for entry in statement.holders] == ["王五"]
    assert (statement.total.renewals, statement.total.stays) == (1, 0)


def test_the_files_carry_them_in_subtotal_rows_a_holder_without_orders_too(renewals_and_stays, db):
    client = key_client(
        make_user(permissions=("orders.view_payorder", "orders.export_orders")), language="en"
    )

    header, *rows = csv_rows(
        streamed(client.get(STATEMENTS + "export/", {"month": "2026-11", "format": "csv"}))
    )

    records = [dict(zip(header, row, strict=True)) for row in rows]
    plate = next(
        r for r in records if r["row_kind"] == "plate_subtotal" and r["plate"] == "川A660P1"
    )
    assert (plate["renewal_count"], plate["renewal_value_yuan"]) == ("2", "600.00")
    assert (plate["stay_count"], plate["stay_minutes"], plate["stay_gap_yuan"]) == (
        "2",
        "91",
        "10.00",
    )
    assert plate["pay_value_yuan"] == "15.00"
    order = next(r for r in records if r["row_kind"] == "order")
    assert order["renewal_count"] == order["stay_gap_yuan"] == ""
    wang = [(r["row_kind"], r["plate"]) for r in records if r["holder"] == "王五"]
    assert wang == [("plate_subtotal", "川A99999"), ("holder_subtotal", "")]
    assert records[-1]["row_kind"] == "total" and records[-1]["renewal_value_yuan"] == "900.00"

    body = client.get(STATEMENTS, {"month": "2026-11"}).json()
    assert body["total"]["renewal_value"] == 90000
    assert body["total"]["stay_minutes"] == 91
    assert [h["holder"] for h in body["holders"]] == ["张三", "李四", "王五"]


def test_a_stay_that_left_after_the_period_is_not_in_it(november):
    StayFactory(
        left=True,
        plate="川A660P1",
        entry_whitelist_entry=november["zhang_a"],
        enter_time=_china(2026, 11, 30, 23, 30),
    )
    statement = selectors.statement(query=read_params({"month": "2026-11"}, today=TODAY))

    # The factory's stay leaves an hour after entering: in December.
    assert statement.total.stays == 0


def test_the_admin_page_shows_them_in_their_own_columns(renewals_and_stays, staff_client):
    client = staff_client(*FINANCE)
    response = client.get("/admin/orders/statement/", {"month": "2026-11", "plate": "川A660P1"})

    page = response.content.decode()
    assert "续费金额" in page and "停车差额" in page
    row = page.split('<tr class="orders-statement-plate">')[1].split("</tr>")[0]
    assert cell_texts(row)[2:] == [
        "2",
        "¥15.00",
        "¥2.00",
        "¥3.00",
        "2",
        "¥600.00",
        "2",
        "91",
        "¥10.00",
    ]
