"""The integration API's stays and renewals: ``GET /api/v1/stays/`` and ``/api/v1/renewals/``.

Real HTTP through Django's test client with real API keys; the gap is the one
``orders.stays.selectors.with_gap`` gives; the downloads are read back with the csv module and
openpyxl.
"""

import io
from datetime import timedelta
from urllib.parse import urlencode

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.exports.stays import STAY_COLUMNS
from orders.stays.selectors import with_gap
from orders.tests.api.test_views import china, csv_rows, key_client, make_user, streamed
from orders.tests.factories import PayOrderFactory, RenewalFactory, StayFactory
from parkingops import xlsx
from whitelist.tests.factories import ParkFactory

STAYS = "/api/v1/stays/"
RENEWALS = "/api/v1/renewals/"
STAYS_EXPORT = STAYS + "export/"
RENEWALS_EXPORT = RENEWALS + "export/"
READ = ("orders.view_stay", "orders.view_renewal")


@pytest.fixture
def reader(db):
    return key_client(make_user(permissions=READ))


@pytest.fixture
def exporter(db):
    return key_client(make_user(permissions=(*READ, "orders.export_orders")))


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def stay_serials(response) -> list[str]:
    return [row["parking_serial"] for row in results(response)]


def renewal_serials(response) -> list[str]:
    return [row["pay_serial"] for row in results(response)]


def workbook_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == xlsx.MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    cells = list(book.worksheets[0].iter_rows())
    assert all(cell.data_type != "f" for row in cells for cell in row)  # never a formula
    header, *rows = ([cell.value for cell in row] for row in cells)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- Stays -----------------------------------------------------------------------------------


def test_a_stay_carries_fen_its_length_and_the_selectors_gap(reader):
    stay = StayFactory(
        left=True, parking_serial="0001", enter_time=china(2026, 11, 1, 8), free_value=100
    )
    PayOrderFactory(parking_serial="0001", pay_value=700)
    StayFactory(parking_serial="0002", enter_time=china(2026, 11, 1, 9))

    left, inside = sorted(results(reader.get(STAYS)), key=lambda row: row["parking_serial"])

    expected = with_gap(type(stay).objects.filter(pk=stay.pk)).get()
    assert (left["paid_by_pushes"], left["gap"]) == (700, expected.gap) == (700, 200)
    assert left["total_value"] == 1000 and left["length_seconds"] == 3600
    assert left["in_park"] is False
    assert left["enter_time"] == "2026-11-01T08:00:00+08:00"
    assert left["park"]["park_uuid"] == stay.park.park_uuid
    assert (inside["in_park"], inside["gap"], inside["length_seconds"]) == (True, None, None)
    assert inside["paid_by_pushes"] == 0


def test_stay_filters(reader):
    park = ParkFactory()
    paid = StayFactory(left=True, park=park, plate="川A660P1", enter_time=china(2026, 11, 1, 8))
    PayOrderFactory(parking_serial=paid.parking_serial, pay_value=1000)
    unpaid = StayFactory(left=True, plate="渝B5C8Q6", enter_time=china(2026, 11, 2, 8))
    inside = StayFactory(plate="川A12345", enter_time=china(2026, 11, 3, 8), needs_review=True)

    def found(**params) -> set[str]:
        return set(stay_serials(reader.get(STAYS, params)))

    assert found(park=park.park_uuid) == {paid.parking_serial}
    assert found(plate="川a 660p1") == {paid.parking_serial}
    assert found(plate="川A*") == {paid.parking_serial, inside.parking_serial}
    assert found(parking_serial=unpaid.parking_serial) == {unpaid.parking_serial}
    assert found(enter_time_after="2026-11-02", enter_time_before="2026-11-02") == {
        unpaid.parking_serial
    }
    assert found(leave_time_before="2026-11-01T09:30:00+08:00") == {paid.parking_serial}
    assert found(in_park="true") == {inside.parking_serial}
    assert found(in_park="false") == {paid.parking_serial, unpaid.parking_serial}
    assert found(has_gap="true") == {unpaid.parking_serial}
    assert found(has_gap="0") == {paid.parking_serial, inside.parking_serial}
    assert found(needs_review="1") == {inside.parking_serial}


def test_stays_are_paged_by_cursor_without_repeats(reader):
    start = china(2026, 11, 1, 8)
    made = [
        StayFactory(enter_time=start + timedelta(minutes=n % 3)).parking_serial for n in range(7)
    ]

    seen, url, params = [], STAYS, {"page_size": "3"}
    while url:
        body = reader.get(url, params).json()
        seen += [row["parking_serial"] for row in body["results"]]
        url, params = body["next"], None

    assert sorted(seen) == sorted(made) and len(seen) == 7
    oldest = stay_serials(reader.get(STAYS, {"ordering": "enter_time", "page_size": "1"}))
    assert oldest == [made[0]]


