"""Every admin list, export and report answers any query string sanely (``parkingops.adminquery``).

The property tests discover every registered changelist and every extra admin page without a
path parameter (the exports, the reconciliation's run page, the whitelist's import), add the
reports (the daily summary, the statements per holder, their exports), and request each with
query strings built by hypothesis — known parameter names and lookups, unknown names, NUL, huge
numbers, calendar ends, regex metacharacters, unicode, repeats — as a superuser and as each role.
The answer is always 200, 302, 400 or 403, never a 500; a 200 file is whole. The 500s were real
on PostgreSQL (NUL, an invalid regular expression): run this module there too.
"""

import csv
import io
import itertools
from datetime import UTC, datetime
from urllib.parse import quote, quote_from_bytes

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from orders.models import PushLog, ReconciliationItem, ReconciliationRun
from orders.tests.factories import (
    DiscountFactory,
    MerchantCouponFactory,
    PayOrderFactory,
    RenewalFactory,
    StayFactory,
)
from parkingops.adminquery import QueryStringMixin, offered_parameters
from parkingops.pcloud.models import PlatformCall
from parkingops.roles import ROLES, apply_roles
from whitelist.models import PlateSync
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

ANSWERS = {200, 302, 400, 403}
# What every changelist reads besides its filters: Django's own parameters, and a few a probe
# tries (the primary key, an unknown name, the parameter Django adds to change pages' links).
CHANGELIST_PARAMETERS = ("q", "o", "p", "all", "e", "_facets", "_popup", "_to_field")
PROBED_NAMES = ("pk", "id", "foo", "_changelist_filters", "车牌", "\x00", "")
LOOKUPS = ("regex", "iregex", "in", "gte", "lt", "isnull", "exact", "contains", "year")
SUMMARY_PARAMETERS = ("from", "to", "park", "view")
STATEMENT_PARAMETERS = ("month", "from", "to", "holder", "plate")

# The values that broke pages (NUL on PostgreSQL, regex syntax, overflow, calendar ends).
SHARPEST_VALUES = ("\x00", "a\x00", "(", "9" * 30, "9999-12-31", "abc")
HOSTILE_VALUES = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "(",
    "[",
    "*",
    "\\",
    "%",
    "_",
    "'",
    '"',
    "1 OR 1=1",
    "-1",
    "0",
    "1",
    "2",
    "1.5",
    "-",
    "0.1.2",
    "--1",
    "9" * 30,
    str(2**63),
    str(-(2**63) - 1),
    "1e308",
    "NaN",
    "0001-01-01",
    "1999-12-31",
    "2000-01-01",
    "2026-02-30",
    "2026-11-01",
    "2099-12-31",
    "2100-01-01",
    "9999-12-31",
    "0000-00-00",
    "川A660P1",
    "🚗",
    "\u202e",
    "ｆｕｌｌ",
    "active",
    "synced",
    "true",
    "None",
    "-",
)


# --- Discovery -------------------------------------------------------------------------------


def _extra_admin_pages() -> list[tuple[str, admin.ModelAdmin]]:
    """Return (URL, admin) for every extra page an admin routes without a path parameter."""
    pages = []
    for model_admin in admin.site._registry.values():
        info = model_admin.opts.app_label, model_admin.opts.model_name
        standard = {f"{info[0]}_{info[1]}_{view}" for view in ("changelist", "add")}
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or pattern.pattern.regex.groups:
                continue
            if pattern.name and pattern.name not in standard:
                pages.append((reverse(f"admin:{pattern.name}"), model_admin))
    return pages


def _changelists() -> list[tuple[str, admin.ModelAdmin]]:
    return [
        (reverse(f"admin:{ma.opts.app_label}_{ma.opts.model_name}_changelist"), ma)
        for ma in admin.site._registry.values()
    ]


# The reports are no model's admin: the parameters each takes instead.
REPORTS = {
    "orders_daily_summary": SUMMARY_PARAMETERS,
    "orders_daily_summary_export": SUMMARY_PARAMETERS,
    "orders_daily_summary_export_xlsx": SUMMARY_PARAMETERS,
    "orders_statement": STATEMENT_PARAMETERS,
    "orders_statement_export": STATEMENT_PARAMETERS,
}


