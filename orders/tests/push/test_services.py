"""orders.push.services.receive_push: what is stored and logged, with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest

from conftest import SAMPLE_COUPON, SAMPLE_DISCOUNT
from orders.demo import simulator
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.push import services
from orders.push.outcomes import PushResult
from whitelist.models import Park
from whitelist.tests.factories import WhitelistEntryFactory

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
PAY_TIME = NOW - timedelta(minutes=5)
PAY_TIME_MS = int(PAY_TIME.timestamp() * 1000)
PLATE = "川A660P1"
PARK = simulator.DEMO_PARK_UUID

pytestmark = pytest.mark.django_db

# The service stores grant_time as given; text in China time is also parsed.
COUPON = {**SAMPLE_COUPON, "grant_time": "2024-06-01 19:30:00"}
DISCOUNT = SAMPLE_DISCOUNT


@pytest.fixture
def entry(db):
    return WhitelistEntryFactory(plate=PLATE, valid_from=datetime(2020, 1, 1, tzinfo=UTC))


@pytest.fixture
def receive(app_id, secret):
    """Sign a push for ``now`` and run it through the service; fields change the push."""

    def run(
        *,
        now: datetime = NOW,
        as_json: bool = False,
        header_sign: bool = False,
        sign_with: str | None = None,
        drop: tuple[str, ...] = (),
        **fields,
    ) -> PushResult:
        fields.setdefault("pay_time_ms", PAY_TIME_MS)
        # build_push draws a fresh parking serial; a retry must carry the same one.
        fields.setdefault("parking_serial", "591668151763415041")
        fields.setdefault("timestamp", str(int(now.timestamp() * 1000)))
        params = simulator.build_push(app_id=app_id, **fields)
        for key in drop:
            params.pop(key)
        encoded = simulator.encode_push(
            params, secret=sign_with or secret, as_json=as_json, header_sign=header_sign
        )
        request = services.PushRequest(
            body=encoded.body,
            content_type=encoded.content_type,
            authorization=encoded.headers.get("Authorization", ""),
            remote_addr="203.0.113.7",
        )
        return services.receive_push(request=request, now=now)

    return run


def nothing_stored() -> bool:
    return not (
        PayOrder.objects.exists()
        or Discount.objects.exists()
        or MerchantCoupon.objects.exists()
        or Park.objects.exists()
    )


def test_an_accepted_push_stores_the_order_with_its_discounts_and_coupons(entry, receive):
    result = receive(
        pay_serial="S1",
        plate="川a 660p1",
        pay_value=2500,
        discounts=[{**DISCOUNT, "ticket": "T-9"}],
        mcoupons=[COUPON, {**COUPON, "coupon_type": "7", "grant_time": "soon"}],
        car_type="1",
        extra_note="",
    )

    assert (result.code, result.reason, result.status) == ("1001", "accepted", 200)
    order = PayOrder.objects.get()
    assert result.order_id == order.pk
    assert order.pay_serial == "S1"
    assert order.plate == PLATE
    assert order.plate_raw == "川a 660p1"
    assert order.pay_value == 2500
    assert order.pay_time == PAY_TIME
    assert order.channel == "200102"
    assert order.identity == "5aeV05nlt6/ig4LplITisYg="
    assert order.app_id == "op00961963581daa7"
    assert order.received_at == NOW
    assert order.whitelist_entry == entry
    assert order.park.park_uuid == PARK
    assert order.park.name == simulator.DEMO_PARK_NAME
    assert order.extra == {"car_type": "1", "extra_note": ""}
    (discount,) = order.discounts.all()
    assert (discount.type, discount.token, discount.openid, discount.mobile) == (
        "1",
        "tk-01",
        "o-abc",
        "13800138000",
    )
    assert (discount.relief_amount, discount.relief_value) == (1, 500)
    assert discount.extra == {"ticket": "T-9"}
    first, unknown = order.mcoupons.all()
    assert first.coupon_type == MerchantCoupon.CouponType.AMOUNT
    assert first.coupon_value == 1000
    assert first.grant_time_raw == "2024-06-01 19:30:00"
    assert first.grant_time == datetime(2024, 6, 1, 11, 30, tzinfo=UTC)
    assert (first.store_name, first.store_code, first.grant_serial) == ("肯德基", "0x02", "G-0001")
    assert unknown.coupon_type == 7
    assert unknown.coupon_type_label == "7"
    assert unknown.grant_time_raw == "soon"
    assert unknown.grant_time is None


def test_an_accepted_push_is_logged_pointing_at_its_order(entry, receive):
    result = receive(pay_serial="S1", plate="川a 660p1")

    log = PushLog.objects.get()
    assert log.order_id == result.order_id
    assert (log.code, log.reason, log.message) == ("1001", "accepted", "order stored")
    assert (log.app_id, log.pay_serial, log.plate) == ("op00961963581daa7", "S1", PLATE)
    assert log.remote_addr == "203.0.113.7"
    assert log.content_type == "application/x-www-form-urlencoded"
    assert "pay_serial=S1" in log.body
    assert log.received_at == NOW


def test_grant_time_in_ms_is_parsed(entry, receive):
    receive(mcoupons=[{**COUPON, "grant_time": "1717241400000"}])

    coupon = MerchantCoupon.objects.get()
    assert coupon.grant_time == datetime(2024, 6, 1, 11, 30, tzinfo=UTC)
    assert coupon.grant_time_raw == "1717241400000"


def test_a_discount_without_mobile_is_stored(entry, receive):
    result = receive(discounts=[{**DISCOUNT, "mobile": ""}, {"type": "2", "relief_value": 3}])

    assert result.reason == "accepted"
    assert list(Discount.objects.values_list("mobile", "relief_value")) == [
        ("", 500),
        ("", 3),
    ]


def test_identity_may_be_missing(entry, receive):
    assert receive(drop=("identity",)).reason == "accepted"
    assert PayOrder.objects.get().identity == ""


def test_the_newest_park_name_wins(entry, receive):
    receive(pay_serial="S1", park_name="旧名字")
    receive(pay_serial="S2", park_name="新名字", now=NOW + timedelta(hours=1))

    park = Park.objects.get()
    assert park.name == "新名字"
    assert park.first_seen == NOW
    assert park.last_seen == NOW + timedelta(hours=1)


def test_a_park_is_written_again_only_when_it_changed_or_a_minute_passed(entry, receive):
    """Most pushes read their park and leave its row alone: a write would lock the row until
    the push commits, so a park's pushes would queue behind each other."""
    receive(pay_serial="S1", park_name="停车场")
    receive(pay_serial="S2", park_name="停车场", now=NOW + timedelta(seconds=59))
    park = Park.objects.get()
    assert (park.name, park.first_seen, park.last_seen) == ("停车场", NOW, NOW)
    assert PayOrder.objects.get(pay_serial="S2").park == park

    receive(pay_serial="S3", park_name="停车场", now=NOW + timedelta(seconds=61))
    assert Park.objects.get().last_seen == NOW + timedelta(seconds=61)
    receive(pay_serial="S4", park_name="新名字", now=NOW + timedelta(seconds=62))
    assert Park.objects.values_list("name", "last_seen").get() == (
        "新名字",
        NOW + timedelta(seconds=62),
    )
    assert set(PayOrder.objects.values_list("park", flat=True)) == {park.pk}