def test_the_stay_csv_and_xlsx_write_serials_as_text_and_money_in_yuan(exporter):
    stay = StayFactory(
        left=True,
        parking_serial="=HYPERLINK(1)",
        plate="川A660P1",
        enter_time=china(2026, 11, 1, 8),
    )
    PayOrderFactory(parking_serial=stay.parking_serial, pay_value=250)
    StayFactory(parking_serial="000123", enter_time=china(2026, 11, 2, 8))

    query = {"format": "csv", "enter_time_after": "2026-11-01", "lang": "zh"}
    response = exporter.get(STAYS_EXPORT, query)
    chinese, *rows = csv_rows(streamed(response))
    with translation.override("en"):  # the admin's columns, by their English names
        header = [str(column.label) for column in STAY_COLUMNS]
    assert len(chinese) == len(header) and chinese[0] == "停车流水"
    assert 'filename="stays_2026-11-01_' in response["Content-Disposition"]
    assert "gap_yuan" in header and "paid_by_pushes_yuan" in header
    rows_by = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(rows_by) == {"'=HYPERLINK(1)", "000123"}
    left = rows_by["'=HYPERLINK(1)"]
    assert (left["total_value_yuan"], left["paid_by_pushes_yuan"], left["gap_yuan"]) == (
        "10.00",
        "2.50",
        "7.50",
    )
    assert (left["length_minutes"], left["enter_time"]) == ("60", "2026-11-01 08:00:00")
    assert rows_by["000123"]["gap_yuan"] == ""

    sheet = workbook_rows(exporter.get(STAYS_EXPORT, {"format": "xlsx", "ordering": "enter_time"}))
    assert [row["parking_serial"] for row in sheet] == ["=HYPERLINK(1)", "000123"]
    assert sheet[0]["gap_yuan"] == 7.5 and sheet[0]["length_minutes"] == 60


def test_the_machine_csv_is_english_and_the_xlsx_follows_accept_language(db):
    user = make_user(permissions=(*READ, "orders.export_orders"))
    StayFactory()

    machine = csv_rows(streamed(key_client(user, language="zh-hans").get(STAYS_EXPORT)))[0]
    english = workbook_rows(key_client(user).get(STAYS_EXPORT, {"format": "xlsx"}))[0]
    chinese = workbook_rows(
        key_client(user, language="zh-hans").get(STAYS_EXPORT, {"format": "xlsx"})
    )[0]

    assert machine[0] == "parking_serial" and "total_value_fen" in machine
    assert list(english)[0] == "parking_serial"
    assert len(chinese) == len(english) and list(chinese) != list(english)


# --- Renewals --------------------------------------------------------------------------------


def test_renewals_list_filter_and_page(reader):
    park = ParkFactory()
    monthly = RenewalFactory(park=park, pay_time=china(2026, 11, 1, 8), pay_value=30000)
    yearly = RenewalFactory(
        plate="渝B5C8Q6", vip_type=5, pay_time=china(2026, 11, 2, 8), pay_value=300000
    )
    unknown = RenewalFactory(vip_type=99, pay_time=china(2026, 11, 3, 8), pay_value=100)

    body = results(reader.get(RENEWALS))
    assert [row["pay_serial"] for row in body] == [
        unknown.pay_serial,
        yearly.pay_serial,
        monthly.pay_serial,
    ]
    assert body[0]["vip_type_label"] == "99" and body[1]["vip_type_label"] == "yearly card"
    assert body[2]["pay_value"] == 30000 and body[2]["pay_time"] == "2026-11-01T08:00:00+08:00"

    def found(**params) -> list[str]:
        return renewal_serials(reader.get(RENEWALS, params))

    assert found(park=park.park_uuid) == [monthly.pay_serial]
    assert found(plate="渝b5c8q6") == [yearly.pay_serial]
    assert found(vip_type="5") == [yearly.pay_serial]
    assert found(pay_serial=unknown.pay_serial) == [unknown.pay_serial]
    assert found(pay_time_after="2026-11-02", pay_time_before="2026-11-02") == [yearly.pay_serial]
    assert found(ordering="pay_value", page_size="1") == [unknown.pay_serial]


