"""The generic reads on large tables: a loose index scan for distinct values, cheap counts."""

import pytest
from django.db import connection

from orders.models import PayOrder, PushLog
from orders.tests.factories import PayOrderFactory
from parkingops import queries

pytestmark = pytest.mark.django_db


def test_distinct_values_walk_the_index_in_order_up_to_a_limit():
    for channel in ["300", "100", "200", "100", "300"]:
        PayOrderFactory(channel=channel)

    assert queries.distinct_values(model=PayOrder, field_name="channel") == ["100", "200", "300"]
    assert queries.distinct_values(model=PayOrder, field_name="channel", limit=2) == [
        "100",
        "200",
    ]
    assert queries.distinct_values(model=PushLog, field_name="code") == []


def test_estimate_count_is_exact_for_small_results():
    PayOrderFactory.create_batch(3)

    assert queries.estimate_count(PayOrder.objects.all()) == 3
    assert queries.estimate_count(PayOrder.objects.filter(pay_value=5)) == 0


def test_estimate_count_of_an_empty_queryset_is_zero_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert queries.estimate_count(PayOrder.objects.none(), exact_below=0) == 0


def test_estimate_count_of_a_large_result_comes_from_the_planner_on_postgresql():
    PayOrderFactory.create_batch(3)
    orders = PayOrder.objects.all()

    count = queries.estimate_count(orders, exact_below=0)

    if connection.vendor == "postgresql":
        sql, params = orders.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            assert count == cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
    else:
        assert count == 3
