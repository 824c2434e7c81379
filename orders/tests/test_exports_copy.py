"""The order CSV on PostgreSQL, written by one COPY: the same bytes as the Python writer for
every awkward value, masked and unmasked; the admin's, the API's and the command's querysets
(filters, search, order) drive it; it streams and can be abandoned half-way.

The Python writer (SQLite, and PostgreSQL with ``COPY_ON_POSTGRESQL`` off) is the reference.
"""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders import selectors
from orders.exports import copy
from orders.exports.columns import ORDER_COLUMNS
from orders.exports.orders import orders_csv
from orders.models import Channel, MerchantCoupon, PayOrder
from orders.tests.conftest import FINANCE
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import api_keys, tabular, timerange
from parkingops.formatting import CHINA
from parkingops.roles import FINANCE as FINANCE_GROUP
from parkingops.roles import apply_roles
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite has the Python writer"
)

ORDERS_EXPORT = "/admin/orders/payorder/export/"

# Text cells that need quoting, escaping, or both, in the forms Chinese users type them.
AWKWARD_TEXTS = [
    "",
    'comma, "quotes"',
    "line\nfeed",
    "crlf\r\ninside",
    "ends with LF\n",
    '"',
    "=1+1",
    "+86 138",
    "-2",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "＝１＋１",
    "＋86",
    "－1",
    "＠x",
    "用户，标识",
    "  spaced  ",
    "back\\slash",
    "'quoted'",
]

MOBILES = [
    "13800138000",  # 11 digits
    "12",  # shorter than 3
    "123",
    "1234567",  # shorter than 8
    "12345678",
    " 13912345678 ",  # stripped first
    "\u300013912345678",  # an ideographic space: stripped as well
    "   ",  # only white space: masks to nothing
    "=13800138000",  # a formula start
    "+86 138 0013 8000",
    "138,0013,8000",
    '138"0013',
    "138\n0013\n8000",
    "手机号码一二三四五",
    "+8613800138000123456789",
]

MASKED_MOBILES = [
    "138****8000",
    "**",
    "1*3",
    "1*****7",
    "123****5678",
    "139****5678",
    "139****5678",
    "",
    "=13****8000",
    "+86****8000",
    "138****8000",
    "138****0013",
    "138****8000",
    "手机号****二三四五",
    "+86****6789",
]


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture
def awkward_orders(db) -> list[PayOrder]:
    """Orders with an awkward value in every text cell, odd amounts and times, and no, one or
    several discounts (with every kind of mobile) and coupons."""
    parks = [
        ParkFactory(park_uuid="", name=""),
        ParkFactory(park_uuid='=uuid,"1"', name='南门, "东"区\n二号'),
        ParkFactory(park_uuid="＠park", name="＝SUM(A1)"),
        ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a", name="南门停车场"),
    ]
    texts = len(AWKWARD_TEXTS)
    orders = []
    for n, text in enumerate(AWKWARD_TEXTS):
        pay_time = china(2026, 10, 1 + n, n % 24, n, n)
        if n == 1:
            pay_time = datetime(2026, 11, 1, 15, 59, 59, 999999, tzinfo=UTC)
        elif n == 2:  # the first instant of the product's span, 16:00 UTC the day before
            pay_time = timerange.EARLIEST
        order = PayOrderFactory(
            pay_serial=text,
            parking_serial=AWKWARD_TEXTS[(n + 1) % texts],
            plate=AWKWARD_TEXTS[(n + 2) % texts],
            channel=AWKWARD_TEXTS[(n + 3) % texts],
            identity=AWKWARD_TEXTS[(n + 4) % texts],
            park=parks[n % len(parks)],
            pay_value=(0, 1, 5, 99, 100, 1250, 123456789)[n % 7],
            pay_time=pay_time,
            received_at=datetime(2026, 11, 1, 16, 0, 0, 123456, tzinfo=UTC),
        )
        if n % 4 == 1:
            DiscountFactory(order=order, mobile="", relief_value=300)
        elif n % 4 == 2:
            for k in range(3):
                mobile = MOBILES[(n + k) % len(MOBILES)]
                DiscountFactory(order=order, mobile=mobile, relief_value=25 * k + 1)
        elif n % 4 == 3:
            DiscountFactory(order=order, mobile=MOBILES[n % len(MOBILES)], relief_value=0)
        for k in range(n % 3):
            MerchantCouponFactory(order=order, coupon_value=(0, 1000)[k])
        if n % 5 == 4:  # a time coupon: counted, but its minutes are no money
            MerchantCouponFactory(
                order=order, coupon_type=MerchantCoupon.CouponType.TIME, coupon_value=120
            )
        orders.append(order)
    # Every mobile alone on an order, and all of them on one order, in this order.
    for n, mobile in enumerate(MOBILES):
        DiscountFactory(order=PayOrderFactory(park=parks[3], identity=f"mobile {n}"), mobile=mobile)
    crowded = PayOrderFactory(park=parks[3], identity="many discounts")
    for mobile in MOBILES:
        DiscountFactory(order=crowded, mobile=mobile, relief_value=7)
    return orders


