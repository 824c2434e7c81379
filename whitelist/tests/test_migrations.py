"""Whitelist rows stored before the span and the identity were enforced migrate into them.

Rows are written with raw SQL at the state before (``0004_park``), as an old version or a
hand-made fix could have left them: a start in year 1 (1 BC once PostgreSQL stores it in UTC),
an end in year 9999, a window wholly before 2000, a start after 2099, and entries sharing their
identity. After ``migrate`` the whitelist's pages answer, every window is in the span, and one
entry per identity is left, the orders that named the others pointing at it.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from parkingops.roles import FINANCE
from parkingops.timerange import EARLIEST, LATEST
from whitelist.models import IDENTITY, WhitelistEntry
from whitelist.services import upsert
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.test_api import LIST, key_client, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("whitelist", "0004_park")
NOW = "2026-12-01 00:00:00"


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _stored(text: str, offset: str = "+00") -> str:
    """Return ``text`` as the database keeps it: PostgreSQL reads the offset, SQLite keeps
    the UTC text as it is (so year 1 China time, 1 BC in UTC, has no SQLite spelling)."""
    return text + offset if connection.vendor == "postgresql" else text


def _insert(table: str, **values) -> None:
    columns = ", ".join(connection.ops.quote_name(name) for name in values)
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (our names)
            list(values.values()),
        )


def _entry(plate: str, valid_from: str, valid_until: str | None = None, **fields) -> int:
    """Insert an entry with raw SQL (no value passes through Python's datetime); return its id."""
    values = {"park_uuid": "", "is_active": True, "holder": "", "note": "", **fields}
    _insert(
        "whitelist_whitelistentry",
        plate=plate,
        valid_from=valid_from,
        valid_until=valid_until,
        created_at=_stored(NOW),
        updated_at=values.pop("updated_at", _stored(NOW)),
        **values,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM whitelist_whitelistentry")
        return cursor.fetchone()[0]


def test_out_of_range_windows_and_duplicates_migrate_into_the_span_and_the_pages_answer():
    old = _migrate([(app, name) for app, name in _latest() if app != "whitelist"] + [BEFORE])
    year_one = _entry(
        "川A00001",
        "0001-01-01 00:00:00+08" if connection.vendor == "postgresql" else "0001-01-01 00:00:00",
    )
    _insert(
        "whitelist_historicalwhitelistentry",
        id=year_one,
        plate="川A00001",
        park_uuid="",
        valid_from=_stored("0001-01-01 00:00:00", "+08"),
        valid_until=_stored("9999-12-31 23:59:59"),
        is_active=True,
        holder="",
        note="",
        created_at=_stored(NOW),
        history_date=_stored(NOW),
        history_type="+",
    )
    year_9999 = _entry("川A00002", _stored("2020-01-01 00:00:00"), _stored("9999-12-31 23:59:59"))
    before_2000 = _entry("川A00003", _stored("1990-01-01 00:00:00"), _stored("1995-01-01 00:00:00"))
    after_2099 = _entry("川A00004", _stored("2150-06-01 00:00:00"))
    older, newest, oldest = (
        _entry(
            "川A00005",
            _stored("2024-01-01 00:00:00"),
            park_uuid="P1",
            holder=holder,
            updated_at=_stored(f"2026-0{month}-01 00:00:00"),
        )
        for holder, month in (("乙", 2), ("丙", 3), ("甲", 1))
    )
    park = old.get_model("whitelist", "Park").objects.create(park_uuid="P1", name="一号停车场")
    order = old.get_model("orders", "PayOrder").objects.create(
        pay_serial="2026120500000000000000001",
        parking_serial="590000000000000001",
        park=park,
        plate="川A00005",
        plate_raw="川A00005",
        pay_value=1500,
        pay_time=datetime(2026, 12, 5, 8, tzinfo=UTC),
        channel="200102",
        app_id="op00961963581daa7",
        fingerprint="0" * 64,
        whitelist_entry_id=older,
    )
    # Two starts before 2000 that become the same start: merged as well.
    _entry("川A00006", _stored("0500-01-01 00:00:00"), updated_at=_stored("2026-01-01 00:00:00"))
    clamped_later = _entry("川A00006", _stored("1000-01-01 00:00:00"))

    new = _migrate(_latest())

    windows = {e.pk: (e.valid_from, e.valid_until) for e in WhitelistEntry.objects.all()}
    assert windows == {
        year_one: (EARLIEST, None),
        year_9999: (datetime(2020, 1, 1, tzinfo=UTC), None),
        before_2000: (EARLIEST, EARLIEST + timedelta(minutes=1)),
        after_2099: (LATEST, None),
        newest: (datetime(2024, 1, 1, tzinfo=UTC), None),
        clamped_later: (EARLIEST, None),
    }
    assert WhitelistEntry.objects.get(pk=newest).holder == "丙"
    assert oldest not in windows
    assert new.get_model("orders", "PayOrder").objects.get(pk=order.pk).whitelist_entry_id == newest
    assert IDENTITY == upsert.IDENTITY

    admin = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    pages = [CHANGELIST, f"{CHANGELIST}?status=active", f"{CHANGELIST}?status=expired"]
    pages += [f"{CHANGELIST}{pk}/change/" for pk in windows]
    history = WhitelistEntry.history.filter(id=year_one).get()
    pages += [f"{CHANGELIST}{year_one}/history/", f"{CHANGELIST}{year_one}/history/{history.pk}/"]
    for page in pages:
        assert admin.get(page).status_code == 200, page
    api = key_client(make_user(FINANCE)).get(LIST)
    assert api.status_code == 200
    assert len(api.json()["results"]) == len(windows)
