"""Every role opens every page of every whitelist admin model: 200 where it may look, else 403.

Finance may only look at the whitelist: its entry page is shown read-only, without the form's
fields, which the entry form must not rely on. Never a 500.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import Client, RequestFactory

from parkingops.roles import FINANCE, OPERATIONS, ROLES, apply_roles
from whitelist.models import PlateSync, WhitelistEntry
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db

WHITELIST_ADMINS = [
    pytest.param(model._meta.model_name, model_admin, id=model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label == "whitelist"
]
# Besides the groups: someone granted only the view permission of every whitelist model.
VIEW_ONLY = "view only"


@pytest.fixture
def objects():
    """One object of each whitelist model, with an entry in a known park and its history."""
    park = ParkFactory(name="一号停车场")
    entry = WhitelistEntryFactory(plate="川A660P1", park_uuid=park.park_uuid)
    sync = PlateSync.objects.create(plate=entry.plate)
    return {"whitelistentry": entry, "park": park, "platesync": sync}


def _staff(role: str) -> User:
    apply_roles()
    user = User.objects.create_user(f"user-{role}", is_staff=True)
    if role == VIEW_ONLY:
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="whitelist", codename__startswith="view_"
            )
        )
    else:
        user.groups.set(Group.objects.filter(name=role))
    return user


def _pages(model_name: str, obj) -> dict[str, str]:
    base = f"/admin/whitelist/{model_name}/"
    pages = {"changelist": base, "add": f"{base}add/", "change": f"{base}{obj.pk}/change/"}
    if isinstance(obj, WhitelistEntry):
        record = obj.history.get()
        pages["history"] = f"{base}{obj.pk}/history/"
        pages["history record"] = f"{base}{obj.pk}/history/{record.pk}/"
        pages["import"] = f"{base}import/"
    return pages


def _allowed(model_admin, user: User, page: str) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    if page == "add":
        return model_admin.has_add_permission(request)
    if page == "import":
        return model_admin.has_import_permission(request)
    return model_admin.has_view_or_change_permission(request)


def test_the_roles_are_the_ones_walked():
    assert set(ROLES) == {FINANCE, OPERATIONS}


@pytest.mark.parametrize("role", [*sorted(ROLES), VIEW_ONLY])
@pytest.mark.parametrize(("model_name", "model_admin"), WHITELIST_ADMINS)
def test_every_role_opens_every_whitelist_admin_page_or_is_refused(
    objects, role, model_name, model_admin
):
    user = _staff(role)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)

    answers = {
        page: client.get(url).status_code
        for page, url in _pages(model_name, objects[model_name]).items()
    }

    expected = {page: 200 if _allowed(model_admin, user, page) else 403 for page in answers}
    assert answers == expected


@pytest.mark.parametrize("role", [FINANCE, VIEW_ONLY])
def test_a_viewer_sees_an_entry_read_only_with_its_park(objects, role):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(_staff(role))
    entry = objects["whitelistentry"]

    response = client.get(f"/admin/whitelist/whitelistentry/{entry.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert entry.park_uuid in content and "川A660P1" in content
    assert 'name="plate"' not in content  # no form field: nothing to save
