"""receive_push for the entry, exit and renewal pushes: every check of the protocol's table,
what is stored and logged, with an injected clock (PLATFORM_PUSHES.md)."""

from datetime import UTC, datetime, timedelta

import pytest

from orders.models import PushLog
from orders.push import kinds, services
from orders.stays.models import Renewal, Stay
from orders.tests.stays.conftest import (
    ENTER,
    EVENT_TIME,
    LEAVE,
    NOW,
    OTHER_KINDS,
    PAY_SERIAL,
    PLATE,
    SERIAL,
    ms,
)
from whitelist.models import Park
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db

by_kind = pytest.mark.parametrize("kind", OTHER_KINDS)


def held(kind: str):
    """The record a push of ``kind`` stores."""
    return Renewal.objects.get() if kind == "renewal" else Stay.objects.get()


def nothing_stored() -> bool:
    return not (Stay.objects.exists() or Renewal.objects.exists() or Park.objects.exists())


@by_kind
def test_an_accepted_push_is_stored_and_logged_with_its_kind(entry, receive, kind):
    result = receive(kind)

    assert (result.code, result.reason) == ("1001", "accepted")
    record = held(kind)
    log = PushLog.objects.get()
    assert (log.kind, log.code, log.reason) == (kind, "1001", "accepted")
    assert (log.stay if kind != "renewal" else log.renewal) == record
    assert log.order is None
    assert record.plate == PLATE
    assert record.park.park_uuid == "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"


@by_kind
def test_every_form_of_the_push_is_accepted(entry, receive, kind):
    assert receive(kind, as_json=True).reason == "accepted"
    Stay.objects.all().delete()
    Renewal.objects.all().delete()
    assert receive(kind, header_sign=True).reason == "accepted"


@by_kind
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"app_id": "someone-else"}, "unknown_app"),
        ({"sign_with": "wrong-secret"}, "bad_signature"),
        ({"sign_type": "SHA256"}, "bad_signature"),
        ({"plate": "川A000000"}, "not_whitelisted"),
        ({"park_uuid": ""}, "invalid_field"),
    ],
)
def test_each_check_of_the_table_refuses_and_stores_nothing(entry, receive, kind, change, reason):
    result = receive(kind, **change)

    assert result.reason == reason
    assert nothing_stored()
    log = PushLog.objects.get()
    assert (log.kind, log.reason) == (kind, reason)


@by_kind
def test_a_stale_timestamp_is_refused_when_checked(entry, receive, settings, kind):
    settings.PUSH_TIMESTAMP_TOLERANCE = 300

    result = receive(kind, timestamp=str(ms(NOW - timedelta(minutes=6))))

    assert (result.code, result.reason) == ("1401", "stale_timestamp")
    assert nothing_stored()


@by_kind
def test_an_unreadable_body_is_refused_and_logged_with_its_kind(db, kind):
    request = services.PushRequest(body=b"{", content_type="application/json")

    result = services.receive_push(request=request, now=NOW, kind=kinds.KINDS[kind])

    assert (result.code, result.reason, result.status) == ("1400", "bad_body", 400)
    assert PushLog.objects.get().kind == kind


@by_kind
def test_the_whitelist_is_read_at_the_events_own_time(receive, kind):
    # The entry starts a minute after the event: the push is refused.
    event = {"entry": ENTER, "exit": LEAVE, "renewal": LEAVE}[kind]
    late = WhitelistEntryFactory(plate=PLATE, valid_from=event + timedelta(minutes=1))

    assert receive(kind).reason == "not_whitelisted"

    late.valid_from = event
    late.save()
    assert receive(kind).reason == "accepted"
    record = held(kind)
    admitted = {
        "entry": lambda: record.entry_whitelist_entry,
        "exit": lambda: record.exit_whitelist_entry,
        "renewal": lambda: record.whitelist_entry,
    }[kind]()
    assert admitted == late


