"""Management commands: send_push against our own endpoint over HTTP, seed_demo, demo_admin."""

import io
import json
import socket
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from orders.demo import simulator
from orders.demo.management.commands import seed_demo
from orders.demo.management.commands.send_push import default_url, parse_coupon, parse_discount
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.stays.models import Renewal, Stay
from parkingops.formatting import CHINA
from whitelist import plates
from whitelist.models import Park, WhitelistEntry
from whitelist.selectors import find_valid_entry

PUSH_PATH = "/api/v1/push/pay-orders/"


def run(*args: str) -> str:
    """Run a management command and return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def push_url(live_server) -> str:
    return live_server.url + PUSH_PATH


@pytest.fixture
def closed_url() -> str:
    """A URL on a local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{PUSH_PATH}"


# --- send_push -------------------------------------------------------------------------------


def test_send_push_form_body_stores_discounts_and_coupons_as_given(whitelisted, push_url, secret):
    output = run(
        "send_push",
        "--url", push_url,
        "--plate", "川a 660p1",
        "--park-uuid", "park-1",
        "--park-name", "天府广场停车场",
        "--amount", "1500",
        "--pay-serial", "SP0001",
        "--pay-time", "1618994563000",
        "--channel", "200101",
        "--discount", "500:13800138000",
        "--discount", "300",
        "--coupon", "KFC01:肯德基:1000",
        "--coupon", "SB02:星巴克:120:2",
    )  # fmt: skip

    assert "1001" in output
    assert secret not in output
    order = PayOrder.objects.get(pay_serial="SP0001")
    assert (order.plate, order.plate_raw) == ("川A660P1", "川a 660p1")
    assert (order.park.park_uuid, order.park.name) == ("park-1", "天府广场停车场")
    assert order.pay_value == 1500
    assert int(order.pay_time.timestamp() * 1000) == 1618994563000
    assert order.channel == "200101"
    assert list(order.discounts.values_list("relief_value", "mobile", "type")) == [
        (500, "13800138000", "1"),
        (300, "", "1"),
    ]
    assert list(
        order.mcoupons.values_list("store_code", "store_name", "coupon_value", "coupon_type")
    ) == [("KFC01", "肯德基", 1000, 1), ("SB02", "星巴克", 120, 2)]
    assert order.mcoupons.first().coupon_name == "10元停车券"
    assert order.mcoupons.first().grant_time is not None
    log = PushLog.objects.get(order=order)
    assert log.content_type == "application/x-www-form-urlencoded"
    assert log.code == "1001"


def test_send_push_json_body_is_signed_in_a_field(whitelisted, push_url):
    output = run(
        "send_push", "--url", push_url, "--json", "--pay-serial", "SP0002",
        "--discount", '{"type": "2", "relief_value": 800, "note": "kept"}',
    )  # fmt: skip

    assert "1001" in output
    log = PushLog.objects.get(pay_serial="SP0002")
    assert (log.code, log.content_type, log.authorization) == ("1001", "application/json", "")
    assert "sign" in json.loads(log.body)
    discount = Discount.objects.get(order__pay_serial="SP0002")
    assert (discount.type, discount.relief_value, discount.extra) == ("2", 800, {"note": "kept"})


def test_send_push_header_sign_sends_json_signed_in_the_authorization_header(whitelisted, push_url):
    output = run("send_push", "--url", push_url, "--header-sign", "--pay-serial", "SP0003")

    assert "1001" in output
    log = PushLog.objects.get(pay_serial="SP0003")
    assert log.content_type == "application/json"
    assert "sign" not in json.loads(log.body)
    assert len(log.authorization) == 32
    assert PayOrder.objects.filter(pay_serial="SP0003").exists()


def test_send_push_count_with_concurrency_stores_each_push_once(whitelisted, push_url, secret):
    output = run("send_push", "--url", push_url, "--count", "5", "--concurrency", "2")

    assert "1001 accepted: 5" in output
    assert secret not in output
    assert PayOrder.objects.count() == 5
    assert PushLog.objects.filter(code="1001").count() == 5


