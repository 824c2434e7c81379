"""The export operations (``…/export/?format=csv|xlsx``): each list's files as an operation of
its own, with the JSON list's filters.

Real HTTP through Django's test client with real API keys; the files are read back with
Python's ``csv`` module and openpyxl and compared with the JSON of the same query: the same rows
(ids), fixed English headers for machines by default, the admin's Chinese file with ``lang=zh``.
"""

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from orders.tests.api.test_views import china, key_client, make_user
from orders.tests.factories import (
    DiscountFactory,
    MerchantCouponFactory,
    PayOrderFactory,
    RenewalFactory,
    StayFactory,
)
from parkingops import xlsx
from parkingops.formatting import CHINA
from parkingops.roles import FINANCE, OPERATIONS
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db

PARK = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"
HOSTILE = "=1+2*cmd|A1"  # a spreadsheet would run it (and it fits a plate column)

# (JSON list, the row's id in the JSON, its column in the CSV, a filter of both).
LISTS = {
    "orders": ("/api/v1/orders/", "pay_serial", "pay_serial", {"park": PARK}),
    "coupons": ("/api/v1/coupons/", "id", "id", {"park": PARK}),
    "stays": ("/api/v1/stays/", "parking_serial", "parking_serial", {"park": PARK}),
    "renewals": ("/api/v1/renewals/", "pay_serial", "pay_serial", {"park": PARK}),
    "whitelist": ("/api/v1/whitelist/", "id", "id", {"park": PARK}),
}
ORDER_HEADER = [
    "pay_serial",
    "parking_serial",
    "park_uuid",
    "park_name",
    "plate",
    "pay_time",
    "pay_value_fen",
    "pay_value_yuan",
    "channel",
    "channel_name",
    "identity",
    "discount_relief_fen",
    "discount_relief_yuan",
    "discount_mobiles",
    "coupon_count",
    "coupon_value_total_fen",
    "coupon_value_total_yuan",
    "received_at",
]


@pytest.fixture
def exporter():
    """A user of the finance role (view and export orders, view the whitelist)."""
    return key_client(make_user(groups=(FINANCE,)))


@pytest.fixture
def data(db):
    """Rows in the filtered park and in another, some text cells a spreadsheet would run."""
    park = ParkFactory(park_uuid=PARK, name="P云体验停车场")
    other = ParkFactory(park_uuid="other-park", name="西门")
    for index, target in enumerate([park, park, park, other]):
        when = china(2026, 11, 1 + index, 9, 30)
        order = PayOrderFactory(
            park=target, pay_time=when, pay_value=1250 + index, plate=HOSTILE if index else "川A1"
        )
        DiscountFactory(order=order, relief_value=200)
        MerchantCouponFactory(order=order, store_code="KFC01", coupon_value=300)
        StayFactory(park=target, enter_time=when, left=True)
        RenewalFactory(park=target, pay_time=when)
        WhitelistEntryFactory(
            park_uuid=target.park_uuid,
            holder=HOSTILE,
            valid_from=datetime(2026, 1, 1, tzinfo=CHINA),
        )
    return park


def csv_table(response) -> tuple[list[str], list[dict[str, str]]]:
    """Return the header and the rows of a streamed CSV answer, read with the csv module."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = csv.reader(io.StringIO(text[1:], newline=""))
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def sheet_table(response) -> tuple[list[str], list[list]]:
    """Return the header and the rows of an XLSX answer's first sheet, read with openpyxl."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == xlsx.MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    header, *rows = ([cell.value for cell in row] for row in book.worksheets[0].iter_rows())
    return header, rows


def json_ids(client, url: str, field: str, query: dict) -> list[str]:
    response = client.get(url, {**query, "page_size": 500})
    assert response.status_code == 200, response.content
    return [str(row[field]) for row in response.json()["results"]]


def has_chinese(names: list[str]) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for name in names for char in name)


@pytest.mark.parametrize("name", list(LISTS))
def test_each_export_is_the_json_lists_rows_with_the_same_filter(exporter, data, name):
    url, json_id, csv_id, query = LISTS[name]

    ids = json_ids(exporter, url, json_id, query)
    header, rows = csv_table(exporter.get(f"{url}export/", {**query, "format": "csv"}))
    _header, everything = csv_table(exporter.get(f"{url}export/"))  # csv is the default

    assert len(ids) == 3
    assert [row[csv_id] for row in rows] == ids
    assert len(everything) == 4
    assert not has_chinese(header)
    assert all(name == name.lower() and " " not in name for name in header)
    assert "park_uuid" in header and {row["park_uuid"] for row in rows} == {PARK}