@by_kind
def test_an_exact_retry_is_a_duplicate_pointing_at_the_same_record(entry, receive, kind):
    first = receive(kind)
    # A retry carries a new timestamp and the park's spaces of that moment.
    again = receive(
        kind, as_json=True, timestamp=str(ms(NOW) + 5000), remain_space="7", total_space="501"
    )

    assert (again.code, again.reason) == ("1001", "duplicate")
    assert again.order_id == first.order_id
    assert Stay.objects.count() + Renewal.objects.count() == 1
    logs = PushLog.objects.order_by("pk")
    link = "renewal_id" if kind == "renewal" else "stay_id"
    assert [getattr(log, link) for log in logs] == [first.order_id] * 2


@by_kind
def test_a_retry_is_acknowledged_after_the_plate_left_the_whitelist(entry, receive, kind):
    receive(kind)
    entry.delete()

    assert receive(kind).reason == "duplicate"


@by_kind
def test_same_identity_with_other_content_is_a_conflict_and_changes_nothing(entry, receive, kind):
    receive(kind)
    before = held(kind)
    other = {"entry": {"enter_gate": "西门"}, "exit": {"total_value": 1}, "renewal": {}}[kind]
    if kind == "renewal":
        other = {"pay_value": 1}

    result = receive(kind, **other)

    assert (result.code, result.reason, result.status) == ("1409", "conflict", 409)
    after = held(kind)
    assert [getattr(after, f.attname) for f in after._meta.concrete_fields] == [
        getattr(before, f.attname) for f in before._meta.concrete_fields
    ]


@by_kind
def test_unknown_fields_are_kept_verbatim(entry, receive, kind):
    receive(kind, as_json=True, note_x={"a": 1}, other="")

    record = held(kind)
    extra = {"entry": "entry_extra", "exit": "exit_extra", "renewal": "extra"}[kind]
    raw = {"entry": "entry_raw", "exit": "exit_raw", "renewal": "raw"}[kind]
    assert getattr(record, extra) == {"note_x": {"a": 1}, "other": ""}
    assert getattr(record, raw)["note_x"] == {"a": 1}
    assert "sign" not in getattr(record, raw)


@by_kind
def test_the_event_time_is_bounded_like_the_pay_time(entry, receive, kind):
    field = EVENT_TIME[kind]
    too_late = ms(NOW + timedelta(days=1)) + 1

    result = receive(kind, **{field: str(too_late)})

    assert result.reason == "invalid_field"
    assert result.message.startswith(f"{field}:")


# --- The stay ---------------------------------------------------------------------------------


def test_an_entry_makes_a_stay_in_the_park(entry, receive):
    receive("entry")

    stay = Stay.objects.get()
    assert stay.parking_serial == SERIAL
    assert stay.enter_time == ENTER.replace(microsecond=0)
    assert (stay.has_entry, stay.has_left) == (True, False)
    assert list(Stay.objects.in_park()) == [stay]
    assert stay.enter_gate == "东门入口"
    assert stay.entry_whitelist_entry == entry


def test_the_exit_completes_the_stay(entry, receive):
    receive("entry")
    result = receive("exit", total_value=1500, free_value=200, autopay_value=300)

    assert result.reason == "accepted"
    stay = Stay.objects.get()
    assert stay.leave_time == LEAVE.replace(microsecond=0)
    assert stay.parking_time == 7500
    assert (stay.total_value, stay.free_value, stay.autopay_value) == (1500, 200, 300)
    assert stay.due_through_pushes == 1000
    assert stay.leave_gate == "东门出口"
    assert not stay.needs_review
    assert not Stay.objects.in_park().exists()
    assert PushLog.objects.filter(stay=stay).count() == 2


def test_an_exit_before_its_entry_makes_the_stay_and_the_entry_completes_it(entry, receive):
    receive("exit", car_desc="exit says")

    stay = Stay.objects.get()
    assert (stay.has_entry, stay.has_left) == (False, True)
    assert stay.enter_time == ENTER.replace(microsecond=0)
    assert stay.car_desc == "exit says"
    assert not Stay.objects.in_park().exists()

    assert receive("entry", car_desc="entry says").reason == "accepted"

    stay.refresh_from_db()
    assert (stay.has_entry, stay.has_left, stay.car_desc) == (True, True, "entry says")
    assert not stay.needs_review