def test_send_push_count_with_a_fixed_serial_repeats_the_same_push(whitelisted, push_url):
    output = run("send_push", "--url", push_url, "--count", "3", "--pay-serial", "SP0004")

    assert "1001 accepted: 1" in output
    assert "1001 duplicate: 2" in output
    assert PayOrder.objects.count() == 1


def test_send_push_for_a_plate_not_whitelisted_prints_1403_and_fails(whitelisted, push_url):
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("send_push", "--url", push_url, "--plate", "京A12345", stdout=out)

    assert "1403" in out.getvalue()
    assert "not_whitelisted" in str(raised.value)
    assert raised.value.returncode != 0
    assert not PayOrder.objects.exists()


def test_send_push_count_summary_lists_the_failures_and_fails(whitelisted, push_url):
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "send_push", "--url", push_url, "--plate", "京A12345", "--count", "2", stdout=out
        )

    assert "1403 not_whitelisted: 2" in out.getvalue()
    assert PushLog.objects.filter(code="1403").count() == 2


def test_send_push_from_a_file_resigns_and_sends_its_fields(whitelisted, push_url, tmp_path):
    path = tmp_path / "push.json"
    fields = simulator.build_push(app_id="op00961963581daa7", pay_serial="SP0005", pay_value=900)
    path.write_text(json.dumps({**fields, "sign": "STALE", "vendor_field": "x"}), "utf-8")

    output = run("send_push", "--url", push_url, "--file", str(path), "--amount", "1200")

    assert "1001" in output
    order = PayOrder.objects.get(pay_serial="SP0005")
    assert order.pay_value == 1200
    assert order.extra == {"vendor_field": "x"}


def test_send_push_to_an_unreachable_server_is_a_clear_error(closed_url, secret):
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("send_push", "--url", closed_url, stdout=out)

    assert closed_url in str(raised.value)
    assert secret not in out.getvalue() + str(raised.value)


def test_send_push_count_to_an_unreachable_server_is_a_clear_error(closed_url):
    with pytest.raises(CommandError) as raised:
        call_command("send_push", "--url", closed_url, "--count", "3", stdout=io.StringIO())

    assert closed_url in str(raised.value)


def test_send_push_to_a_page_that_is_not_the_endpoint_fails(live_server):
    with pytest.raises(CommandError) as raised:
        call_command("send_push", "--url", live_server.url + "/nowhere/", stdout=io.StringIO())

    assert "404" in str(raised.value)


