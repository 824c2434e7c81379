"""403, 404, the CSRF refusal and 500 in the admin's look, Chinese by default, with a way back;
the API keeps its JSON errors."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from parkingops.roles import FINANCE

WHITELIST_ADD = "/admin/whitelist/whitelistentry/add/"
SITE_NAME_ZH = "ParkingOps 停车支付后台"


@pytest.fixture(autouse=True)
def production_errors(settings):
    """Error pages as in production, not Django's technical pages."""
    settings.DEBUG = False


@pytest.fixture
def finance_clerk(db, client) -> Client:
    """A logged-in client of a finance clerk, who may not change the whitelist."""
    call_command("setup_roles", stdout=StringIO())
    user = User.objects.create_user(username="clerk", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=FINANCE))
    client.force_login(user)
    return client


def assert_admin_frame(html: str) -> None:
    """The admin's header with the user's links, and the ways back."""
    assert 'id="site-name"' in html
    assert 'id="user-tools"' in html
    assert 'href="/admin/"' in html
    assert "history.back()" in html


def test_a_page_the_clerks_role_does_not_allow_is_a_chinese_403_in_the_admin(finance_clerk):
    response = finance_clerk.get(WHITELIST_ADD)

    assert response.status_code == 403
    html = response.content.decode()
    assert_admin_frame(html)
    assert SITE_NAME_ZH in html
    assert "您没有权限查看此页面。" in html
    assert "请联系系统管理员" in html
    assert "返回后台首页" in html
    assert "返回上一页" in html


@pytest.mark.parametrize(
    "language",
    [{"cookie": "en"}, {"headers": {"Accept-Language": "en"}}],
    ids=["switch", "browser"],
)
def test_the_403_speaks_english_to_a_user_who_chose_english(finance_clerk, language):
    if "cookie" in language:
        finance_clerk.cookies["django_language"] = language["cookie"]
    response = finance_clerk.get(WHITELIST_ADD, headers=language.get("headers", {}))

    assert response.status_code == 403
    html = response.content.decode()
    assert_admin_frame(html)
    assert "You do not have permission to see this page." in html
    assert "Back to the admin home" in html
    assert "您没有权限" not in html


@pytest.mark.parametrize(
    "path", ["/admin/no-such-page/", "/nowhere/", "/admin/<script>alert(1)</script>/"]
)
def test_an_unknown_address_is_a_styled_404(finance_clerk, path):
    response = finance_clerk.get(path)

    assert response.status_code == 404
    html = response.content.decode()
    assert_admin_frame(html)
    assert "页面不存在。" in html
    assert "<script>alert" not in html


def test_a_404_for_someone_not_logged_in_has_the_header_without_user_links(db, client):
    response = client.get("/nowhere/")

    assert response.status_code == 404
    html = response.content.decode()
    assert SITE_NAME_ZH in html
    assert 'id="user-tools"' not in html
    assert 'href="/admin/"' in html


def test_a_form_refused_by_the_csrf_check_is_a_styled_403(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/admin/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    html = response.content.decode()
    assert SITE_NAME_ZH in html
    assert "表单未能提交" in html
    assert "请返回并刷新页面后重新提交。" in html
    assert 'href="/admin/"' in html


# No database for these: a 500 may come from the database itself, so the page must not need it
# (pytest-django fails any query of a test without the db mark).
@pytest.fixture
def failing_site(settings, client) -> Client:
    settings.ROOT_URLCONF = "parkingops.tests.error_urls"
    client.raise_request_exception = False
    return client


def test_a_server_error_is_a_standalone_chinese_page_that_needs_no_database(failing_site):
    response = failing_site.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器出错，已记录" in html
    assert SITE_NAME_ZH in html
    assert "admin/css/base.css" in html
    assert "parkingops/admin.css" in html
    assert 'href="/admin/"' in html
    assert "history.back()" in html
    assert 'id="user-tools"' not in html


def test_a_server_error_speaks_english_to_an_english_browser(failing_site):
    response = failing_site.get("/broken/", headers={"Accept-Language": "en"})

    assert response.status_code == 500
    assert "The error has been logged" in response.content.decode()


def test_the_api_keeps_its_json_errors(failing_site):
    unknown = failing_site.get("/api/v1/no-such-thing/")
    missing = failing_site.get("/api/v1/missing/")
    broken = failing_site.get("/api/v1/broken/")

    for response, status, code in [
        (unknown, 404, "not_found"),
        (missing, 404, "not_found"),
        (broken, 500, "server_error"),
    ]:
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) | {"detail": ""} == {
            "code": code,
            "detail": "",
            "fields": {},
        }
