"""Make sure the demo's superuser ``admin`` exists and print how to use the demo (``make run``)."""

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _g

from orders.demo import simulator
from orders.demo.management.commands.send_push import PUSH_PATH
from parkingops import roles
from whitelist.selectors import find_valid_entry

USERNAME = "admin"
# The two roles' demo users, so finance's and operations' screens can be tried as they are.
ROLE_USERS = {"finance": roles.FINANCE, "operations": roles.OPERATIONS}
PASSWORD_FILE = ".demo-admin-password"  # noqa: S105 (a file name)


def default_password_file() -> Path:
    """Return where the generated password is remembered: beside manage.py (gitignored)."""
    return Path(settings.BASE_DIR) / PASSWORD_FILE


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property, so the text is translated when it is shown
        return _g(
            "Demo only (DEBUG on): ensure the superuser 'admin' exists, with DEMO_ADMIN_PASSWORD "
            "or a generated password remembered in %(file)s, and print the demo's URLs, login "
            "and platform credentials."
        ) % {"file": PASSWORD_FILE}

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT") or 8000),
            help=_g("The port the demo server listens on (default: $PORT or 8000)."),
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help=_g(
                "Where a generated password is remembered (default: %(file)s beside manage.py)."
            )
            % {"file": PASSWORD_FILE},
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                _g(
                    "demo_admin is a demo tool and refuses to run with DEBUG off. Create real "
                    "users with `manage.py createsuperuser`."
                )
            )
        password = self._password(options["password_file"] or default_password_file())
        self._ensure_admin(password)
        self._ensure_role_users(password)
        self._banner(options["port"], password)

    def _password(self, path: Path) -> str:
        """Return DEMO_ADMIN_PASSWORD, or the remembered password, or a new remembered one."""
        from_env = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        if from_env:
            return from_env
        try:
            remembered = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            remembered = ""
        except OSError as exc:
            raise CommandError(
                _g("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from None
        if remembered:
            return remembered
        password = secrets.token_urlsafe(12)
        try:
            # Only the owner may read it: it is a superuser's password, even if a demo's.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(password + "\n")
        except OSError as exc:
            raise CommandError(
                _g("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from None
        return password

    def _ensure_admin(self, password: str) -> None:
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: USERNAME}).first()
        if user is None:
            User.objects.create_superuser(USERNAME, email="", password=password)
            return
        changed = []
        if not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        for flag in ("is_active", "is_staff", "is_superuser"):
            if not getattr(user, flag):
                setattr(user, flag, True)
                changed.append(flag)
        if changed:
            user.save(update_fields=changed)

    def _ensure_role_users(self, password: str) -> None:
        """Give each role a staff user with the demo password (the groups come first)."""
        roles.apply_roles()
        User = get_user_model()
        for username, group_name in ROLE_USERS.items():
            user, _created = User.objects.get_or_create(
                **{User.USERNAME_FIELD: username}, defaults={"is_staff": True}
            )
            if not user.check_password(password) or not user.is_staff:
                user.set_password(password)
                user.is_staff = True
                user.save()
            user.groups.set([Group.objects.get(name=group_name)])

    def _banner(self, port: int, password: str) -> None:
        base = f"http://127.0.0.1:{port}"
        push_url = base + PUSH_PATH
        lines = [
            _g("ParkingOps demo"),
            _g("  Admin:      %(url)s") % {"url": f"{base}/admin/"},
            _g("  Login:      %(user)s / %(password)s") % {"user": USERNAME, "password": password},
            _g("  Roles:      %(finance)s (财务) and %(operations)s (运营), same password")
            % {"finance": "finance", "operations": "operations"},
            _g("  Push URL:   %(url)s") % {"url": push_url},
            _g("  App id:     %(app_id)s") % {"app_id": settings.PLATFORM_APP_ID or "-"},
        ]
        # handle() refuses without DEBUG; the check stays here too, beside the secret.
        if settings.DEBUG and settings.PLATFORM_APP_SECRET:
            lines.append(
                _g("  App secret: %(secret)s") % {"secret": settings.PLATFORM_APP_SECRET[0]}
            )
        now = timezone.now()
        plate = simulator.DEMO_PLATE
        if find_valid_entry(plate=plate, park_uuid=simulator.DEMO_PARK_UUID, at=now):
            python = self._python()
            command = f"{python} manage.py send_push --plate {plate} --amount 1500"
            if port != 8000:
                command += f" --url {push_url}"
            lines.append(_g("  Try a push: %(command)s") % {"command": command})
        else:
            lines.append(_g("  No demo plate is whitelisted yet: run `manage.py seed_demo` first."))
        rule = "=" * 72
        self.stdout.write("\n".join([rule, *lines, rule]))

    def _python(self) -> str:
        """Return how to call this venv's Python from beside manage.py."""
        venv = Path(settings.BASE_DIR) / ".venv"
        if Path(sys.prefix).resolve() == venv.resolve():
            return ".venv/bin/python"
        return "python"
