"""Reading settings from the environment, failing loudly.

Each reader takes the variable's name and a default for when it is unset or blank, and raises
ImproperlyConfigured naming the variable when its value is not what the setting needs: a typo
in production stops the start instead of quietly meaning something else. A secret may also be
given as ``<NAME>_FILE``, the path of a file holding it (Docker and Kubernetes secrets).
"""

import os
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}
RATE_PERIODS = {"s", "m", "h", "d"}  # DRF reads the first letter: 10/s, 600/min, 1000/hour


def read_dotenv(path: Path) -> None:
    """Load ``path`` (a .env file) into the environment, never overriding what is set."""
    environ.Env.read_env(path, overwrite=False)


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_str(name: str, default: str = "", *, choices: tuple[str, ...] | None = None) -> str:
    """Read text; with ``choices``, refuse anything else."""
    value = _raw(name) or default
    if choices is not None and value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from ``name``, or from the file named by ``<name>_FILE``; not both."""
    path = _raw(f"{name}_FILE")
    if not path:
        return _raw(name) or default
    if _raw(name):
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    try:
        return Path(path).read_text(encoding="utf-8").strip() or default
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {error.strerror}.") from None


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean, refusing anything that is not clearly yes or no."""
    raw = _raw(name).lower()
    if raw == "":
        return default
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Read an integer not below ``minimum``, refusing anything else."""
    raw = _raw(name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be ≥ {minimum}, got {value}.")
    return value


def env_list(name: str, default: list[str] | None = None, *, secret: bool = False) -> list[str]:
    """Read a comma-separated list; blank items are dropped. ``secret``: see ``env_secret``."""
    raw = env_secret(name) if secret else _raw(name)
    if raw == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """Read a DRF throttle rate such as ``600/min``: a count, a slash, s/min/hour/day."""
    raw = _raw(name) or default
    count, _slash, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in RATE_PERIODS):
        raise ImproperlyConfigured(
            f"{name} must be requests per period such as 600/min or 10/s, got {raw!r}."
        )
    return raw


def env_networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Read a comma-separated list of addresses or CIDR networks, refusing a bad one."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or CIDR networks, got {item!r}."
            ) from None
    return networks


def env_database(name: str, default: str = "") -> dict[str, Any] | None:
    """Read a database URL (``postgres://user:password@host:5432/name``, ``sqlite:///path``)
    into a ``DATABASES`` entry; None when unset and without a default. May be a secret."""
    url = env_secret(name, default)
    if not url:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in environ.Env.DB_SCHEMES:
        # Only the scheme is named: the URL may hold a password.
        raise ImproperlyConfigured(f"{name} names an unknown database: {scheme!r}.")
    return environ.Env.db_url_config(url)


# CACHE_URL schemes and Django's backend for each (no third-party backend needed).
CACHE_BACKENDS: Mapping[str, str] = {
    "locmemcache": "django.core.cache.backends.locmem.LocMemCache",
    "dummycache": "django.core.cache.backends.dummy.DummyCache",
    "filecache": "django.core.cache.backends.filebased.FileBasedCache",
    "dbcache": "django.core.cache.backends.db.DatabaseCache",
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
}


def env_cache(name: str, default: str, *, timeout: int = 5) -> dict[str, Any]:
    """Read a cache URL into a ``CACHES`` entry. May be a secret (a Redis password).

    ``locmemcache://[name]`` (this process only), ``dummycache://``, ``filecache:///path``,
    ``dbcache://table``, or ``redis://[:password@]host:6379/0`` (``rediss://`` for TLS;
    several comma-separated URLs: the first is written, the others read), which Django's own
    ``RedisCache`` takes as it is. A Redis that does not connect or answer within ``timeout``
    seconds is an error rather than a wait without end (``?socket_timeout=`` in the URL wins).
    """
    url = env_secret(name, default)
    scheme = urlsplit(url).scheme
    backend = CACHE_BACKENDS.get(scheme)
    if backend is None:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(f'{s}://' for s in CACHE_BACKENDS)}, "
            f"got {url.split('://')[0]!r}."
        )
    if scheme.startswith("redis"):
        return {
            "BACKEND": backend,
            "LOCATION": url.split(",") if "," in url else url,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    parts = urlsplit(url)
    location = unquote(parts.netloc + parts.path)
    if scheme in {"filecache", "dbcache"} and not location:
        raise ImproperlyConfigured(f"{name}: {scheme}:// needs a path or table, got {url!r}.")
    config: dict[str, Any] = {"BACKEND": backend}
    if location:
        config["LOCATION"] = location
    return config
