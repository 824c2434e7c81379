"""The record of calls to the platform (``PlatformCall``): written by a real call through the
client against the fake platform, never holding the secret or the signature, and shown
read-only in the admin."""

import importlib
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


# --- The platform's answers in words, and the plate ------------------------------------------


def test_a_whitelist_call_records_its_plate_and_other_calls_none(recorded_calls):
    assert [call.plate for call in recorded_calls] == ["川A660P1", "川B12345", ""]


def test_call_list_shows_each_answer_in_chinese_and_the_plate(staff_client, recorded_calls):
    client = staff_client("parkingops.view_platformcall", language="zh-hans")

    response = client.get(CALLS)
    page = response.content.decode()

    assert "平台应答" in page
    assert ">成功</span>" in page  # 1001 "success"
    assert ">应用未登记或签名错误（simulated failure 401）</span>" in page
    assert ">无数据</span>" in page  # 1002 "no data"
    assert 'title="1001: success"' in page  # the answer as sent, for whoever needs it
    assert "川B12345" in page
    # The answer filter names the codes by their meaning too.
    filters = {
        str(label)
        for spec in response.context["cl"].filter_specs
        for _value, label in getattr(spec, "lookup_choices", [])
    }
    assert {"成功", "无数据", "应用未登记或签名错误"} <= filters


def test_call_page_shows_the_answer_in_chinese_beside_the_code_as_sent(
    staff_client, recorded_calls
):
    client = staff_client("parkingops.view_platformcall", language="zh-hans")

    page = client.get(f"{CALLS}{recorded_calls[1].pk}/change/").content.decode()

    assert "应用未登记或签名错误（simulated failure 401）" in page
    assert "原始代码" in page and "401" in page


@pytest.mark.parametrize("typed", ["川b 12345", "川B12345", " 川b·12345 "])
def test_calls_are_found_by_plate_in_any_spelling(staff_client, recorded_calls, typed):
    client = staff_client("parkingops.view_platformcall", language="zh-hans")

    response = client.get(CALLS, {"q": typed})

    assert list(response.context["cl"].result_list) == [recorded_calls[1]]


@pytest.mark.parametrize("typed", ["", "   ", "x" * 5000, "%", "川", "\u200b"])
def test_an_odd_plate_search_finds_nothing_or_everything_never_an_error(
    staff_client, recorded_calls, typed
):
    client = staff_client("parkingops.view_platformcall", language="zh-hans")

    response = client.get(CALLS, {"q": typed})

    assert response.status_code == 200
    found = list(response.context["cl"].result_list)
    # Nothing left of the term to look for: every call.
    assert found == ([] if typed.strip(" \u200b") else recorded_calls[::-1])


def test_a_nul_in_the_plate_search_leads_back_to_the_whole_list(staff_client, recorded_calls):
    client = staff_client("parkingops.view_platformcall", language="zh-hans")

    response = client.get(CALLS, {"q": "川\x00"}, follow=True)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3


def test_the_migration_gives_the_calls_recorded_before_it_their_plate():
    from django.apps import apps

    copy_plates = importlib.import_module(
        "parkingops.migrations.0004_platformcall_plate"
    ).copy_plates
    whitelist = "gate/1.0/parking/whitelist"
    calls = [
        PlatformCall.objects.create(
            method="POST", endpoint=whitelist, params={"plate": "川A660P1"}, code="1001"
        ),
        PlatformCall.objects.create(method="POST", endpoint=whitelist, params={}, code="1001"),
        PlatformCall.objects.create(method="POST", endpoint=whitelist, params=["odd"], code="1001"),
        PlatformCall.objects.create(
            method="GET",
            endpoint="gate/1.0/parking/payment/list",
            params={"plate": "x"},
            code="1002",
        ),
    ]

    copy_plates(apps, None)

    assert [PlatformCall.objects.get(pk=call.pk).plate for call in calls] == [
        "川A660P1",
        "",
        "",
        "",
    ]