def test_send_push_refuses_a_malformed_discount_or_coupon():
    with pytest.raises(CommandError):
        call_command("send_push", "--discount", "five", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("send_push", "--coupon", "KFC01:1000", stdout=io.StringIO())


def test_discount_and_coupon_specs_become_protocol_objects():
    discount = parse_discount("500:13800138000:2")
    coupon = parse_coupon("KFC01:肯德基:1050")

    assert (discount["relief_value"], discount["mobile"], discount["type"]) == (
        "500",
        "13800138000",
        "2",
    )
    assert (coupon["store_code"], coupon["coupon_value"], coupon["coupon_type"]) == (
        "KFC01",
        "1050",
        "1",
    )
    assert coupon["coupon_name"] == "10.50元停车券"
    assert parse_discount('{"relief_value": 1}') == {"relief_value": 1}


def test_default_url_is_the_local_server_on_port(monkeypatch):
    monkeypatch.setenv("PORT", "9001")
    assert default_url() == f"http://127.0.0.1:9001{PUSH_PATH}"
    monkeypatch.delenv("PORT")
    assert default_url() == f"http://127.0.0.1:8000{PUSH_PATH}"


@pytest.mark.parametrize("kind", ["entry", "exit", "renewal"])
def test_send_push_kind_sends_that_push_to_its_url(whitelisted, push_url, kind):
    output = run("send_push", "--url", push_url, "--kind", kind, "--amount", "800")

    assert simulator.PUSH_PATHS[kind] in output
    assert '"code": "1001"' in output
    log = PushLog.objects.get()
    assert (log.kind, log.reason) == (kind, "accepted")
    if kind == "exit":
        assert Stay.objects.get().total_value == 800
    if kind == "renewal":
        assert Renewal.objects.get().pay_value == 800


def test_send_push_count_of_entries_with_one_serial_repeats_the_same_push(whitelisted, push_url):
    output = run(
        "send_push", "--url", push_url, "--kind", "entry", "--count", "3",
        "--parking-serial", "PS1",
    )  # fmt: skip

    assert "1001 accepted: 1" in output
    assert "1001 duplicate: 2" in output
    assert Stay.objects.get().parking_serial == "PS1"


def test_send_push_visit_sends_entry_pay_order_and_exit_of_one_stay(whitelisted, push_url):
    output = run(
        "send_push", "--url", push_url, "--visit", "--amount", "1500", "--free", "300",
        "--autopay", "200",
    )  # fmt: skip

    assert output.count('"code": "1001"') == 3
    stay = Stay.objects.get()
    order = PayOrder.objects.get()
    assert order.parking_serial == stay.parking_serial
    assert order.pay_value == stay.due_through_pushes == 1000
    assert stay.enter_time < order.pay_time < stay.leave_time
    assert list(PushLog.objects.order_by("pk").values_list("kind", flat=True)) == [
        "entry",
        "pay",
        "exit",
    ]


# --- seed_demo -------------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    models = [Park, PayOrder, Discount, MerchantCoupon, PushLog, WhitelistEntry, Stay, Renewal]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_pushes_about_300_orders_with_discounts_and_coupons(db):
    output = run("seed_demo")

    assert "300" in output
    assert Park.objects.count() == len(seed_demo.PARKS)
    assert PayOrder.objects.count() == seed_demo.ORDER_COUNT
    # Every order came through the push service and was logged as accepted.
    assert not PayOrder.objects.exclude(push_logs__code="1001").exists()
    assert PushLog.objects.exclude(code="1001").count() == 0
    assert not PayOrder.objects.filter(whitelist_entry__isnull=True).exists()
    month_ago = timezone.now() - timedelta(days=seed_demo.DAYS)
    assert not PayOrder.objects.filter(pay_time__lt=month_ago).exists()
    assert not PayOrder.objects.filter(pay_time__gt=timezone.now()).exists()
    assert Discount.objects.exclude(mobile="").exists()
    assert Discount.objects.filter(mobile="").exists()
    assert MerchantCoupon.objects.values("store_code").distinct().count() >= 3
    assert MerchantCoupon.objects.values("coupon_type").distinct().count() >= 3


def test_seed_demo_pushes_stays_some_in_the_park_one_with_a_gap_and_renewals(db):
    from orders.stays.selectors import with_a_gap

    output = run("seed_demo")

    assert "Stays:" in output and "Renewals:" in output
    # A stay around every order but one (its entry and exit lost), and the cars in the park.
    assert Stay.objects.count() == seed_demo.ORDER_COUNT - 1 + seed_demo.IN_PARK_NOW
    assert Stay.objects.in_park().count() >= seed_demo.IN_PARK_NOW
    yesterday = timezone.localtime(timezone.now(), CHINA).date() - timedelta(days=1)
    (short,) = with_a_gap(Stay.objects.all())
    assert short.gap == 500
    assert timezone.localtime(short.leave_time, CHINA).date() == yesterday
    (lost,) = PayOrder.objects.exclude(parking_serial__in=Stay.objects.values("parking_serial"))
    assert timezone.localtime(lost.pay_time, CHINA).date() == yesterday
    assert Renewal.objects.count() == len(seed_demo.RENEWALS)
    assert Renewal.objects.values("vip_type").distinct().count() >= 4
    assert not PushLog.objects.exclude(code="1001").exists()
    # The orders are the same 300 as before.
    assert PayOrder.objects.count() == seed_demo.ORDER_COUNT


def test_seed_demo_whitelists_every_kind_of_entry(db):
    run("seed_demo")
    now = timezone.now()
    entries = WhitelistEntry.objects.all()

    assert entries.filter(park_uuid="", is_active=True, valid_until__isnull=True).exists()
    assert entries.exclude(park_uuid="").exists()
    assert entries.filter(valid_until__lte=now).exists()
    assert entries.filter(valid_from__gt=now).exists()
    assert entries.filter(is_active=False).exists()
    assert any(len(entry.plate) == 8 for entry in entries)  # a new-energy plate
    for entry in entries:
        assert plates.validate(entry.plate) == entry.plate
    # A bare `send_push` (the demo plate, the platform's demo park) is accepted.
    assert find_valid_entry(plate=simulator.DEMO_PLATE, park_uuid=simulator.DEMO_PARK_UUID, at=now)


def test_seed_demo_twice_adds_nothing(db):
    run("seed_demo")
    first = _counts()

    output = run("seed_demo")

    assert _counts() == first
    assert "300" in output


# --- demo_admin ------------------------------------------------------------------------------


@pytest.fixture
def demo(db, settings, monkeypatch):
    """Run demo_admin as ``make run`` does: DEBUG on (the test runner turns it off)."""
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)


