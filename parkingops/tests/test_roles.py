"""The staff groups from ``setup_roles``: their exact permissions, and what each may open."""

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission, User
from django.core.management import CommandError, call_command

from orders.models import Channel, PushLog
from orders.tests.factories import PayOrderFactory
from parkingops.roles import FINANCE, OPERATIONS, ROLES, MissingPermissions, apply_roles
from whitelist.models import WhitelistEntry

ORDER_LIST = "/admin/orders/payorder/"
ORDER_EXPORT = "/admin/orders/payorder/export/"
COUPON_LIST = "/admin/orders/merchantcoupon/"
COUPON_EXPORT = "/admin/orders/merchantcoupon/export/"
SUMMARY = "/admin/orders/summary/daily/"
SUMMARY_EXPORT = "/admin/orders/summary/daily/export/"
WHITELIST_LIST = "/admin/whitelist/whitelistentry/"
WHITELIST_ADD = "/admin/whitelist/whitelistentry/add/"
WHITELIST_IMPORT = "/admin/whitelist/whitelistentry/import/"
PUSHLOG_LIST = "/admin/orders/pushlog/"


def setup_roles() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def staff_in(db):
    """Return a factory: a logged-in client for a staff user in the named group."""
    setup_roles()

    def make(client, group: str) -> User:
        user = User.objects.create_user(username=f"user-{group}", password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return user

    return make


def test_setup_roles_gives_each_group_exactly_its_permissions(db):
    setup_roles()

    assert group_permissions(FINANCE) == ROLES[FINANCE]
    assert group_permissions(OPERATIONS) == ROLES[OPERATIONS]
    assert "orders.export_orders" in group_permissions(FINANCE)
    assert "orders.replay_pushlog" in group_permissions(OPERATIONS)
    assert "whitelist.add_whitelistentry" in group_permissions(OPERATIONS)


def test_view_personal_data_is_in_no_group(db):
    setup_roles()

    assert all("orders.view_personal_data" not in perms for perms in ROLES.values())
    assert not permission("orders.view_personal_data").group_set.exists()


def test_setup_roles_twice_changes_nothing_and_says_so(db):
    first = setup_roles()
    before = {name: group_permissions(name) for name in ROLES}

    second = setup_roles()

    assert f"{FINANCE}: created" in first
    assert "+ orders.export_orders" in first
    assert second.splitlines() == [f"{FINANCE}: unchanged", f"{OPERATIONS}: unchanged"]
    assert {name: group_permissions(name) for name in ROLES} == before
    assert Group.objects.filter(name__in=ROLES).count() == 2


def test_setup_roles_adds_missing_and_removes_unlisted_permissions(db):
    setup_roles()
    finance = Group.objects.get(name=FINANCE)
    finance.permissions.remove(permission("orders.export_orders"))
    finance.permissions.add(
        permission("orders.view_personal_data"), permission("whitelist.delete_whitelistentry")
    )

    output = setup_roles()

    assert group_permissions(FINANCE) == ROLES[FINANCE]
    assert f"{FINANCE}: + orders.export_orders" in output
    assert f"{FINANCE}: - orders.view_personal_data" in output
    assert f"{FINANCE}: - whitelist.delete_whitelistentry" in output
    assert f"{OPERATIONS}: unchanged" in output


def test_setup_roles_fails_naming_a_missing_permission_and_writes_nothing(db):
    permission("orders.replay_pushlog").delete()

    with pytest.raises(CommandError, match=r"orders\.replay_pushlog.*migrate"):
        setup_roles()

    assert not Group.objects.filter(name__in=ROLES).exists()


def test_apply_roles_lists_every_missing_permission(db):
    roles = {"test": frozenset({"orders.view_payorder", "orders.nope", "whitelist.nope_either"})}

    with pytest.raises(MissingPermissions) as raised:
        apply_roles(roles=roles)

    assert raised.value.missing == ["orders.nope", "whitelist.nope_either"]
    assert not Group.objects.filter(name="test").exists()


def replay(client, log: PushLog):
    return client.post(
        PUSHLOG_LIST, {"action": "replay_selected", ACTION_CHECKBOX_NAME: [log.pk]}, follow=True
    )


def test_finance_can_open_orders_coupons_summary_and_push_log(client, staff_in):
    staff_in(client, FINANCE)
    PayOrderFactory()

    for url in (ORDER_LIST, COUPON_LIST, SUMMARY, PUSHLOG_LIST, WHITELIST_LIST):
        assert client.get(url).status_code == 200, url


def test_finance_can_export_orders_coupons_and_the_summary(client, staff_in):
    staff_in(client, FINANCE)
    PayOrderFactory()

    for url in (ORDER_EXPORT, COUPON_EXPORT, SUMMARY_EXPORT):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/csv"), url


def test_finance_names_an_undocumented_channel_and_edits_a_name_in_the_admin(client, staff_in):
    user = staff_in(client, FINANCE)
    PayOrderFactory(channel="200102")
    add = client.post(
        "/admin/orders/channel/add/",
        {"code": "200102", "name": "微信扫码付", "name_en": "WeChat scan"},
    )
    channel = Channel.objects.get(code="200102")
    seeded = Channel.objects.get(code="800071")
    change = client.post(
        f"/admin/orders/channel/{seeded.pk}/change/",
        {"code": "800071", "name": "银联云闪付", "name_en": "UnionPay"},
    )

    assert add.status_code == 302
    assert change.status_code == 302
    assert (channel.name, channel.name_en) == ("微信扫码付", "WeChat scan")
    assert Channel.objects.get(code="800071").name == "银联云闪付"
    assert "微信扫码付" in client.get(ORDER_LIST).content.decode()
    # Deleting a name is for administrators.
    assert (
        client.post(f"/admin/orders/channel/{seeded.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert not user.has_perm("orders.delete_channel")


def test_finance_cannot_replay_a_push(client, staff_in, push):
    staff_in(client, FINANCE)
    push()

    assert replay(client, PushLog.objects.get()).status_code == 403
    assert PushLog.objects.count() == 1


def test_finance_cannot_add_or_change_the_whitelist(client, staff_in):
    user = staff_in(client, FINANCE)
    entry = WhitelistEntry.objects.create(plate="川A660P1")

    assert client.get(WHITELIST_ADD).status_code == 403
    assert client.get(WHITELIST_IMPORT).status_code == 403
    response = client.post(WHITELIST_ADD, {"plate": "川A12345", "valid_from_0": "2024-01-01"})
    assert response.status_code == 403
    assert WhitelistEntry.objects.count() == 1
    delete_url = f"{WHITELIST_LIST}{entry.pk}/delete/"
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert WhitelistEntry.objects.filter(pk=entry.pk).exists()
    assert not user.has_perm("whitelist.change_whitelistentry")
    assert not user.has_perm("orders.replay_pushlog")


def test_operations_can_open_the_whitelist_pages_and_push_log(client, staff_in):
    staff_in(client, OPERATIONS)
    entry = WhitelistEntry.objects.create(plate="川A660P1")

    assert client.get(WHITELIST_LIST).status_code == 200
    assert client.get(WHITELIST_ADD).status_code == 200
    assert client.get(WHITELIST_IMPORT).status_code == 200
    assert client.get(f"{WHITELIST_LIST}{entry.pk}/change/").status_code == 200
    assert client.get(f"{WHITELIST_LIST}{entry.pk}/history/").status_code == 200
    assert client.get(PUSHLOG_LIST).status_code == 200


def test_operations_can_replay_a_push(client, staff_in, push):
    staff_in(client, OPERATIONS)
    push()  # the plate is not whitelisted: refused and logged

    assert replay(client, PushLog.objects.get()).status_code == 200
    assert PushLog.objects.count() == 2  # each replay is a new log row


def test_operations_cannot_see_or_export_orders(client, staff_in):
    user = staff_in(client, OPERATIONS)
    PayOrderFactory()

    assert not user.has_perm("orders.export_orders")
    assert not user.has_perm("orders.view_payorder")
    for url in (ORDER_LIST, ORDER_EXPORT, COUPON_LIST, COUPON_EXPORT, SUMMARY, SUMMARY_EXPORT):
        assert client.get(url).status_code == 403, url


def test_personal_data_is_granted_per_user(db):
    setup_roles()
    user = User.objects.create_user(username="auditor", is_staff=True)
    user.groups.add(Group.objects.get(name=FINANCE))
    assert not user.has_perm("orders.view_personal_data")

    user.user_permissions.add(permission("orders.view_personal_data"))

    user = User.objects.get(pk=user.pk)  # has_perm caches per instance
    assert user.has_perm("orders.view_personal_data")


def test_finance_can_run_a_reconciliation_and_read_runs_and_platform_calls(client, staff_in):
    staff_in(client, FINANCE)

    assert client.get("/admin/orders/reconciliationrun/").status_code == 200
    assert client.get("/admin/orders/reconciliationrun/run/").status_code == 200
    assert client.get("/admin/orders/reconciliationitem/").status_code == 200
    assert client.get("/admin/parkingops/platformcall/").status_code == 200


def test_operations_can_read_the_sync_state_but_not_reconcile(client, staff_in):
    staff_in(client, OPERATIONS)

    assert client.get("/admin/whitelist/platesync/").status_code == 200
    assert client.get("/admin/parkingops/platformcall/").status_code == 200
    assert client.get("/admin/orders/reconciliationrun/run/").status_code == 403
