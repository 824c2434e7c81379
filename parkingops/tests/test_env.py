"""parkingops.env: settings read from the environment, refused loudly when wrong."""

from ipaddress import ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured

from parkingops.env import (
    env_bool,
    env_cache,
    env_database,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_secret,
    env_str,
)

NAME = "PARKINGOPS_TEST_SETTING"


@pytest.fixture
def setenv(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)

    def set_(value: str, name: str = NAME) -> None:
        monkeypatch.setenv(name, value)

    return set_


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("yes", True), (" TRUE ", True), ("0", False), ("off", False), ("", None)],
)
def test_env_bool_reads_yes_and_no_and_blank_is_the_default(setenv, raw, expected):
    setenv(raw)

    assert env_bool(NAME, default=None) is expected


def test_env_bool_refuses_anything_else_naming_the_variable(setenv):
    setenv("maybe")

    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be a boolean"):
        env_bool(NAME, default=False)


def test_env_int_reads_an_integer_or_the_default(setenv):
    assert env_int(NAME, 7) == 7
    setenv("42")
    assert env_int(NAME, 7) == 42


@pytest.mark.parametrize(("raw", "message"), [("ten", "must be an integer"), ("0", "must be ≥ 1")])
def test_env_int_refuses_text_and_values_below_the_minimum(setenv, raw, message):
    setenv(raw)

    with pytest.raises(ImproperlyConfigured, match=f"{NAME} {message}"):
        env_int(NAME, 7, minimum=1)


def test_env_str_with_choices_refuses_another_value(setenv):
    setenv("LOUD")

    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be one of INFO, DEBUG"):
        env_str(NAME, "INFO", choices=("INFO", "DEBUG"))


def test_env_list_splits_on_commas_and_drops_blanks(setenv):
    assert env_list(NAME, default=["a"]) == ["a"]
    setenv(" a, b ,,c ")
    assert env_list(NAME) == ["a", "b", "c"]


def test_a_secret_may_come_from_a_file(setenv, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n", encoding="utf-8")
    setenv(str(secret), f"{NAME}_FILE")

    assert env_secret(NAME) == "s3cret"
    assert env_list(NAME, secret=True) == ["s3cret"]


def test_a_secret_given_twice_or_from_a_missing_file_is_refused(setenv, tmp_path):
    setenv(str(tmp_path / "missing"), f"{NAME}_FILE")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME}_FILE: cannot read"):
        env_secret(NAME)

    setenv("inline")
    with pytest.raises(ImproperlyConfigured, match=f"Set {NAME} or {NAME}_FILE, not both"):
        env_secret(NAME)


def test_env_rate_reads_a_throttle_rate_and_refuses_a_bad_one(setenv):
    assert env_rate(NAME, "600/min") == "600/min"
    setenv("10 per second")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must be requests per period"):
        env_rate(NAME, "600/min")


def test_env_networks_reads_addresses_and_networks_and_refuses_a_bad_one(setenv):
    setenv("10.0.0.0/8, 192.168.1.1")
    assert env_networks(NAME) == [ip_network("10.0.0.0/8"), ip_network("192.168.1.1/32")]
    setenv("10.0.0.0/8, not-an-ip")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must list IP addresses"):
        env_networks(NAME)


def test_env_database_reads_a_url_and_refuses_an_unknown_scheme(setenv):
    assert env_database(NAME) is None
    setenv("postgres://app:pw@db.internal:5433/parkingops")
    config = env_database(NAME)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "parkingops")
    setenv("oracle-ish://user:secret@x")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME} names an unknown database") as error:
        env_database(NAME)
    assert "secret" not in str(error.value)


def test_env_cache_defaults_to_local_memory(setenv):
    assert env_cache(NAME, "locmemcache://") == {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
    }


def test_env_cache_reads_a_redis_url_for_djangos_own_redis_backend(setenv):
    setenv("redis://:pw@cache.internal:6379/2")

    assert env_cache(NAME, "locmemcache://") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://:pw@cache.internal:6379/2",
        # A Redis that hangs must not hang the requests that count their rate.
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    }


def test_env_cache_reads_a_file_cache_path(setenv, tmp_path):
    setenv(f"filecache://{tmp_path}")

    assert env_cache(NAME, "locmemcache://")["LOCATION"] == str(tmp_path)


def test_env_cache_refuses_an_unknown_scheme_without_echoing_the_url(setenv):
    setenv("memcache://user:secret@host")

    with pytest.raises(ImproperlyConfigured, match=f"{NAME} must start with one of") as error:
        env_cache(NAME, "locmemcache://")
    assert "secret" not in str(error.value)


def test_the_settings_cache_is_django_redis_cache_for_a_redis_url(setenv):
    from django.core.cache.backends.redis import RedisCache

    setenv("redis://127.0.0.1:6379/0")
    config = env_cache(NAME, "locmemcache://")
    cache = RedisCache(config["LOCATION"], {})  # no connection is made until used

    assert cache._servers == ["redis://127.0.0.1:6379/0"]
