"""The open-API client against the fake platform, a real local HTTP server."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from parkingops.pcloud.client import (
    CallRecord,
    PlatformAuthError,
    PlatformClient,
    PlatformError,
    PlatformForbidden,
    PlatformUnavailable,
)
from parkingops.pcloud.fake import FakePlatform

APP_ID = "op00961963581daa7"
SECRET = "demo-secret-7f3a"


@pytest.fixture
def fake():
    platform = FakePlatform(app_id=APP_ID, secrets=[SECRET])
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client_for(fake, records):
    def build(**overrides) -> PlatformClient:
        options = {
            "base_url": fake.url,
            "app_id": APP_ID,
            "secret": SECRET,
            "timeout": 2,
            "retries": 2,
            "backoff": 0,
            "recorder": records.append,
        }
        options.update(overrides)
        return PlatformClient(**options)

    return build


def test_whitelist_add_disable_and_delete_reach_the_platform(fake, client_for):
    client = client_for()

    client.set_whitelist(plate="川A660P1", status=1, reason="new staff")
    assert fake.status_of("川A660P1") == 1
    client.set_whitelist(plate="川A660P1", status=0)
    assert fake.status_of("川A660P1") == 0
    client.delete_whitelist(plate="川A660P1")
    assert fake.status_of("川A660P1") is None


def test_every_call_is_recorded_without_secret_or_sign(fake, client_for, records):
    client_for().set_whitelist(plate="川A660P1", status=1)

    (record,) = records
    assert record.method == "POST"
    assert record.endpoint == "gate/1.0/parking/whitelist"
    assert record.code == "1001"
    assert record.params["plate"] == "川A660P1"
    assert "sign" not in record.params
    assert SECRET not in repr(record)
    assert SECRET not in repr(client_for())


def test_a_wrong_secret_is_refused_with_an_auth_error(fake, client_for):
    with pytest.raises(PlatformAuthError):
        client_for(secret="not-the-secret").set_whitelist(plate="川A660P1", status=1)
    assert fake.status_of("川A660P1") is None


def test_403_is_a_forbidden_error_and_is_not_retried(fake, client_for, records):
    fake.fail_next("403", times=5)

    with pytest.raises(PlatformForbidden):
        client_for().set_whitelist(plate="川A660P1", status=1)
    assert len(records) == 1


def test_1500_is_retried_with_backoff_until_it_succeeds(fake, client_for, records):
    fake.fail_next("1500", times=2)
    sleeps: list[float] = []

    client_for(backoff=0.5, sleep=sleeps.append).set_whitelist(plate="川A660P1", status=1)

    assert [r.code for r in records] == ["1500", "1500", "1001"]
    assert sleeps == [0.5, 1.0]
    assert fake.status_of("川A660P1") == 1


def test_1500_that_persists_raises_unavailable_after_the_retries(fake, client_for, records):
    fake.fail_next("1500", times=10)

    with pytest.raises(PlatformUnavailable):
        client_for(retries=2).set_whitelist(plate="川A660P1", status=1)
    assert len(records) == 3


def test_a_slow_answer_times_out_and_is_retried(fake, client_for, records):
    fake.slow_next(1.5, times=1)

    client_for(timeout=0.5).set_whitelist(plate="川A660P1", status=1)

    assert records[0].code == "network"
    assert records[-1].code == "1001"


def test_an_unreachable_platform_raises_unavailable(client_for, records):
    client = client_for(base_url="http://127.0.0.1:9/", retries=1)

    with pytest.raises(PlatformUnavailable):
        client.set_whitelist(plate="川A660P1", status=1)
    assert [r.code for r in records] == ["network", "network"]


def test_other_codes_raise_a_platform_error_with_the_message(fake, client_for):
    fake.fail_next("1234")

    with pytest.raises(PlatformError) as excinfo:
        client_for().set_whitelist(plate="川A660P1", status=1)
    assert excinfo.value.code == "1234"
    assert "1234" in excinfo.value.message


def test_payment_list_pages_through_every_payment_of_the_window(fake, client_for, records):
    day = datetime(2026, 11, 1, tzinfo=UTC)
    for minute in range(25):
        fake.add_payment(park_uuid="park-1", pay_time=day + timedelta(minutes=minute))
    fake.add_payment(park_uuid="park-2", pay_time=day)
    fake.add_payment(park_uuid="park-1", pay_time=day + timedelta(days=2))

    rows = list(
        client_for().iter_payments(
            park_uuid="park-1", start=day, end=day + timedelta(hours=23), page_size=10
        )
    )

    assert len(rows) == 25
    assert len({row["pay_serial"] for row in rows}) == 25
    assert [r.params["page_index"] for r in records] == ["1", "2", "3"]
    assert records[0].params["start_time"] == "20261101080000"  # China time


def test_an_empty_payment_window_yields_nothing(fake, client_for):
    day = datetime(2026, 11, 1, tzinfo=UTC)
    assert list(client_for().iter_payments(park_uuid="p", start=day, end=day)) == []


def test_from_settings_needs_a_base_url(settings):
    settings.PLATFORM_API_BASE = ""
    with pytest.raises(ImproperlyConfigured):
        PlatformClient.from_settings()


def test_from_settings_signs_with_the_first_secret(settings, fake, records):
    settings.PLATFORM_API_BASE = fake.url

    PlatformClient.from_settings(recorder=records.append).set_whitelist(plate="川A1", status=1)

    assert fake.status_of("川A1") == 1
