"""Production settings: `check --deploy` passes, and bad settings fail loudly at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "parkingops.settings",
    "DEBUG": "0",
    "SECRET_KEY": "x7#kq2-production-like-secret-key-with-enough-entropy-9f3a1c",
    "ALLOWED_HOSTS": "parkingops.example.com",
    "PLATFORM_APP_ID": "op00961963581daa7",
    "PLATFORM_APP_SECRET": "not-the-real-one",
    # Several workers and hosts share the throttles' counts (no connection is made by a check).
    "CACHE_URL": "redis://cache.internal:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_https_is_switched_off():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="0")

    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("cache_url", "check_id"),
    [("locmemcache://", "parkingops.W001"), ("dummycache://", "parkingops.W002")],
)
def test_check_deploy_warns_when_the_cache_is_not_shared_between_processes(cache_url, check_id):
    result = manage("check", "--deploy", "--fail-level", "WARNING", CACHE_URL=cache_url)

    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert check_id in output
    assert "CACHE_URL" in output and "redis://" in output


@pytest.mark.parametrize(
    "env",
    [
        {"API_SYNC_SETTLE_SECONDS": "30"},
        {"API_SYNC_SETTLE_SECONDS": "300", "DATABASE_STATEMENT_TIMEOUT": "600"},
        {"DATABASE_STATEMENT_TIMEOUT": "0"},
    ],
)
def test_check_deploy_warns_when_the_sync_window_does_not_outlast_the_statement_limit(env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "parkingops.W003" in output and "API_SYNC_SETTLE_SECONDS" in output


def test_the_cache_check_stays_quiet_while_developing():
    result = manage("check", "--deploy", DEBUG="1", CACHE_URL="locmemcache://")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "parkingops.W00" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", ""),
        ("PUSH_ALLOWED_IPS", "10.0.0.0/33"),
        ("PUSH_REFUSAL_RATE", "lots"),
        ("DEBUG", "maybe"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(name, value):
    result = manage("check", **{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
