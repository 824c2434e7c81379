"""``manage.py reconcile``: every known park or one, its arguments, failures."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.reconciliation.models import ReconciliationRun
from orders.tests.reconciliation.conftest import (
    DAY,
)
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db


# --- The command -------------------------------------------------------------------------------


def test_command_reconciles_every_known_park(capsys, park, pay, whitelisted_plate):
    ParkFactory(park_uuid="park-west", name="西门停车场")
    pay("NEVER-PUSHED")
    pay("WEST-1", park_uuid="park-west", plate="川B12345", pay_value=500)

    call_command("reconcile", "--date", "2026-11-01")

    out = capsys.readouterr().out
    assert "2026-11-01 东门停车场 (park-east): platform 1 (¥10.00)" in out
    assert "missing here 1" in out
    assert "2026-11-01 西门停车场 (park-west)" in out
    assert "not whitelisted 1 (¥5.00)" in out
    assert ReconciliationRun.objects.filter(date=DAY).count() == 2


def test_command_with_park_reconciles_only_that_park(capsys, park, pay):
    ParkFactory(park_uuid="park-west")
    pay("EAST-1")

    call_command("reconcile", "--date", "2026-11-01", "--park", "park-east", "--page-size", "1")

    assert list(ReconciliationRun.objects.values_list("park__park_uuid", flat=True)) == [
        "park-east"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # The message is in the active language (Chinese by default); both name the format.
        (["--date", "2026-13-01"], "“2026-13-01”"),
        (["--date", "01/11/2026"], "YYYY-MM-DD"),
        (["--date", "2026-11-01", "--park", "nowhere"], "No park has the uuid 'nowhere'"),
        (["--date", "2099-01-01"], "has not begun yet in China time"),
        (["--date", "2999-01-01"], "2000-01-01 至 2099-12-31"),
    ],
)
def test_command_refuses_bad_arguments_clearly(park, fake_platform, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("reconcile", *arguments)
    assert not ReconciliationRun.objects.exists()
    assert not fake_platform.calls


def test_command_exits_non_zero_when_a_park_fails(capsys, fake_platform, park):
    fake_platform.fail_next("401")

    with pytest.raises(CommandError, match="1 of 1 parks failed"):
        call_command("reconcile", "--date", "2026-11-01")

    assert "failed: 应用未登记或签名错误（simulated failure 401）" in capsys.readouterr().err
    assert ReconciliationRun.objects.get().status == ReconciliationRun.Status.FAILED


def test_command_without_a_platform_base_url_says_so(settings, park):
    settings.PLATFORM_API_BASE = ""

    with pytest.raises(CommandError, match="PLATFORM_API_BASE is not set"):
        call_command("reconcile", "--date", "2026-11-01")