@pytest.mark.django_db(transaction=True)
def test_a_push_does_not_wait_for_another_writer_of_its_park(entry, receive):
    """PostgreSQL: while another transaction holds the park's row for an update (as a push
    that renames the park does until it commits), a push of that park is stored at once."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns on the whole database")
    assert receive(pay_serial="S1").reason == "accepted"
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM orders_park FOR NO KEY UPDATE")
            with connection.cursor() as mine:
                mine.execute("SET lock_timeout = '2s'")
            result = receive(pay_serial="S2", now=NOW + timedelta(seconds=1))
            cursor.execute("ROLLBACK")
    finally:
        other.close()
        with connection.cursor() as mine:
            mine.execute("RESET lock_timeout")
    assert result.reason == "accepted"
    assert PayOrder.objects.count() == 2


def test_the_push_statement_is_prepared_on_its_connection(entry, receive):
    """PostgreSQL: from its fifth run on a connection the push's statement is a prepared one
    (planned once; DATABASE_PREPARED_STATEMENTS), and the pushes are stored all the same."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's pushes are several statements, prepared by sqlite3 itself")
    for n in range(6):
        assert receive(pay_serial=f"S{n}", now=NOW + timedelta(seconds=n)).reason == "accepted"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH entry AS%%'"
        )
        assert cursor.fetchone()[0] >= 1
    assert PayOrder.objects.count() == 6


def test_pay_time_may_be_up_to_one_day_after_now(entry, receive):
    latest = NOW_MS + 24 * 3600 * 1000

    assert receive(pay_serial="S1", pay_time_ms=latest).reason == "accepted"
    result = receive(pay_serial="S2", pay_time_ms=latest + 1)
    assert (result.code, result.reason, result.status) == ("1400", "invalid_field", 400)
    assert result.message.startswith("pay_time: ")


