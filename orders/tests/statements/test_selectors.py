"""The statement's rules and numbers (``orders.statements.selectors``)."""

from datetime import date

import pytest
from django.utils import translation

from orders.statements import selectors
from orders.statements.selectors import StatementQuery, StatementQueryError, read_params

TODAY = date(2026, 11, 20)


def lines(statement) -> list[tuple]:
    return [
        (entry.holder, line.plate, line.orders, line.paid, line.relief, line.coupon_value)
        for entry in statement.holders
        for line in [entry.total, *entry.plates]
    ]


def test_a_month_gives_per_holder_and_plate_the_count_paid_relief_and_amount_coupon_money(
    november, django_assert_max_num_queries
):
    query = read_params({"month": "2026-11"}, today=TODAY)

    with django_assert_max_num_queries(7):
        statement = selectors.statement(query=query)

    assert (query.date_from, query.date_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert lines(statement) == [
        ("张三", "", 3, 1750, 200, 300),
        ("张三", "川A12345", 1, 250, 0, 0),
        ("张三", "川A660P1", 2, 1500, 200, 300),
        ("李四", "", 1, 700, 0, 0),
        ("李四", "渝B5C8Q6", 1, 700, 0, 0),
    ]
    total = statement.total
    assert (total.orders, total.paid, total.relief, total.coupon_value) == (4, 2450, 200, 300)


def test_one_holder_or_one_plate_narrows_the_statement(november):
    by_holder = selectors.statement(query=read_params({"holder": "李四"}, today=TODAY))
    by_plate = selectors.statement(query=read_params({"plate": "川a 660p1"}, today=TODAY))

    assert [entry.holder for entry in by_holder.holders] == ["李四"]
    assert [line.plate for entry in by_plate.holders for line in entry.plates] == ["川A660P1"]


def test_a_range_of_days_is_cut_at_china_midnight(november):
    query = read_params({"from": "2026-10-31", "to": "2026-11-01"}, today=TODAY)

    statement = selectors.statement(query=query)

    assert statement.total.orders == 2
    assert statement.total.paid == 9999 + 1000


def test_without_parameters_the_statement_is_this_month():
    assert read_params({}, today=date(2026, 2, 14)) == StatementQuery(
        date(2026, 2, 1), date(2026, 2, 28)
    )


def test_the_orders_come_by_holder_plate_and_pay_time(november):
    query = read_params({"month": "2026-11"}, today=TODAY)

    orders = selectors.statement_orders(query=query)

    assert [(o.whitelist_entry.holder, o.plate, o.pay_value) for o in orders] == [
        ("张三", "川A12345", 250),
        ("张三", "川A660P1", 1000),
        ("张三", "川A660P1", 500),
        ("李四", "渝B5C8Q6", 700),
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"month": "0000-13"}, "month", "is not a month"),
        ({"month": "2026-00"}, "month", "is not a month"),
        ({"month": "1999-12"}, "month", "out of range"),
        ({"month": "2100-01"}, "month", "out of range"),
        ({"month": "2026-11-01"}, "month", "is not a month"),
        ({"month": "2026-11", "from": "2026-11-01"}, "month", "not both"),
        ({"from": "0001-01-01", "to": "2026-11-01"}, "from", "out of range"),
        ({"from": "2026-11-01"}, "to", "Give both"),
        ({"to": "2026-11-01"}, "from", "Give both"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "from", "is after the last day"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "from", "at most 366 days"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "is not a date"),
        ({"holder": "王五"}, "holder", "No whitelist entry has the holder “王五”."),
        ({"holder": "张\x00三"}, "holder", "NUL"),
        ({"month": "\x00"}, "month", "NUL"),
        ({"plate": "not a plate"}, "plate", ""),
    ],
)
def test_hostile_parameters_are_refused_with_a_message_per_parameter(
    november, params, field, message
):
    with translation.override("en"), pytest.raises(StatementQueryError) as caught:
        read_params(params, today=TODAY)

    assert list(caught.value.errors) == [field]
    assert message in " ".join(caught.value.errors[field])