@pytest.mark.parametrize("name", list(LISTS))
def test_each_export_as_xlsx_has_the_same_rows_with_chinese_headers(exporter, data, name):
    url, _json_id, _csv_id, query = LISTS[name]

    header, rows = sheet_table(exporter.get(f"{url}export/", {**query, "format": "xlsx"}))
    people, _rows = csv_table(exporter.get(f"{url}export/", {**query, "lang": "zh"}))
    zh_header, _rows = sheet_table(
        exporter.get(f"{url}export/", {**query, "format": "xlsx", "lang": "zh"})
    )

    assert len(rows) == len(json_ids(exporter, url, LISTS[name][1], query)) == 3
    assert has_chinese(people) and has_chinese(zh_header)
    assert zh_header == people
    assert not has_chinese(header)  # the key's client asks for English (Accept-Language)


def test_the_order_csv_for_machines_has_iso_times_fen_beside_yuan_and_safe_text(exporter, data):
    _header, json_rows = None, exporter.get("/api/v1/orders/", {"park": PARK}).json()["results"]
    header, rows = csv_table(exporter.get("/api/v1/orders/export/", {"park": PARK}))

    assert header == ORDER_HEADER
    newest, *_older = rows
    assert newest["pay_time"] == json_rows[0]["pay_time"] == "2026-11-03T09:30:00+08:00"
    assert (newest["pay_value_fen"], newest["pay_value_yuan"]) == ("1252", "12.52")
    assert (newest["discount_relief_fen"], newest["discount_relief_yuan"]) == ("200", "2.00")
    assert (newest["coupon_value_total_fen"], newest["coupon_value_total_yuan"]) == ("300", "3.00")
    assert newest["plate"] == "'" + HOSTILE  # a spreadsheet shows it, never runs it
    assert newest["discount_mobiles"] == "138****8000"


def test_the_other_machine_files_carry_ids_iso_times_and_fen(exporter, data):
    _h, (stay, *_s) = csv_table(exporter.get("/api/v1/stays/export/", {"park": PARK}))
    _h, (renewal, *_r) = csv_table(exporter.get("/api/v1/renewals/export/", {"park": PARK}))
    _h, (coupon, *_c) = csv_table(exporter.get("/api/v1/coupons/export/", {"park": PARK}))
    _h, (entry, *_e) = csv_table(exporter.get("/api/v1/whitelist/export/", {"park": PARK}))

    assert stay["enter_time"] == "2026-11-03T09:30:00+08:00"
    assert (stay["total_value_fen"], stay["total_value_yuan"], stay["length_seconds"]) == (
        "1000",
        "10.00",
        "3600",
    )
    assert (renewal["pay_value_fen"], renewal["pay_value_yuan"]) == ("30000", "300.00")
    assert (coupon["coupon_unit"], coupon["coupon_money_fen"], coupon["coupon_money_yuan"]) == (
        "fen",
        "300",
        "3.00",
    )
    assert entry["holder"] == "'" + HOSTILE
    assert entry["valid_from"] == "2026-01-01T00:00:00+08:00"
    assert (entry["status"], entry["park_uuid"]) == ("active", PARK)


def test_coupon_totals_summary_and_statement_exports_match_their_json(exporter, november):
    totals = exporter.get("/api/v1/coupons/totals/").json()
    _h, rows = csv_table(exporter.get("/api/v1/coupons/totals/export/"))
    stores = [row for row in rows if row["row_kind"] == "store"]
    assert [(r["store_code"], r["coupon_type"]) for r in stores] == [
        (r["store_code"], str(r["coupon_type"])) for r in totals["results"]
    ]
    (total,) = [row for row in rows if row["row_kind"] == "total"]
    assert (total["coupons"], total["value_fen"]) == (
        str(totals["coupons"]),
        str(totals["amount_value"]),
    )

    query = {"from": "2026-11-01", "to": "2026-11-30"}
    summary = exporter.get("/api/v1/summary/daily/", query).json()
    _h, rows = csv_table(exporter.get("/api/v1/summary/daily/export/", query))
    details = [row for row in rows if row["row_kind"] == "detail"]
    assert [(r["date"], r["pay_value_fen"]) for r in details] == [
        (r["date"], str(r["pay_value"])) for r in summary["rows"]
    ]
    assert rows[-1]["pay_value_fen"] == str(summary["total"]["pay_value"])
    assert rows[-1]["date"] == ""

    statement = exporter.get("/api/v1/statements/", {"month": "2026-11"}).json()
    _h, rows = csv_table(exporter.get("/api/v1/statements/export/", {"month": "2026-11"}))
    holders = [row["holder"] for row in rows if row["row_kind"] == "holder_subtotal"]
    assert holders == [entry["holder"] for entry in statement["holders"]]
    orders = [row for row in rows if row["row_kind"] == "order"]
    assert len(orders) == statement["total"]["order_count"]
    assert all(row["pay_time"].endswith("+08:00") for row in orders)
    assert rows[-1]["pay_value_fen"] == str(statement["total"]["pay_value"])


