"""The database's time limits (``parkingops.db_timeouts``): a database that hangs answers the
push 1503, ``/healthz`` and the API 503 within seconds, and a statement over the limit is
cancelled except in the heavy reads."""

import time

import pytest
from django.conf import settings
from django.db import DataError, OperationalError, connection, connections, transaction

from conftest import answer
from parkingops import api_keys
from parkingops.db_routers import heavy_reads
from parkingops.db_timeouts import with_timeouts
from parkingops.tests.database import database_url, default_database, silent_server

# psycopg's smallest connect timeout; the deployment's default (DATABASE_CONNECT_TIMEOUT) is 5.
CONNECT = 2
POSTGRESQL = "postgres://parkingops@127.0.0.1:{port}/parkingops"
ONLY_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no statement time limit"
)


def hanging(port: int) -> dict:
    return with_timeouts(database_url(POSTGRESQL.format(port=port)), connect=CONNECT, statement=30)


# --- The options -----------------------------------------------------------------------------


def test_postgresql_connections_get_connect_network_and_statement_limits():
    config = with_timeouts(database_url(POSTGRESQL.format(port=5432)), connect=5, statement=30)

    assert config["OPTIONS"] == {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": 10_000,
        "options": "-c statement_timeout=30000",
    }


def test_limits_given_in_the_url_are_kept_and_a_statement_limit_of_zero_is_none():
    url = POSTGRESQL.format(port=5432) + "?connect_timeout=9&options=-c%20search_path%3Dx"
    config = with_timeouts(database_url(url), connect=5, statement=0)

    assert config["OPTIONS"]["connect_timeout"] == 9
    assert config["OPTIONS"]["options"] == "-c search_path=x"
    added = with_timeouts(database_url(url), connect=5, statement=2)
    assert added["OPTIONS"]["options"] == "-c search_path=x -c statement_timeout=2000"


def test_sqlite_is_left_alone():
    config = database_url("sqlite:////tmp/x.sqlite3")

    assert with_timeouts(config, connect=5, statement=30) == config


def test_the_settings_apply_the_limits_to_the_project_database():
    options = settings.DATABASES["default"].get("OPTIONS", {})

    if connection.vendor == "postgresql":
        assert options["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT == 5
        assert "statement_timeout=30000" in options["options"]
    else:
        assert "connect_timeout" not in options


# --- A database that accepts connections and never answers -----------------------------------


def test_healthz_answers_503_within_seconds_when_the_database_never_answers(client, db):
    with silent_server() as port, default_database(hanging(port)):
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}
    assert elapsed < CONNECT + 3


def test_a_push_is_answered_1503_within_seconds_when_the_database_never_answers(push, db):
    with silent_server() as port, default_database(hanging(port)):
        started = time.monotonic()
        response = push()
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert answer(response)["code"] == "1503"
    # Two attempts: the order, then its log row.
    assert elapsed < 2 * CONNECT + 3


def test_the_api_answers_json_503_within_seconds_when_the_database_never_answers(client, db):
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("bi", "bi@example.com", "x")
    key = api_keys.create_api_key(user=user, name="BI").key
    with silent_server() as port, default_database(hanging(port)):
        started = time.monotonic()
        response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Api-Key {key}")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "unavailable"
    assert response["Retry-After"].isdigit()
    assert elapsed < CONNECT + 3


# --- The statement limit ---------------------------------------------------------------------


@ONLY_POSTGRESQL
def test_the_project_connection_has_the_statement_limit(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"


@ONLY_POSTGRESQL
def test_a_statement_over_the_limit_is_cancelled_but_not_in_heavy_reads(db):
    own = {key: value for key, value in connection.settings_dict.items() if key != "OPTIONS"}
    with default_database(with_timeouts(own, connect=5, statement=1)):
        test_connection = connections["default"]
        with pytest.raises(OperationalError, match="statement timeout"):
            with test_connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(1.5)")

        with heavy_reads(), heavy_reads(), test_connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1.5)")  # an export may take its time
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"

        with test_connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1s"


@ONLY_POSTGRESQL
def test_a_heavy_read_that_fails_inside_a_transaction_leaves_the_limit_in_place(db):
    own = {key: value for key, value in connection.settings_dict.items() if key != "OPTIONS"}
    with default_database(with_timeouts(own, connect=5, statement=1)):
        test_connection = connections["default"]
        with pytest.raises(DataError), transaction.atomic(), heavy_reads():
            with test_connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")

        with test_connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1s"


def test_migrate_is_the_project_command_that_lifts_the_statement_limit():
    from django.core.management import get_commands, load_command_class

    from parkingops.management.commands import migrate

    command = load_command_class(get_commands()["migrate"], "migrate")

    assert isinstance(command, migrate.Command)