@pytest.mark.parametrize("entry_first", [True, False])
def test_an_exit_with_another_entry_time_marks_the_stay_and_the_entrys_wins(
    entry, receive, entry_first
):
    other = ENTER - timedelta(minutes=3)
    pushes = [("entry", {}), ("exit", {"enter_time_ms": ms(other)})]
    for kind, fields in pushes if entry_first else reversed(pushes):
        assert receive(kind, **fields).reason == "accepted"

    stay = Stay.objects.get()
    assert stay.needs_review
    assert stay.enter_time == ENTER.replace(microsecond=0)
    assert stay.exit_enter_time == other.replace(microsecond=0)


def test_an_exit_before_its_entry_time_is_refused(entry, receive):
    result = receive("exit", leave_time_ms=ms(ENTER) - 1000)

    assert result.reason == "invalid_field"
    assert result.message.startswith("leave_time:")


def test_a_stay_with_zero_values_and_no_optional_money(entry, receive):
    receive("exit", drop=("free_value", "autopay_value"), total_value=0)

    stay = Stay.objects.get()
    assert (stay.total_value, stay.free_value, stay.autopay_value) == (0, 0, 0)


# --- The park's place -------------------------------------------------------------------------


def test_the_park_keeps_the_newest_address_and_position(entry, receive):
    receive("entry")
    park = Park.objects.get()
    assert (park.address, park.area_code) == ("四川省成都市高新区天府大道1号", "510107")
    assert (park.latitude, park.longitude) == (30.572815, 104.066801)

    receive("exit", address="新地址", latitude="-1.0", longitude="-1.0", park_name="新名字")

    park.refresh_from_db()
    # Newest wins; the platform's -1.0 (unknown) does not erase a known position.
    assert (park.address, park.name) == ("新地址", "新名字")
    assert (park.latitude, park.longitude) == (30.572815, 104.066801)


# --- The renewal ------------------------------------------------------------------------------


def test_a_renewal_is_stored_with_its_period(entry, receive):
    receive("renewal", vip_type=5, quantity=365, pay_value=360000)

    renewal = Renewal.objects.get()
    assert renewal.pay_serial == PAY_SERIAL
    assert (renewal.vip_type, renewal.vip_type_label, renewal.quantity) == (5, "年卡", 365)
    assert renewal.pay_value == 360000
    assert renewal.pay_time == LEAVE.replace(microsecond=0)
    assert renewal.end_time - renewal.start_time == timedelta(days=365)
    assert renewal.whitelist_entry == entry


def test_a_stored_value_renewal_needs_no_period_and_an_unknown_type_is_stored(entry, receive):
    assert receive("renewal", vip_type=2, quantity=5000).reason == "accepted"
    assert receive("renewal", pay_serial="R2", vip_type=9, quantity=1).reason == "accepted"

    assert Renewal.objects.get(pay_serial="R2").vip_type_label == "9"
    assert Renewal.objects.get(pay_serial=PAY_SERIAL).start_time is None


def test_a_time_based_renewal_needs_its_period(entry, receive):
    result = receive("renewal", vip_type=1, drop=("end_time",))

    assert result.reason == "invalid_field"
    assert result.message.startswith("end_time:")


def test_a_renewal_pay_serial_may_equal_a_pay_orders(entry, receive, push):
    # The identity is pay_serial *among renewals*: a pay order with the same serial is
    # another record.
    push(pay_serial=PAY_SERIAL)

    assert receive("renewal").reason == "accepted"


# --- Replay and pruning -----------------------------------------------------------------------


@by_kind
def test_a_logged_push_is_replayed_as_its_kind(entry, receive, kind):
    receive(kind)
    log = PushLog.objects.get()

    result = services.replay_push(log=log, now=NOW + timedelta(days=1))

    assert result.reason == "duplicate"
    assert PushLog.objects.latest("pk").kind == kind


def test_pruning_keeps_the_log_rows_of_stays_and_renewals(entry, receive):
    receive("entry")
    receive("renewal")
    receive("exit", plate="川A000000")  # refused: no record

    pruned = services.prune_push_log(older_than_days=1, now=NOW + timedelta(days=3))

    assert pruned.deleted == 1
    assert sorted(PushLog.objects.values_list("kind", flat=True)) == ["entry", "renewal"]


def test_the_pay_orders_log_rows_say_pay(entry, push):
    push()

    assert PushLog.objects.get().kind == "pay"
    assert datetime.now(UTC)  # the clock is real here: the push went through the view
