"""Creating, revoking and checking API keys (the writes and the one read behind them).

A key is ``<prefix>.<secret>``: 8 URL-safe characters, a dot, 43 more (256 random bits). Keys
are long random tokens, so a fast hash (SHA-256) is enough; the comparison is constant-time.
Only the hash is stored: the key itself is returned once, by ``create_api_key`` (or
``save_new_api_key``).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from parkingops.models import ApiKey

PREFIX_BYTES = 6  # 8 characters
SECRET_BYTES = 32  # 43 characters
SEPARATOR = "."
# Anything else is refused before it reaches the database (a NUL would make PostgreSQL fail).
KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{43}")
# last_used_at is written at most this often per key: one UPDATE per request would make every
# read a write.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    """A key just created: the row and the full key, which is never available again."""

    api_key: ApiKey
    key: str


def hash_key(key: str) -> str:
    """Return the hex SHA-256 of ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(*, user: AbstractBaseUser, name: str) -> NewKey:
    """Create a key acting as ``user``; return it with the full key (show it once)."""
    return save_new_api_key(api_key=ApiKey(user=user, name=name))


def save_new_api_key(*, api_key: ApiKey) -> NewKey:
    """Give the unsaved ``api_key`` (its user and name set) a new key and save it; return it
    with the full key (show it once). The admin's add form saves its own instance this way."""
    for _attempt in range(5):
        prefix = secrets.token_urlsafe(PREFIX_BYTES)
        key = f"{prefix}{SEPARATOR}{secrets.token_urlsafe(SECRET_BYTES)}"
        api_key.prefix, api_key.key_hash = prefix, hash_key(key)
        try:
            # The savepoint keeps a (most unlikely) duplicate prefix from breaking an outer
            # transaction, such as the admin's.
            with transaction.atomic():
                api_key.save(force_insert=True)
        except IntegrityError:
            continue
        return NewKey(api_key=api_key, key=key)
    raise RuntimeError("Could not find an unused key prefix.")


def revoke_api_keys(*, keys: QuerySet[ApiKey], at: datetime | None = None) -> int:
    """Revoke the ``keys`` not revoked yet; return how many were revoked now."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=at or timezone.now())


def find_api_key(key: str) -> ApiKey | None:
    """Return the unrevoked key ``key`` with its user, or None when it is unknown or revoked."""
    if not KEY_FORMAT.fullmatch(key):
        return None
    prefix = key.split(SEPARATOR, 1)[0]
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(key)):
        return None
    if api_key.revoked_at is not None:
        return None
    return api_key


def record_use(*, api_key: ApiKey, at: datetime | None = None) -> None:
    """Set the key's ``last_used_at``, at most once per LAST_USED_PRECISION."""
    at = at or timezone.now()
    if api_key.last_used_at is not None and at - api_key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=at)
    api_key.last_used_at = at