def test_demo_admin_creates_admin_with_demo_admin_password(demo, monkeypatch, tmp_path, secret):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-pass-123")

    output = run("demo_admin", "--port", "8123", "--password-file", str(tmp_path / "pw"))

    user = authenticate(username="admin", password="demo-pass-123")
    assert user is not None and user.is_superuser and user.is_staff
    assert "http://127.0.0.1:8123/admin/" in output
    assert f"http://127.0.0.1:8123{PUSH_PATH}" in output
    assert "demo-pass-123" in output
    assert "op00961963581daa7" in output
    assert secret in output  # DEBUG is on in the tests: the demo shows its secret
    assert not (tmp_path / "pw").exists()


def test_demo_admin_password_replaces_an_existing_admins(demo, monkeypatch, tmp_path):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("admin", password="old-password")
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "new-password-9")

    run("demo_admin", "--password-file", str(tmp_path / "pw"))

    user = authenticate(username="admin", password="new-password-9")
    assert user is not None and user.is_superuser


def test_demo_admin_remembers_its_generated_password(demo, tmp_path):
    path = tmp_path / "pw"

    first = run("demo_admin", "--password-file", str(path))
    password = path.read_text().strip()
    second = run("demo_admin", "--password-file", str(path))

    assert len(password) >= 12
    assert password in first and password in second
    assert path.read_text().strip() == password
    assert authenticate(username="admin", password=password) is not None


def test_demo_admin_offers_a_push_for_a_whitelisted_demo_plate(
    demo, whitelisted, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-pass-123")

    output = run("demo_admin", "--port", "8123", "--password-file", str(tmp_path / "pw"))

    assert f"send_push --plate {simulator.DEMO_PLATE}" in output
    assert f"--url http://127.0.0.1:8123{PUSH_PATH}" in output


def test_demo_admin_refuses_without_debug_and_shows_no_secret(demo, settings, tmp_path, secret):
    settings.DEBUG = False
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("demo_admin", "--password-file", str(tmp_path / "pw"), stdout=out)

    assert secret not in out.getvalue() + str(raised.value)
    assert not (tmp_path / "pw").exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="admin").exists()


def test_demo_admin_gives_each_role_a_staff_user_with_the_demo_password(
    demo, monkeypatch, tmp_path, client
):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-pass-123")

    output = run("demo_admin", "--password-file", str(tmp_path / "pw"))
    run("demo_admin", "--password-file", str(tmp_path / "pw"))  # twice: still one of each

    finance = authenticate(username="finance", password="demo-pass-123")
    operations = authenticate(username="operations", password="demo-pass-123")
    assert [g.name for g in finance.groups.all()] == ["财务"]
    assert [g.name for g in operations.groups.all()] == ["运营"]
    assert finance.is_staff and not finance.is_superuser
    assert "finance" in output and "operations" in output
    client.force_login(finance)
    assert client.get("/admin/orders/payorder/").status_code == 200
    assert client.get("/admin/whitelist/whitelistentry/add/").status_code == 403
