"""The back-office roles: which permissions each staff group holds, and applying them.

``ROLES`` is the single definition; ``python manage.py setup_roles`` calls ``apply_roles()`` to
create the groups and bring their permissions exactly in line with it (adding what is missing,
removing what is no longer listed). ``orders.view_personal_data`` is deliberately in no group:
seeing unmasked mobile numbers is granted per user.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction

FINANCE = "财务"
OPERATIONS = "运营"

ROLES: dict[str, frozenset[str]] = {
    # Finance reconciles: reads orders, discounts, merchant coupons, parks, the daily summary
    # (which needs view_payorder) and the push log, exports CSV, may look the whitelist up,
    # runs the reconciliation against the platform, turns payments missing here into orders,
    # marks differences resolved with a note and reads the record of calls to the platform. It
    # reads the stays (停车记录: entries, exits and the payment gap) and the fixed-car renewals
    # (续费记录). It names the payment channels (the platform pushes codes; finance gives an
    # undocumented one such as 200102 its name).
    FINANCE: frozenset(
        {
            "orders.view_channel",
            "orders.add_channel",
            "orders.change_channel",
            "orders.view_payorder",
            "orders.view_stay",
            "orders.view_renewal",
            "orders.view_discount",
            "orders.view_merchantcoupon",
            "whitelist.view_park",
            "orders.view_pushlog",
            "orders.export_orders",
            "orders.view_reconciliationrun",
            "orders.run_reconciliation",
            "orders.resolve_reconciliation",
            "orders.resolve_difference",
            "parkingops.view_platformcall",
            "whitelist.view_whitelistentry",
        }
    ),
    # Operations keeps the whitelist (the admin allows import with add+change and export with
    # view) and reads its history and its sync state at the platform (and the calls made
    # there), reads the parks to find their uuids, reads the push log and
    # replays a refused push, and reads the stays (停车记录: which car is in which park).
    OPERATIONS: frozenset(
        {
            "whitelist.view_whitelistentry",
            "whitelist.add_whitelistentry",
            "whitelist.change_whitelistentry",
            "whitelist.delete_whitelistentry",
            "whitelist.view_historicalwhitelistentry",
            "whitelist.view_platesync",
            "parkingops.view_platformcall",
            "whitelist.view_park",
            "orders.view_pushlog",
            "orders.replay_pushlog",
            "orders.view_stay",
        }
    ),
}


class MissingPermissions(Exception):
    """Raised when a role names permissions the database does not have (yet)."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            "These permissions do not exist: "
            + ", ".join(missing)
            + ". Run `python manage.py migrate` first; if they still do not exist, "
            "update parkingops/roles.py."
        )


@dataclass
class RoleChange:
    """What ``apply_roles`` did to one group."""

    group: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed)


def _permission_key(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def _resolve(names: set[str]) -> dict[str, Permission]:
    """Return the ``Permission`` row of every ``app_label.codename``, or raise if any is missing."""
    codenames = {name.partition(".")[2] for name in names}
    candidates = Permission.objects.filter(codename__in=codenames).select_related("content_type")
    found = {_permission_key(p): p for p in candidates if _permission_key(p) in names}
    missing = sorted(names - found.keys())
    if missing:
        raise MissingPermissions(missing)
    return found


@transaction.atomic
def apply_roles(*, roles: dict[str, frozenset[str]] = ROLES) -> list[RoleChange]:
    """Create every group in ``roles`` and set its permissions to exactly the listed ones.

    Idempotent: a second run changes nothing and reports no change. Nothing is written when a
    listed permission does not exist.
    """
    permissions = _resolve(set().union(*roles.values()))
    changes = []
    for name, wanted in roles.items():
        group, created = Group.objects.get_or_create(name=name)
        current = {_permission_key(p): p for p in group.permissions.select_related("content_type")}
        change = RoleChange(
            group=name,
            created=created,
            added=sorted(wanted - current.keys()),
            removed=sorted(current.keys() - wanted),
        )
        group.permissions.add(*(permissions[key] for key in change.added))
        group.permissions.remove(*(current[key] for key in change.removed))
        changes.append(change)
    return changes
