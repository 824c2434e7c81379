"""manage.py check_health: one line per condition, exit 1 when one fires, --quiet, --mail."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from orders.tests.monitoring.conftest import logged, usual_pushes

pytestmark = pytest.mark.django_db

CODES = [
    "push_stream_stopped",
    "refusals_spiking",
    "sync_failing",
    "reconciliation_missing",
    "reconciliation_differences",
    "jobs_stuck",
]


def check(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("check_health", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


@pytest.fixture
def stopped_stream():
    """Pushes came in at this time on each of the last 7 days; today's stopped 2 hours ago."""
    now = timezone.now()
    usual_pushes(now)
    logged(now - timedelta(hours=2))


def test_a_healthy_state_prints_every_condition_ok_and_exits_0(settings):
    settings.ADMINS = [("ops", "ops@example.com")]
    now = timezone.now()
    usual_pushes(now)
    logged(now - timedelta(minutes=3))

    output, error = check("--mail")

    assert error is None
    lines = output.splitlines()
    assert [line.split()[:2] for line in lines] == [["OK", code] for code in CODES]
    assert mail.outbox == []


def test_a_stopped_push_stream_exits_1_naming_it(stopped_stream):
    output, error = check()

    assert error is not None and error.returncode == 1
    assert "push_stream_stopped" in str(error)
    firing = [line.split()[1] for line in output.splitlines() if line.startswith("FIRING")]
    assert firing == ["push_stream_stopped"]


def test_quiet_prints_only_what_fires(stopped_stream):
    output, error = check("--quiet")

    assert error is not None
    assert [line.split()[:2] for line in output.splitlines()] == [["FIRING", "push_stream_stopped"]]


def test_quiet_prints_nothing_when_healthy():
    output, error = check("--quiet")

    assert (output, error) == ("", None)


def test_mail_sends_one_mail_to_the_admins_when_a_condition_fires(stopped_stream, settings):
    settings.ADMINS = [("ops", "ops@example.com")]

    _output, error = check("--mail")

    assert error is not None and error.returncode == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com"]
    assert "push_stream_stopped" in message.subject
    assert "push_stream_stopped" in message.body


def test_mail_without_admins_says_so_and_still_exits_1(stopped_stream, settings):
    settings.ADMINS = []
    err = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("check_health", "--mail", stdout=StringIO(), stderr=err)

    assert raised.value.returncode == 1
    assert mail.outbox == []
    assert "ADMINS" in err.getvalue()


def test_an_unreadable_database_exits_2(monkeypatch):
    from orders.monitoring import readings

    def fail(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(readings, "read", fail)

    _output, error = check()

    assert error is not None and error.returncode == 2


def test_a_mail_server_that_cannot_be_reached_is_reported_and_still_exits_1(
    stopped_stream, settings
):
    settings.ADMINS = [("ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    err = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("check_health", "--mail", stdout=StringIO(), stderr=err)

    assert raised.value.returncode == 1
    assert err.getvalue().strip()