def test_pay_time_may_be_as_early_as_2000_01_01_china_time(receive):
    earliest = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    WhitelistEntryFactory(plate=PLATE, valid_from=earliest)
    earliest_ms = int(earliest.timestamp() * 1000)

    assert receive(pay_serial="S1", pay_time_ms=earliest_ms).reason == "accepted"
    assert receive(pay_serial="S2", pay_time_ms=earliest_ms - 1).reason == "invalid_field"


# --- The timestamp -----------------------------------------------------------------------------


def test_the_timestamp_is_not_checked_when_the_tolerance_is_zero(entry, receive, settings):
    settings.PUSH_TIMESTAMP_TOLERANCE = 0

    assert receive(pay_serial="S1", timestamp="1").reason == "accepted"
    assert receive(pay_serial="S2", drop=("timestamp",)).reason == "accepted"


@pytest.mark.parametrize("offset_ms", [-300_000, 300_000, 0, -1, 1])
def test_a_timestamp_within_the_tolerance_either_way_is_accepted(
    entry, receive, settings, offset_ms
):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    assert receive(timestamp=str(NOW_MS + offset_ms)).reason == "accepted"


@pytest.mark.parametrize("offset_ms", [-300_001, 300_001, -86_400_000, 86_400_000])
def test_a_timestamp_outside_the_tolerance_either_way_is_stale(entry, receive, settings, offset_ms):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    result = receive(timestamp=str(NOW_MS + offset_ms))

    assert (result.code, result.reason, result.status) == ("1401", "stale_timestamp", 401)
    assert nothing_stored()


@pytest.mark.parametrize(
    "timestamp", [None, "", "soon", "1.5e12", "253402300799999", "1" + "0" * 400]
)
def test_a_missing_or_unreadable_timestamp_is_stale_when_checked(
    entry, receive, settings, timestamp
):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    if timestamp is None:
        result = receive(drop=("timestamp",))
    else:
        result = receive(timestamp=timestamp)

    assert result.reason == "stale_timestamp"


def test_a_stale_timestamp_is_checked_after_the_signature(entry, receive, settings):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    assert receive(timestamp="1", sign_with="wrong").reason == "bad_signature"


def test_an_invalid_field_is_checked_after_the_timestamp(entry, receive, settings):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    assert receive(timestamp="1", pay_value="-5").reason == "stale_timestamp"


# --- The whitelist at the service level --------------------------------------------------------


def test_a_plate_not_whitelisted_is_refused_and_nothing_is_stored(receive):
    WhitelistEntryFactory(plate="川A660P2")

    result = receive(discounts=[DISCOUNT], mcoupons=[COUPON])

    assert (result.code, result.reason, result.status) == ("1403", "not_whitelisted", 403)
    assert nothing_stored()


def test_a_refused_order_with_several_discounts_and_coupons_stores_none_of_them(receive):
    # On PostgreSQL the whitelist is checked inside the order's one statement: every row of it
    # waits for the entry, the park, the order.
    WhitelistEntryFactory(plate="川A660P2")

    result = receive(discounts=[DISCOUNT, DISCOUNT, DISCOUNT], mcoupons=[COUPON, COUPON])

    assert result.reason == "not_whitelisted"
    assert nothing_stored()
    assert PushLog.objects.get().reason == "not_whitelisted"


def test_several_discounts_and_coupons_are_stored_in_the_pushed_order(entry, receive):
    discounts = [{**DISCOUNT, "token": f"T{n}"} for n in range(3)]
    coupons = [{**COUPON, "coupon_code": f"C{n}"} for n in range(3)]

    result = receive(discounts=discounts, mcoupons=coupons)

    assert result.reason == "accepted"
    order = PayOrder.objects.get()
    assert [d.token for d in Discount.objects.filter(order=order).order_by("pk")] == [
        "T0",
        "T1",
        "T2",
    ]
    assert [c.coupon_code for c in MerchantCoupon.objects.filter(order=order).order_by("pk")] == [
        "C0",
        "C1",
        "C2",
    ]
    assert PushLog.objects.get().order_id == order.pk


