"""Fixtures of the whitelist admin tests: logged-in clients that read the admin in English.

English keeps the assertions independent of the Chinese translations, which are added later.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)
from whitelist.tests.factories import WhitelistEntryFactory

CHANGELIST = "/admin/whitelist/whitelistentry/"


def _english_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def _staff(django_user_model, username: str, codenames: list[str]):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="whitelist", codename__in=codenames)
    )
    return user


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")


@pytest.fixture
def admin_en(superuser) -> Client:
    """A superuser's client, in English."""
    return _english_client(superuser)


@pytest.fixture
def operator(django_user_model):
    """A staff user holding only the whitelist's own permissions."""
    return _staff(
        django_user_model,
        "operator",
        [f"{action}_whitelistentry" for action in ("view", "add", "change", "delete")],
    )


@pytest.fixture
def operator_en(operator) -> Client:
    return _english_client(operator)


@pytest.fixture
def viewer_en(django_user_model) -> Client:
    """A staff user who may only look at the whitelist (as finance might)."""
    return _english_client(_staff(django_user_model, "viewer", ["view_whitelistentry"]))


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def entry_in_each_status(db, now):
    """One entry per status, keyed by the status value."""
    day = timedelta(days=1)
    return {
        "active": WhitelistEntryFactory(plate="川A00001", valid_from=now - 10 * day),
        "not_yet_valid": WhitelistEntryFactory(plate="川A00002", valid_from=now + 10 * day),
        "expired": WhitelistEntryFactory(
            plate="川A00003", valid_from=now - 10 * day, valid_until=now - day
        ),
        "disabled": WhitelistEntryFactory(
            plate="川A00004", valid_from=now - 10 * day, is_active=False
        ),
    }