def _pages() -> list[tuple[str, admin.ModelAdmin | tuple[str, ...]]]:
    reports = [(reverse(name), parameters) for name, parameters in REPORTS.items()]
    return [*_changelists(), *_extra_admin_pages(), *reports]


PAGES = _pages()


def _names(model_admin: admin.ModelAdmin | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Return the parameter names worth trying on a page of ``model_admin`` (a tuple: a
    report's parameters): the ones it offers, and the ones a probe tries (lookups on every
    field, unknown names)."""
    if isinstance(model_admin, tuple):
        return list(model_admin), list(PROBED_NAMES)
    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True)
    offered = sorted({*offered_parameters(model_admin, request), *CHANGELIST_PARAMETERS})
    fields = [field.name for field in model_admin.model._meta.concrete_fields]
    lookups = [f"{field}__{lookup}" for field in fields for lookup in LOOKUPS]
    return offered, sorted({*fields, *lookups, *PROBED_NAMES})


def _encode(text: str | bytes) -> str:
    return quote_from_bytes(text) if isinstance(text, bytes) else quote(text, safe="")


def query_strings(
    offered: list[str], probed: list[str], known_values: list[str]
) -> st.SearchStrategy[str]:
    """Query strings of 1–4 pairs (names may repeat), values hostile, real or arbitrary; some
    values are raw bytes that are not UTF-8. Half the names are ones the page offers."""
    name = st.one_of(
        st.sampled_from(offered), st.sampled_from(offered), st.sampled_from(probed), st.text()
    )
    value = st.one_of(
        st.sampled_from(SHARPEST_VALUES),
        st.sampled_from(HOSTILE_VALUES),
        st.sampled_from(known_values),
        st.text(max_size=12),
        st.integers().map(str),
        st.dates().map(lambda day: day.isoformat()),
        st.binary(max_size=4),
    )
    pairs = st.lists(st.tuples(name, value), min_size=1, max_size=4)
    return pairs.map(lambda items: "&".join(f"{_encode(n)}={_encode(v)}" for n, v in items))


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def rows(db) -> list[str]:
    """One of everything the lists show; return values a query string may name."""
    park = ParkFactory(park_uuid="park-east", name="东门停车场")
    entry = WhitelistEntryFactory(plate="川A660P1", park_uuid=park.park_uuid, holder="张三")
    order = PayOrderFactory(
        park=park, pay_time=datetime(2026, 11, 1, 2, tzinfo=UTC), whitelist_entry=entry
    )
    DiscountFactory(order=order)
    MerchantCouponFactory(order=order)
    StayFactory(park=park, parking_serial=order.parking_serial, left=True, needs_review=True)
    StayFactory(park=park)
    RenewalFactory(park=park, pay_time=datetime(2026, 11, 1, 3, tzinfo=UTC))
    PlateSync.objects.create(plate="川A660P1")
    PlatformCall.objects.create(method="POST", endpoint="/whitelist/add", code="0")
    PushLog.objects.create(
        code="1001", reason="accepted", pay_serial=order.pay_serial, plate="川A660P1", order=order
    )
    run = ReconciliationRun.objects.create(
        date=datetime(2026, 11, 1).date(), park=park, status=ReconciliationRun.Status.OK
    )
    ReconciliationItem.objects.create(
        run=run,
        category=ReconciliationItem.Category.MISSING_HERE,
        pay_serial="P-1",
        plate="川A660P1",
        platform_value=100,
    )
    return [
        park.park_uuid,
        str(order.pk),
        str(run.pk),
        order.pay_serial,
        "200102",
        *("2026-11", "张三", "川a 660p1", "pivot", "rows"),
    ]


@pytest.fixture
def clients(db) -> dict[str, Client]:
    """A logged-in client for the superuser and for each role."""
    apply_roles()
    users = {"superuser": User.objects.create_superuser("root-qs", "root@example.com", "x")}
    for number, role in enumerate(ROLES):
        user = User.objects.create_user(f"role-qs-{number}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    made = {}
    for name, user in users.items():
        made[name] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        made[name].force_login(user)
    return made


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _answers(client: Client, path: str) -> set[int]:
    """Return the statuses ``path`` may answer: a page that takes only POST (the import's
    second step) answers GET 405, whatever the query string."""
    plain = client.get(path)
    _body(plain)
    return ANSWERS | {405} if plain.status_code == 405 else ANSWERS


def check_answer(response, path: str, *, answers=ANSWERS) -> None:
    """The rules every answer keeps: a known status; a 302 stays in the admin; a 200 CSV is
    whole (every line ended, every row as wide as the header)."""
    body = _body(response)  # first: a stream left unread would hold its COPY open
    assert response.status_code in answers, (path, response.status_code)
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/"), response["Location"]
    if response.status_code == 200 and response["Content-Type"].startswith("text/csv"):
        text = body.decode("utf-8")
        assert text.startswith("\ufeff")
        assert text.endswith("\r\n")
        table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert table and all(len(row) == len(table[0]) for row in table)


# --- Properties ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "model_admin"), PAGES, ids=[path for path, _ in PAGES])
def test_every_admin_page_answers_any_query_string_without_a_500(path, model_admin, rows, clients):
    offered, probed = _names(model_admin)
    answers = _answers(clients["superuser"], path)

    # The clients and rows are made once for the test; hypothesis runs inside it, so no
    # fixture is shared between examples behind its back.
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        # No shrinking: a failing query string is short already, and shrinking one that breaks
        # a page on PostgreSQL runs into Hypothesis's five-minute limit.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(query=query_strings(offered, probed, rows), who=st.sampled_from(sorted(clients)))
    def check(query, who):
        # Each example in a savepoint: one that breaks PostgreSQL's transaction is reported
        # as itself, not as every example after it.
        with transaction.atomic():
            response = clients[who].get(f"{path}?{query}")
            check_answer(response, path, answers=answers)
            transaction.set_rollback(True)

    check()


@pytest.mark.parametrize(("path", "model_admin"), PAGES, ids=[path for path, _ in PAGES])
def test_every_parameter_a_page_offers_takes_the_sharpest_values(path, model_admin, rows, clients):
    """Each parameter alone with each value that broke a page: what sampling may miss."""
    offered, _probed = _names(model_admin)
    client = clients["superuser"]
    answers = _answers(client, path)
    for name, value in itertools.product(offered, SHARPEST_VALUES):
        response = client.get(f"{path}?{_encode(name)}={_encode(value)}")
        check_answer(response, path, answers=answers)


def test_every_registered_admin_checks_its_query_string():
    assert [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, QueryStringMixin)
    ] == []


@pytest.mark.parametrize(("path", "model_admin"), _changelists())
def test_every_list_filter_parameter_is_offered(path, model_admin, superuser_client, rows):
    """``lookup_allowed`` lets through every parameter the list's own filters expect."""
    request = RequestFactory().get(path)
    request.user = User.objects.get(username="root")
    changelist = model_admin.get_changelist_instance(request)
    expected = {name for spec in changelist.filter_specs for name in spec.expected_parameters()}

    assert expected <= offered_parameters(model_admin, request)


# --- The probe's URLs ------------------------------------------------------------------------

WHITELIST = "/admin/whitelist/whitelistentry/"


# The probe's URLs and the answers: 302 is back to the whole list (``?e=1``) with the reason as
# a message; 400 is an export or the summary saying why in its body (Chinese, as the clerk
# reads it), or Django's own 400 for an address back at ``?e=1`` that still cannot be used.
PROBED = [
    (f"{WHITELIST}export/?foo=1", 400, "地址中有此列表没有的筛选条件"),
    (f"{WHITELIST}?park=%00", 302, "空字符"),
    ("/admin/orders/summary/daily/?park=%00", 400, "空字符"),
    ("/admin/orders/summary/daily/export/?park=%00", 400, "空字符"),
    ("/admin/orders/summary/daily/?foo=1", 400, "“foo”不是此页面的参数"),
    ("/admin/orders/summary/daily/?view=x", 400, "“x”不是此页面的视图"),
    ("/admin/orders/statement/?month=0000-13", 400, "“0000-13”不是月份"),
    ("/admin/orders/statement/?from=0001-01-01&to=2026-11-30", 400, "超出范围"),
    ("/admin/orders/statement/?holder=nobody", 400, "没有持有人为“nobody”的白名单条目"),
    ("/admin/orders/statement/export/?holder=%00", 400, "空字符"),
    ("/admin/orders/payorder/?plate__regex=(", 302, "没有的筛选条件"),
    ("/admin/orders/pushlog/?plate__regex=(", 302, "没有的筛选条件"),
    ("/admin/orders/reconciliationitem/?plate__regex=(", 302, "没有的筛选条件"),
    (f"{WHITELIST}?plate__regex=(", 302, "没有的筛选条件"),
    ("/admin/whitelist/platesync/?plate__regex=(", 302, "没有的筛选条件"),
    ("/admin/orders/payorder/export/?plate__regex=(", 400, "没有的筛选条件"),
    ("/admin/orders/payorder/export/?q=%00", 400, "空字符"),
    ("/admin/orders/payorder/?pk=abc", 302, "没有的筛选条件"),
    ("/admin/orders/payorder/?pay_time__gte=notadate", 302, "没有的筛选条件"),
    ("/admin/orders/reconciliationitem/?run__id__exact=abc", 302, "无法使用的筛选条件"),
    ("/admin/orders/payorder/?pay_date_from=9999-12-31", 200, "超出范围"),
    ("/admin/orders/payorder/?o=9.-x.999&p=999", 200, None),
    ("/admin/orders/payorder/?e=1&q=%00", 400, None),
]


@pytest.mark.parametrize(("url", "status", "reason"), PROBED)
def test_the_probes_query_strings_are_refused_in_words(superuser_client, rows, url, status, reason):
    response = superuser_client.get(url)

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == f"{url.split('?')[0]}?e=1"
        response = superuser_client.get(response["Location"])
        assert response.status_code == 200
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    text = " ".join([_body(response).decode("utf-8"), *shown])
    if status == 302:
        assert any("已改为显示全部记录" in message for message in shown), shown
    if reason:
        assert reason in text


def test_a_filter_the_list_offers_still_filters(superuser_client, rows):
    """The check lets the lists' own parameters through: the reconciliation's link too."""
    run = ReconciliationRun.objects.get()
    response = superuser_client.get(
        "/admin/orders/reconciliationitem/", {"run__id__exact": run.pk, "category": "missing_here"}
    )
    assert response.status_code == 200
    assert "P-1" in response.content.decode()

    other = superuser_client.get(
        "/admin/orders/reconciliationitem/", {"run__id__exact": run.pk + 1}
    )
    assert other.status_code == 200
    assert "P-1" not in other.content.decode()


def test_a_whitelist_filter_value_that_is_no_choice_is_refused_with_a_message(
    superuser_client, rows
):
    listed = superuser_client.get(WHITELIST, {"status": "gone"})
    exported = superuser_client.get(f"{WHITELIST}export/", {"status": "gone"})

    assert listed.status_code == 200
    assert "川A660P1" not in listed.content.decode()
    assert any("有效选项" in str(m) for m in get_messages(listed.wsgi_request))
    assert exported.status_code == 400
    assert "gone" in exported.content.decode()


def test_the_order_export_with_a_nul_in_any_parameter_says_why(superuser_client, rows):
    for name in ("q", "park", "pay_date_from", "o"):
        response = superuser_client.get("/admin/orders/payorder/export/", {name: "a\x00"})
        assert response.status_code == 400
        assert "NUL" in response.content.decode()


def test_repeated_and_unicode_parameters_of_the_summary_are_read_or_refused(superuser_client, rows):
    repeated = superuser_client.get(
        "/admin/orders/summary/daily/?from=2026-11-01&from=2026-11-02&to=2026-11-03"
    )
    unicode = superuser_client.get("/admin/orders/summary/daily/", {"park": "🚗"})

    assert repeated.status_code == 200
    assert unicode.status_code == 400
    assert "🚗" in unicode.content.decode()


def test_the_discovery_finds_every_kind_of_page():
    """A guard on the property test's own discovery: every kind of page is in it, once."""
    paths = [path for path, _ in PAGES]
    for expected in (
        "/admin/orders/payorder/export/",
        "/admin/orders/payorder/export/xlsx/",
        f"{WHITELIST}export/",
        f"{WHITELIST}export/xlsx/",
        "/admin/orders/summary/daily/export/xlsx/",
        "/admin/orders/reconciliationrun/run/",
        "/admin/orders/summary/daily/export/",
        "/admin/orders/statement/",
        "/admin/orders/statement/export/",
        "/admin/auth/user/",
    ):
        assert expected in paths
    assert len(set(paths)) == len(paths)