@pytest.mark.parametrize(
    "entry_fields, accepted",
    [
        ({"valid_from": PAY_TIME}, True),
        ({"valid_from": PAY_TIME + timedelta(milliseconds=1)}, False),
        ({"valid_from": PAY_TIME - timedelta(days=1), "valid_until": PAY_TIME}, False),
        (
            {
                "valid_from": PAY_TIME - timedelta(days=1),
                "valid_until": PAY_TIME + timedelta(milliseconds=1),
            },
            True,
        ),
        ({"valid_from": PAY_TIME - timedelta(days=1), "is_active": False}, False),
        ({"valid_from": PAY_TIME - timedelta(days=1), "park_uuid": "other"}, False),
        ({"valid_from": PAY_TIME - timedelta(days=1), "park_uuid": PARK}, True),
        ({"valid_from": PAY_TIME - timedelta(days=1), "park_uuid": ""}, True),
    ],
)
def test_the_whitelist_window_and_scope_decide(receive, entry_fields, accepted):
    WhitelistEntryFactory(plate=PLATE, **entry_fields)

    result = receive()

    assert result.reason == ("accepted" if accepted else "not_whitelisted")
    assert PayOrder.objects.exists() is accepted


def test_the_order_records_the_park_scoped_entry_that_let_it_in(receive):
    WhitelistEntryFactory(plate=PLATE, park_uuid="")
    scoped = WhitelistEntryFactory(plate=PLATE, park_uuid=PARK)

    receive()

    assert PayOrder.objects.get().whitelist_entry == scoped


# --- Idempotency -------------------------------------------------------------------------------


def test_an_exact_retry_is_a_duplicate_pointing_at_the_same_order(entry, receive):
    first = receive(pay_serial="S1", discounts=[DISCOUNT], mcoupons=[COUPON])
    again = receive(
        pay_serial="S1",
        discounts=[DISCOUNT],
        mcoupons=[COUPON],
        now=NOW + timedelta(minutes=1),
    )

    assert (again.code, again.reason, again.status) == ("1001", "duplicate", 200)
    assert again.order_id == first.order_id
    assert PayOrder.objects.count() == 1
    assert Discount.objects.count() == MerchantCoupon.objects.count() == 1
    assert list(PushLog.objects.order_by("pk").values_list("reason", "order_id")) == [
        ("accepted", first.order_id),
        ("duplicate", first.order_id),
    ]


def test_a_retry_is_acknowledged_even_after_the_plate_left_the_whitelist(entry, receive):
    receive(pay_serial="S1")
    entry.is_active = False
    entry.save()

    assert receive(pay_serial="S1").reason == "duplicate"
    # Other content under the same serial is still refused at the whitelist step first.
    assert receive(pay_serial="S1", pay_value=1).reason == "not_whitelisted"


def test_same_serial_with_other_content_is_a_conflict_and_changes_nothing(entry, receive):
    first = receive(pay_serial="S1", pay_value=100)

    result = receive(pay_serial="S1", pay_value=101)

    assert (result.code, result.reason, result.status) == ("1409", "conflict", 409)
    assert PayOrder.objects.get().pay_value == 100
    log = PushLog.objects.latest("pk")
    assert (log.reason, log.order_id) == ("conflict", None)
    assert first.order_id == PayOrder.objects.get().pk


def test_a_retry_in_the_other_encoding_is_a_duplicate(entry, app_id, secret):
    params = simulator.build_push(
        app_id=app_id, pay_serial="S1", pay_time_ms=PAY_TIME_MS, discounts=[DISCOUNT]
    )
    form = simulator.encode_push(params, secret=secret)
    as_json = simulator.encode_push(
        {
            **params,
            "pay_value": 100,
            "plate": "川a 660p1",
            "discounts": [{**DISCOUNT, "relief_value": 500}],
        },
        secret=secret,
        header_sign=True,
    )

    def run(encoded):
        request = services.PushRequest(
            body=encoded.body,
            content_type=encoded.content_type,
            authorization=encoded.headers.get("Authorization", ""),
        )
        return services.receive_push(request=request, now=NOW)

    assert run(form).reason == "accepted"
    assert run(as_json).reason == "duplicate"


# --- Refusals store nothing but a log row ------------------------------------------------------


def test_a_refused_push_leaves_only_its_log_row(entry, receive):
    result = receive(discounts=[DISCOUNT, {**DISCOUNT, "relief_value": "-1"}], mcoupons=[COUPON])

    assert (result.code, result.reason) == ("1400", "invalid_field")
    assert nothing_stored()
    log = PushLog.objects.get()
    assert (log.code, log.reason) == ("1400", "invalid_field")
    assert log.message == result.message
    assert "discounts[1].relief_value" in log.message
    assert log.order is None
    assert log.remote_addr == "203.0.113.7"
    assert log.content_type == "application/x-www-form-urlencoded"
    assert "relief_value" in log.body