def admin_queryset():
    """The order list's queryset as the admin export gets it: annotated, newest first."""
    orders = PayOrder.objects.select_related("park")
    return selectors.with_row_totals(orders).order_by("-pay_time", "-pk")


def python_csv(orders, *, unmask: bool, monkeypatch) -> str:
    """The reference: the Python writer's CSV of ``orders``."""
    with monkeypatch.context() as patch:
        patch.setattr(copy, "COPY_ON_POSTGRESQL", False)
        return "".join(orders_csv(orders, unmask=unmask))


def copy_csv(orders, *, unmask: bool) -> str:
    """The CSV of ``orders`` written by COPY, checking that COPY, not the ORM, read the rows."""
    assert copy.order_copy_sql(orders, unmask=unmask) is not None
    with CaptureQueriesContext(connection) as context:
        text = "".join(orders_csv(orders, unmask=unmask))
    assert not [query for query in context.captured_queries if "orders_payorder" in query["sql"]]
    return text


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith(tabular.BOM)
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def export(client: Client, params: dict | None = None) -> str:
    response = client.get(ORDERS_EXPORT, params or {})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


# --- What the file holds (both writers) ------------------------------------------------------


def test_awkward_values_are_written_as_the_format_says(awkward_orders, staff_client):
    """The format's rules on whichever writer the database has: SQLite and PostgreSQL both
    run this, so both writers are held to the same expectations."""
    # Channel names: an awkward English one, and one with no English name (the Chinese shows).
    Channel.objects.create(code='"', name="渠道", name_en='=Channel, "n"\n')
    Channel.objects.create(code="crlf\r\ninside", name="银联")
    text = export(staff_client(*FINANCE, language="en"))
    rows = rows_of(text)[1:]
    by_identity = {row[9]: row for row in rows}

    assert len(rows) == PayOrder.objects.count()
    assert by_identity["ends with LF\n"] == [
        "",  # pay_serial: an empty string stays an empty cell
        'comma, "quotes"',
        "",  # the park's empty uuid and name
        "",
        "line\nfeed",
        "2026-10-01 00:00:00",
        "0.00",
        "0",
        "crlf\r\ninside",
        "ends with LF\n",
        "0.00",  # no discounts
        "",
        "0",  # no coupons
        "0",
        "2026-11-02 00:00:00",  # China time, the microseconds cut off
        "银联",  # no English name: the Chinese one
    ]
    assert by_identity['"'] == [
        'comma, "quotes"',
        "line\nfeed",
        '\'=uuid,"1"',  # a formula start escaped, in any text cell
        '南门, "东"区\n二号',
        "crlf\r\ninside",
        "2026-11-01 23:59:59",  # .999999 is cut, not rounded up to the next day
        "0.01",
        "1",
        "ends with LF\n",
        '"',
        "3.00",  # one discount without a mobile
        "",
        "1",  # one coupon of face value 0
        "0",
        "2026-11-02 00:00:00",
        "",  # a channel without a name
    ]
    assert by_identity["'=1+1"] == [
        "line\nfeed",
        "crlf\r\ninside",
        "'＠park",
        "'＝SUM(A1)",
        "ends with LF\n",
        "2000-01-01 00:00:00",  # timerange.EARLIEST, shown on its China-time day
        "0.05",
        "5",
        '"',
        "'=1+1",
        "0.78",  # 1 + 26 + 51 fen
        "1*3;1*****7;123****5678",  # masked, in discount order
        "2",
        "1000",
        "2026-11-02 00:00:00",
        '\'=Channel, "n"\n',  # escaped as every text cell
    ]
    assert by_identity["many discounts"][10:12] == ["1.05", ";".join(MASKED_MOBILES)]
    assert by_identity["mobile 8"][11] == "'=13****8000"  # masked, then escaped
    assert by_identity["mobile 7"][11] == ""  # white space only: nothing left
    for n, masked in enumerate(MASKED_MOBILES):
        assert by_identity[f"mobile {n}"][11].removeprefix("'") == masked
    assert {row[0] for row in rows} >= {
        "'=1+1",
        "'+86 138",
        "'-2",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
        "'＝１＋１",
        "'＋86",
        "'－1",
        "'＠x",
        "用户，标识",
        "  spaced  ",
        "back\\slash",
        "'quoted'",
    }
    assert '"line\nfeed"' in text  # a cell's own line feed stays LF, inside quotes
    assert text.startswith(tabular.BOM + "pay_serial,") and text.endswith("\r\n")