def test_the_summary_and_statement_exports_give_chinese_headers_with_lang_zh(exporter, november):
    for url, query in [
        ("/api/v1/summary/daily/export/", {"from": "2026-11-01", "to": "2026-11-30"}),
        ("/api/v1/summary/daily/export/", {"from": "2026-11-01", "view": "pivot"}),
        ("/api/v1/statements/export/", {"month": "2026-11"}),
        ("/api/v1/coupons/totals/export/", {}),
    ]:
        english, _rows = csv_table(exporter.get(url, query))
        chinese, rows = csv_table(exporter.get(url, {**query, "lang": "zh"}))
        assert not has_chinese(english) and has_chinese(chinese), url
        # Words in the rows are Chinese too, even when the client asks for English.
        assert "合计" in {value for row in rows for value in row.values()}, url


ORDER_EXPORTS = [
    "/api/v1/orders/export/",
    "/api/v1/coupons/export/",
    "/api/v1/coupons/totals/export/",
    "/api/v1/stays/export/",
    "/api/v1/renewals/export/",
    "/api/v1/summary/daily/export/",
    "/api/v1/statements/export/",
]


@pytest.mark.parametrize("url", ORDER_EXPORTS)
def test_exports_of_orders_need_export_orders_and_refuse_in_json(db, url):
    reader = key_client(
        make_user(
            permissions=(
                "orders.view_payorder",
                "orders.view_merchantcoupon",
                "orders.view_stay",
                "orders.view_renewal",
            )
        )
    )

    for query in [{}, {"format": "csv"}, {"format": "xlsx"}, {"lang": "zh"}]:
        response = reader.get(url, query)
        assert response.status_code == 403, (url, query)
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    assert reader.get(url.removesuffix("export/")).status_code == 200
    operations = key_client(make_user(groups=(OPERATIONS,)))
    assert operations.get(url).status_code == 403


@pytest.mark.parametrize("name", list(LISTS))
def test_format_csv_on_a_json_list_is_a_400_saying_where_the_file_is(exporter, name):
    url = LISTS[name][0]
    for file_format in ["csv", "xlsx"]:
        response = exporter.get(url, {"format": file_format})

        assert response.status_code == 400
        [message] = response.json()["fields"]["format"]
        assert f"{url}export/?format={file_format}" in message
    assert exporter.get(url, {"format": "json"}).status_code == 200


@pytest.mark.parametrize(
    "url", ORDER_EXPORTS + ["/api/v1/whitelist/export/"], ids=lambda url: url[8:-8]
)
@pytest.mark.parametrize(
    "query, name",
    [
        ({"format": "json"}, "format"),
        ({"format": "xml"}, "format"),
        ({"format": ""}, "format"),
        ({"lang": "klingon"}, "lang"),
        ({"lang": ""}, "lang"),
        ({"lang": "zh\x00"}, "lang"),
        ({"lang": "x" * 10_000}, "lang"),
    ],
)
def test_hostile_parameters_of_exports_are_a_json_400_naming_them(exporter, url, query, name):
    response = exporter.get(url, query)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert name in response.json()["fields"]


@pytest.mark.parametrize(
    "url, query, name",
    [
        ("/api/v1/orders/export/", {"cursor": "abc"}, "cursor"),
        ("/api/v1/orders/export/", {"page_size": "10"}, "page_size"),
        ("/api/v1/orders/export/", {"ordering": "plate"}, "ordering"),
        ("/api/v1/orders/export/", {"pay_time_after": "9999-12-31T23:59:59-14:00"}, None),
        ("/api/v1/orders/export/", {"pay_time_after": "0001-01-01"}, None),
        ("/api/v1/orders/export/", {"min_value": str(2**80)}, None),
        ("/api/v1/orders/export/", {"plate": "川\x00A"}, None),
        ("/api/v1/coupons/export/", {"coupon_type": "１"}, None),
        ("/api/v1/stays/export/", {"park": "%ff%fe"}, None),
        ("/api/v1/summary/daily/export/", {"view": "table"}, "view"),
        ("/api/v1/summary/daily/export/", {"from": "0001-01-01"}, None),
        ("/api/v1/summary/daily/export/", {"to": "9999-12-31"}, None),
        ("/api/v1/statements/export/", {"month": "0000-13"}, "month"),
        ("/api/v1/statements/export/", {"holder": "nobody"}, "holder"),
        ("/api/v1/whitelist/export/", {"status": "expired!"}, "status"),
        ("/api/v1/whitelist/export/", {"park": ""}, "park"),
    ],
)
def test_hostile_filters_of_exports_are_never_a_500(exporter, data, url, query, name):
    for file_format in ["csv", "xlsx"]:
        response = exporter.get(url, {**query, "format": file_format})

        assert response.status_code in (200, 400), response.content
        if response.status_code == 400:
            assert response["Content-Type"] == "application/json"
            assert name is None or name in response.json()["fields"]
        else:
            assert name is None
            if response.streaming:
                b"".join(response.streaming_content)


def test_the_whitelist_export_needs_only_to_view_the_whitelist(data):
    operations = key_client(make_user(groups=(OPERATIONS,)))

    _header, rows = csv_table(operations.get("/api/v1/whitelist/export/"))
    assert len(rows) == 4