def test_an_unreadable_body_is_logged_with_what_arrived():
    body = b"\xff\xfe not text \x00"
    request = services.PushRequest(body=body, content_type="text/plain", remote_addr="::1")

    result = services.receive_push(request=request, now=NOW)

    assert (result.code, result.reason, result.status) == ("1400", "bad_body", 400)
    log = PushLog.objects.get()
    assert (log.code, log.reason, log.content_type, log.remote_addr) == (
        "1400",
        "bad_body",
        "text/plain",
        "::1",
    )
    assert log.message == result.message
    assert log.body == "\ufffd\ufffd not text \ufffd"
    assert nothing_stored()


def test_the_log_keeps_the_first_64_kib_of_the_body():
    body = b"a=" + b"x" * (100 * 1024)

    services.receive_push(
        request=services.PushRequest(body=body, content_type="application/x-www-form-urlencoded")
    )

    assert PushLog.objects.get().body == body[: 64 * 1024].decode()


def test_a_log_row_is_written_for_every_request(entry, receive):
    receive(pay_serial="S1")
    receive(pay_serial="S1")
    receive(pay_serial="S1", pay_value=5)
    receive(pay_serial="S2", sign_with="wrong")
    receive(pay_serial="S3", plate="川A000000")

    assert list(PushLog.objects.order_by("pk").values_list("pay_serial", "reason")) == [
        ("S1", "accepted"),
        ("S1", "duplicate"),
        ("S1", "conflict"),
        ("S2", "bad_signature"),
        ("S3", "not_whitelisted"),
    ]


@pytest.mark.parametrize(
    "odd",
    [
        "🚗\u200d🚓",
        "\u202eRTL\u202c",
        "e\u0301\u0301\u0301",
        "a\u2028\u2029b",
        "\ufeff\ufffe",
        "\U0010fffd",
        "'; DROP TABLE orders_payorder; --",
    ],
)
def test_odd_unicode_in_text_fields_is_stored_as_given(entry, receive, odd):
    result = receive(
        pay_serial=f"S{odd}",
        parking_serial=odd,
        channel=odd,
        identity=odd,
        park_name=odd,
        discounts=[{**DISCOUNT, "token": odd, odd: odd}],
        mcoupons=[{**COUPON, "store_name": odd, "grant_time": odd}],
        **{f"x{odd}": odd},
    )

    assert result.reason == "accepted", result.message
    order = PayOrder.objects.get()
    assert (order.pay_serial, order.parking_serial, order.channel, order.identity) == (
        f"S{odd}",
        odd,
        odd,
        odd,
    )
    assert order.park.name == odd
    assert order.extra == {f"x{odd}": odd}
    assert order.discounts.get().extra == {odd: odd}
    assert order.mcoupons.get().store_name == odd
    assert PushLog.objects.get().pay_serial == f"S{odd}"


def test_a_replay_is_not_refused_for_its_old_timestamp_but_still_for_its_signature(
    entry, receive, settings
):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300
    received = receive(pay_serial="20210421164242075523115899", plate="川B12345")
    assert received.reason == "not_whitelisted"
    WhitelistEntryFactory(plate="川B12345", valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    logged = PushLog.objects.get(pay_serial="20210421164242075523115899")

    an_hour_later = services.replay_push(log=logged, now=NOW + timedelta(hours=1))

    assert (an_hour_later.code, an_hour_later.reason) == ("1001", "accepted")
    logged.body = logged.body.replace("pay_value=100", "pay_value=999")
    assert "pay_value=999" in logged.body
    tampered = services.replay_push(log=logged, now=NOW + timedelta(hours=1))
    assert tampered.reason == "bad_signature"


def test_a_push_for_an_order_reconciliation_created_is_acknowledged(entry, receive):
    first = receive(pay_serial="20210421164242075523115877")
    PayOrder.objects.filter(pk=first.order_id).update(
        source=PayOrder.Source.RECONCILIATION, fingerprint="from the payment list"
    )

    late_push = receive(pay_serial="20210421164242075523115877")

    assert (late_push.code, late_push.reason) == ("1001", "duplicate")
    assert late_push.order_id == first.order_id
    assert PayOrder.objects.count() == 1


def test_the_same_serial_from_another_source_with_other_content_still_conflicts(entry, receive):
    receive(pay_serial="20210421164242075523115878", pay_value=100)

    other = receive(pay_serial="20210421164242075523115878", pay_value=999)

    assert (other.code, other.reason) == ("1409", "conflict")