def test_the_unmasked_mobiles_are_joined_whole_in_discount_order(awkward_orders, staff_client):
    text = export(staff_client(*FINANCE, "orders.view_personal_data", language="en"))
    by_identity = {row[9]: row for row in rows_of(text)[1:]}

    assert by_identity["many discounts"][11] == ";".join(MOBILES)
    assert by_identity["mobile 7"][11] == "   "
    assert by_identity["mobile 8"][11] == "'=13800138000"


def test_a_row_ends_crlf_and_a_line_feed_inside_a_quoted_cell_stays():
    copied = b'a,"x\ny"\nb,"say ""\n"" twice"\n"\n",""\n'

    assert copy._crlf(copied) == b'a,"x\ny"\r\nb,"say ""\n"" twice"\r\n"\n",""\r\n'
    assert copy._crlf(b"a,b\nc,d\n") == b"a,b\r\nc,d\r\n"


# --- COPY: the same bytes, whatever drives it (PostgreSQL) ------------------------------------


@postgresql_only
@pytest.mark.parametrize("unmask", [False, True], ids=["masked", "unmasked"])
def test_copy_writes_the_same_bytes_as_the_python_writer_for_awkward_values(
    awkward_orders, monkeypatch, unmask
):
    orders = admin_queryset()

    ours = copy_csv(orders, unmask=unmask)

    assert ours == python_csv(orders, unmask=unmask, monkeypatch=monkeypatch)
    assert len(rows_of(ours)) == 1 + PayOrder.objects.count()


@postgresql_only
@pytest.mark.parametrize(
    "ordering",
    [
        ("pay_time", "pk"),
        ("-pay_value", "pay_time", "-pk"),
        ("parking_serial", "id"),
        (F("pay_time").desc(nulls_last=True), F("pk").asc()),
        (F("received_at"), "-pay_serial"),
    ],
)
def test_copy_keeps_the_querysets_order(awkward_orders, monkeypatch, ordering):
    orders = PayOrder.objects.order_by(*ordering)

    assert copy_csv(orders, unmask=False) == python_csv(
        orders, unmask=False, monkeypatch=monkeypatch
    )


@postgresql_only
def test_copy_keeps_the_models_default_order(awkward_orders, monkeypatch):
    orders = PayOrder.objects.filter(pay_value__gt=0)

    ours = copy_csv(orders, unmask=False)

    assert ours == python_csv(orders, unmask=False, monkeypatch=monkeypatch)
    times = [row[5] for row in rows_of(ours)[1:]]
    assert times == sorted(times, reverse=True)  # -pay_time, -pk


@postgresql_only
@pytest.mark.parametrize(
    "params",
    [
        {"park": "49f0cc52-e8c7-41e3-b54d-af666b8cc11a", "has_discounts": "1"},
        {"pay_date_from": "2026-10-05", "pay_date_to": "2026-10-12", "o": "0"},  # oldest first
        {"q": "line"},  # a plate's beginning
        {"q": "'quoted'"},  # a pay serial, quotes and all
        {"q": "x' OR '1'='1"},  # inlined as a literal: finds nothing
        {"q": "back\\slash", "has_coupons": "0"},
        {"channel": "=1+1"},
    ],
)
def test_the_admin_export_drives_copy_with_the_lists_filters_search_and_order(
    awkward_orders, staff_client, monkeypatch, params
):
    finance = staff_client(*FINANCE, language="en")

    ours = export(finance, params)
    monkeypatch.setattr(copy, "COPY_ON_POSTGRESQL", False)
    theirs = export(finance, params)

    assert ours == theirs
    if params.get("q") == "x' OR '1'='1":
        assert len(rows_of(ours)) == 1


