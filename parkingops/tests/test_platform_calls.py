"""The record of calls to the platform (``PlatformCall``): written by a real call through the
client against the fake platform, never holding the secret or the signature, and shown
read-only in the admin."""

import json
from datetime import UTC, datetime

import pytest
from django.conf import settings

from parkingops.models import PlatformCall
from parkingops.pcloud.client import PlatformAuthError, PlatformClient

CALLS = "/admin/parkingops/platformcall/"

pytestmark = pytest.mark.django_db


def _everything_stored(call: PlatformCall) -> str:
    """Every column of a recorded call as one text, to look for what must not be there."""
    return " ".join(
        [
            call.method,
            call.endpoint,
            json.dumps(call.params, ensure_ascii=False),
            call.code,
            call.message,
            str(call.duration_ms),
        ]
    )


def test_a_real_call_is_recorded_without_the_secret_or_the_sign(fake_platform):
    PlatformClient.from_settings().set_whitelist(plate="川A660P1", status=1, reason="new")

    (call,) = PlatformCall.objects.all()
    assert call.method == "POST"
    assert call.endpoint == "gate/1.0/parking/whitelist"
    assert call.code == "1001"
    assert call.message == "success"
    assert call.params["plate"] == "川A660P1"
    assert call.params["status"] == "1"
    assert call.params["app_id"] == settings.PLATFORM_APP_ID
    assert "sign" not in call.params
    assert "app_secret" not in call.params
    assert call.called_at is not None
    stored = _everything_stored(call)
    (sent,) = fake_platform.calls
    assert sent["params"]["sign"]  # the platform did receive a signature ...
    assert sent["params"]["sign"].lower() not in stored.lower()  # ... which was not recorded
    for secret in settings.PLATFORM_APP_SECRET:
        assert secret not in stored


def test_a_refused_call_is_recorded_with_the_platforms_code(fake_platform):
    fake_platform.fail_next("401")

    with pytest.raises(PlatformAuthError):
        PlatformClient.from_settings().set_whitelist(plate="川A660P1", status=1)

    (call,) = PlatformCall.objects.all()
    assert call.code == "401"
    assert call.message == "simulated failure 401"


def test_each_page_of_the_payment_list_is_one_recorded_call(fake_platform):
    for minute in range(3):
        fake_platform.add_payment(
            park_uuid="park-a", pay_time=datetime(2026, 11, 1, 2, minute, tzinfo=UTC)
        )

    rows = list(
        PlatformClient.from_settings().iter_payments(
            park_uuid="park-a",
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
            page_size=2,
        )
    )

    assert len(rows) == 3
    pages = [call.params["page_index"] for call in PlatformCall.objects.order_by("pk")]
    assert pages == ["1", "2"]


# --- The admin ---------------------------------------------------------------------------------


@pytest.fixture
def recorded_calls(fake_platform):
    """Three recorded calls: a whitelist success, a whitelist 401 and an empty payment list."""
    client = PlatformClient.from_settings()
    client.set_whitelist(plate="川A660P1", status=1)
    fake_platform.fail_next("401")
    with pytest.raises(PlatformAuthError):
        client.set_whitelist(plate="川B12345", status=1)
    list(
        client.iter_payments(
            park_uuid="park-a",
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
        )
    )
    return list(PlatformCall.objects.order_by("pk"))


def test_call_list_shows_time_method_endpoint_code_and_filters_by_endpoint_and_code(
    staff_client, recorded_calls
):
    client = staff_client("parkingops.view_platformcall", language="en")

    page = client.get(CALLS).content.decode()
    assert "gate/1.0/parking/payment/list" in page
    assert "simulated failure 401" in page

    by_code = client.get(CALLS, {"code": "401"})
    assert list(by_code.context["cl"].result_list) == [recorded_calls[1]]
    by_endpoint = client.get(CALLS, {"endpoint": "gate/1.0/parking/payment/list"})
    assert list(by_endpoint.context["cl"].result_list) == [recorded_calls[2]]
    both = client.get(CALLS, {"endpoint": "gate/1.0/parking/whitelist", "code": "1001"})
    assert list(both.context["cl"].result_list) == [recorded_calls[0]]


def test_call_detail_shows_the_parameters(staff_client, recorded_calls):
    client = staff_client("parkingops.view_platformcall", language="en")

    page = client.get(f"{CALLS}{recorded_calls[0].pk}/change/").content.decode()

    assert "川A660P1" in page
    assert "&quot;status&quot;: &quot;1&quot;" in page
    assert 'name="_save"' not in page


def test_no_one_may_add_change_or_delete_a_call_not_even_a_superuser(
    superuser_client, recorded_calls
):
    pk = recorded_calls[0].pk

    assert superuser_client.get(f"{CALLS}add/").status_code == 403
    assert superuser_client.post(f"{CALLS}add/", {}).status_code == 403
    assert superuser_client.post(f"{CALLS}{pk}/change/", {"code": "x"}).status_code == 403
    assert superuser_client.get(f"{CALLS}{pk}/delete/").status_code == 403
    assert superuser_client.post(f"{CALLS}{pk}/delete/", {"post": "yes"}).status_code == 403
    assert PlatformCall.objects.count() == 3
    assert PlatformCall.objects.get(pk=pk).code == "1001"


def test_call_list_is_refused_without_the_view_permission(staff_client, recorded_calls):
    assert staff_client("orders.view_payorder").get(CALLS).status_code == 403