def test_the_renewal_files_give_yuan_and_fen_and_serials_as_text(exporter):
    RenewalFactory(pay_serial="00012", pay_value=30050, pay_time=china(2026, 11, 1, 8))

    header, row = csv_rows(streamed(exporter.get(RENEWALS_EXPORT, {"format": "csv"})))
    record = dict(zip(header, row, strict=True))
    assert (record["pay_serial"], record["pay_value_yuan"], record["pay_value_fen"]) == (
        "00012",
        "300.50",
        "30050",
    )
    assert record["vip_type_label"] == "monthly card"
    assert record["pay_time"] == "2026-11-01T08:00:00+08:00"

    [sheet] = workbook_rows(exporter.get(RENEWALS_EXPORT, {"format": "xlsx"}))
    assert sheet["pay_serial"] == "00012"
    assert (sheet["pay_value_yuan"], sheet["pay_value_fen"]) == (300.5, 30050)


# --- Permissions and hostile input -----------------------------------------------------------


@pytest.mark.parametrize("url", [STAYS, RENEWALS])
def test_without_a_key_401_without_the_view_permission_403(db, url):
    assert Client().get(url).status_code == 401
    outsider = key_client(make_user(permissions=("orders.view_payorder",)))
    assert outsider.get(url).status_code == 403


@pytest.mark.parametrize("url", [STAYS, RENEWALS])
def test_the_downloads_need_export_orders(reader, url):
    for file_format in ["csv", "xlsx"]:
        response = reader.get(url + "export/", {"format": file_format})
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
    assert reader.get(url).status_code == 200


@pytest.mark.parametrize(
    "url, name",
    [
        (STAYS, name)
        for name in [
            "park",
            "plate",
            "parking_serial",
            "enter_time_after",
            "leave_time_before",
            "in_park",
            "has_gap",
            "needs_review",
            "ordering",
            "cursor",
            "format",
        ]
    ]
    + [
        (RENEWALS, name)
        for name in ["park", "plate", "vip_type", "pay_time_after", "pay_serial", "format"]
    ]
    + [(STAYS_EXPORT, name) for name in ["park", "in_park", "ordering", "format", "lang"]]
    + [(RENEWALS_EXPORT, name) for name in ["plate", "vip_type", "format", "lang"]],
)
def test_a_parameter_given_empty_is_a_400_naming_it(exporter, url, name):
    response = exporter.get(url, {name: " "})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        name: ["This parameter must not be empty: leave it out instead."]
    }


@pytest.mark.parametrize(
    "url, params",
    [
        (STAYS, {"in_park": "maybe"}),
        (STAYS, {"has_gap": "2"}),
        (STAYS, {"enter_time_after": "yesterday"}),
        (STAYS, {"plate": "川A*66*"}),
        (STAYS, {"ordering": "plate"}),
        (STAYS, {"cursor": "x"}),
        (STAYS, {"parking_serial": "a\x00b"}),
        (RENEWALS, {"pay_serial": "a\x00b"}),
        (RENEWALS, {"park": "\x00"}),
        (RENEWALS, {"vip_type": "1.0"}),
        (RENEWALS, {"vip_type": str(2**40)}),
        (RENEWALS, {"pay_time_before": "0000-01-01"}),
        (RENEWALS, {"format": "xml"}),
        (RENEWALS, {"format": "csv"}),
        (RENEWALS_EXPORT, {"format": "json"}),
        (STAYS_EXPORT, {"cursor": "x"}),
        (STAYS_EXPORT, {"has_gap": "2"}),
        (RENEWALS_EXPORT, {"vip_type": str(2**40)}),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(exporter, url, params):
    response = exporter.get(url, params)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == list(params)


PARAMETERS = [
    "park",
    "plate",
    "parking_serial",
    "pay_serial",
    "vip_type",
    "enter_time_after",
    "leave_time_before",
    "pay_time_after",
    "in_park",
    "has_gap",
    "needs_review",
    "ordering",
    "cursor",
    "page_size",
    "format",
    "lang",
]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["true", "0", "2026-11-01", "川A*", "csv", "xlsx", "-pay_value", "9" * 40]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@pytest.fixture
def superuser_client(db):
    StayFactory(left=True)
    RenewalFactory()
    user = User.objects.create_superuser("stays-root", "root@example.com", "x")
    return key_client(user)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    url=st.sampled_from([STAYS, RENEWALS, STAYS_EXPORT, RENEWALS_EXPORT]),
    query=st.dictionaries(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=5)), VALUES),
)
def test_random_query_strings_never_give_a_500(superuser_client, url, query):
    response = superuser_client.get(f"{url}?{urlencode(query)}")
    if response.streaming:
        b"".join(response.streaming_content)

    assert response.status_code in {200, 400}, (query, response.content)