@postgresql_only
def test_the_api_csv_drives_copy_with_its_filters_and_order(awkward_orders, monkeypatch):
    apply_roles()
    user = User.objects.create_user("bi", is_staff=True)
    user.groups.set(Group.objects.filter(name=FINANCE_GROUP))
    key = api_keys.create_api_key(user=user, name="BI tool").key
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    params = {
        "format": "csv",
        "lang": "zh",  # the admin's export, which COPY writes on PostgreSQL
        "pay_time_after": "2026-10-03",
        "min_value": "1",
        "ordering": "pay_value",
    }

    ours = api.get("/api/v1/orders/export/", params)
    monkeypatch.setattr(copy, "COPY_ON_POSTGRESQL", False)
    theirs = api.get("/api/v1/orders/export/", params)

    assert ours.status_code == 200
    body = b"".join(ours.streaming_content)
    assert body == b"".join(theirs.streaming_content)
    assert len(rows_of(body.decode())) > 5


@postgresql_only
def test_the_export_command_drives_copy_with_its_dates(awkward_orders, monkeypatch, tmp_path):
    args = ["export_orders", "--from", "2026-10-03", "--to", "2026-10-15", "--language", "en"]

    call_command(*args, "--output", str(tmp_path / "copy.csv"))
    monkeypatch.setattr(copy, "COPY_ON_POSTGRESQL", False)
    call_command(*args, "--output", str(tmp_path / "python.csv"))

    ours = (tmp_path / "copy.csv").read_bytes()
    assert ours == (tmp_path / "python.csv").read_bytes()
    assert len(rows_of(ours.decode())) == 1 + 12  # 3 to 15 October, but not 2000


@postgresql_only
def test_copy_export_runs_the_same_queries_for_few_rows_and_many(staff_client):
    finance = staff_client(*FINANCE, language="en")

    def queries_for(count: int) -> int:
        for order in PayOrderFactory.create_batch(count):
            DiscountFactory(order=order)
            MerchantCouponFactory(order=order)
        with CaptureQueriesContext(connection) as context:
            assert len(rows_of(export(finance))) == 1 + PayOrder.objects.count()
        assert not [query for query in context.captured_queries if "discount" in query["sql"]]
        return len(context.captured_queries)

    assert queries_for(3) == queries_for(60)


@postgresql_only
def test_copy_export_streams_in_pieces_and_stops_cleanly_when_abandoned(monkeypatch):
    monkeypatch.setattr(tabular, "FLUSH_CHARS", 500)
    for order in PayOrderFactory.create_batch(40):
        DiscountFactory(order=order)

    pieces = orders_csv(admin_queryset())
    first, second = next(pieces), next(pieces)
    pieces.close()  # the client went away: the COPY is cancelled

    assert first.startswith(tabular.BOM) and len(second.encode()) >= 500
    assert not connection.needs_rollback
    assert PayOrder.objects.count() == 40  # the connection still answers
    assert len(rows_of("".join(orders_csv(admin_queryset())))) == 41


@postgresql_only
def test_a_finished_copy_export_leaves_the_sessions_settings_as_they_were():
    paid = datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC)
    order = PayOrderFactory(pay_time=paid)
    settings = ("TimeZone", "DateStyle", "jit", "parallel_leader_participation", "enable_memoize")

    def shown() -> list[str]:
        values = []
        with connection.cursor() as cursor:
            for name in settings:
                cursor.execute(f"SHOW {name}")
                values.append(cursor.fetchone()[0])
        return values

    before = shown()

    "".join(orders_csv(admin_queryset()))  # inside the test's transaction, too

    assert shown() == before
    assert PayOrder.objects.get(pk=order.pk).pay_time == paid  # Django's reads of times


@postgresql_only
def test_querysets_copy_cannot_reproduce_are_written_by_the_python_writer(awkward_orders):
    by_park_name = admin_queryset().order_by("park__name", "pk")
    by_annotation = admin_queryset().order_by("-relief_total", "pk")
    sliced = admin_queryset()[:3]

    assert copy.order_copy_sql(by_park_name) is None
    assert copy.order_copy_sql(by_annotation) is None
    assert copy.order_copy_sql(sliced) is None
    assert copy.order_copy_sql(PayOrder.objects.none()) is None
    uuids = [row[2] for row in rows_of("".join(orders_csv(by_park_name)))[1:]]
    in_park_name_order = by_park_name.values_list("park__park_uuid", flat=True)
    assert uuids == [tabular.escape_formula(uuid) for uuid in in_park_name_order]
    assert len(rows_of("".join(orders_csv(sliced)))) == 1 + 3
    assert rows_of("".join(orders_csv(PayOrder.objects.none()))) == [
        [str(column.label) for column in ORDER_COLUMNS]
    ]
