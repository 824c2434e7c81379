"""Settings for ParkingOps, read from the environment (docs/deployment.md lists each one)."""

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a developer convenience; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean, refusing anything that is not clearly yes or no."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}.")


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Read a non-negative integer, refusing anything else."""
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be ≥ {minimum}, got {value}.")
    return value


DEBUG = _env_bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 for development."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

# A checkout has templates/ and locale/ at its top; a wheel carries them inside the package
# (setup.py's build step copies them to parkingops/bundled/).
SITE_DIR = BASE_DIR if (BASE_DIR / "templates").is_dir() else Path(__file__).parent / "bundled"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "import_export",
    "simple_history",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served locally: /api/docs/ works offline
    "parkingops",  # API keys
    "orders",
    "orders.demo",  # demo and development commands (seed_demo, send_push, ...)
    "whitelist",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from gunicorn, compressed and cached for ever (hashed names).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parkingops.urls"
WSGI_APPLICATION = "parkingops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default is a SQLite file beside manage.py; production sets DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent pushes must not fail with "database is locked": WAL lets readers run beside
    # the writer, IMMEDIATE takes the write lock when a transaction starts (so two writers
    # queue instead of deadlocking on lock upgrade), and the timeout makes them wait.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Persistent connections: opening one per request cost most of the push's throughput.
    # The health check replaces a connection that died (a database restart) at the start of
    # the next request; a request that loses it midway answers 1503.
    DATABASES["default"].setdefault("CONN_MAX_AGE", _env_int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# An optional read replica for the heavy reads (exports, summaries, reconciliation lists):
# parkingops.db_routers sends only reads marked with heavy_reads() there.
READ_REPLICA = None
if env.str("DATABASE_REPLICA_URL", default=""):
    READ_REPLICA = "replica"
    DATABASES[READ_REPLICA] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES[READ_REPLICA].setdefault("CONN_MAX_AGE", _env_int("CONN_MAX_AGE", 60))
    DATABASES[READ_REPLICA]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["parkingops.db_routers.HeavyReadRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [SITE_DIR / "locale"]
# Dates as 2026-11-25 in both languages (parkingops/formats), like the filters and the CSV.
FORMAT_MODULE_PATH = ["parkingops.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files once `collectstatic` ran (make serve does); plain files while
    # developing, so runserver and the tests need no collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# While developing, WhiteNoise finds files in the apps as runserver does (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Production: HTTPS, behind a TLS proxy or not (docs/deployment.md) ---------------------
# Secure by default when DEBUG is off; each can be switched off by the environment, e.g. for
# a plain-HTTP deployment on a private network.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's health probe speaks plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Joining the browsers' preload list binds the whole domain for months: the operator's call,
# so off by default and its deploy-check reminder silenced.
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Opt-in, and only behind a proxy that sets the header itself (otherwise clients could).
if _env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _env_rate(name: str, default: str) -> str:
    """Read a DRF throttle rate such as ``600/min``: a count, a slash, s/min/hour/day."""
    raw = env.str(name, default="").strip() or default
    count, _slash, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(
            f"{name} must be requests per period such as 600/min or 10/s, got {raw!r}."
        )
    return raw


# --- The integration API (docs/api.md) ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    # Systems send "Authorization: Api-Key <key>"; staff may use their admin session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "parkingops.authentication.ApiKeyAuthentication",
        "parkingops.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["parkingops.api.ModelPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["parkingops.throttling.ApiKeyRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests per API key (or staff user), e.g. 600/min, 20/s, 10000/hour.
API_THROTTLE_RATE = _env_rate("API_THROTTLE_RATE", "600/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "ParkingOps API",
    "DESCRIPTION": _(
        "Orders, merchant coupons and daily totals to read, the whitelist to manage, and the "
        "platform's pay-order push. Authenticate with the header `Authorization: Api-Key <key>` "
        "(keys are created in the admin, under API keys) or, in the browser, the admin session. "
        "Amounts are integer fen, times ISO-8601 with their offset (+08:00). Lists are paged by "
        "cursor (follow `next`) and give the admin's CSV export with `?format=csv`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- The platform (P云) -------------------------------------------------------------------
PLATFORM_APP_ID = env.str("PLATFORM_APP_ID", default="")
# Several secrets may be valid at once while a secret is rotated; the first one signs.
PLATFORM_APP_SECRET = [s.strip() for s in env.str("PLATFORM_APP_SECRET", default="").split(",")]
PLATFORM_APP_SECRET = [s for s in PLATFORM_APP_SECRET if s]
PUSH_TIMESTAMP_TOLERANCE = _env_int("PUSH_TIMESTAMP_TOLERANCE", 0)


def _env_networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Read a comma-separated list of addresses or CIDR networks, refusing a bad one."""
    networks = []
    for item in env.list(name, default=[]):
        try:
            networks.append(ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or CIDR networks, got {item!r}."
            ) from None
    return networks


# Only these source addresses may push (empty: any). The platform publishes its egress IPs.
PUSH_ALLOWED_IPS = _env_networks("PUSH_ALLOWED_IPS")
# Proxies whose X-Forwarded-For is believed (empty: none; the socket's address is the client).
TRUSTED_PROXIES = _env_networks("TRUSTED_PROXIES")
# Pushes refused for their body, app id, signature or timestamp, per source address: past
# this rate the address gets 429 without a log row, so a flood cannot fill the push log.
PUSH_REFUSAL_RATE = _env_rate("PUSH_REFUSAL_RATE", "60/min")
# The platform's open API (whitelist sync, payment list). No default: nothing reaches the
# internet unless a deployment says so; the demo points it at the local fake platform.
PLATFORM_API_BASE = env.str("PLATFORM_API_BASE", default="")
PLATFORM_API_TIMEOUT = _env_int("PLATFORM_API_TIMEOUT", 10, minimum=1)
PLATFORM_API_RETRIES = _env_int("PLATFORM_API_RETRIES", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "message": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stdout",
        },
        # The push's own line is already JSON: written as it is.
        "json_lines": {
            "class": "logging.StreamHandler",
            "formatter": "message",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "parkingops.push": {"handlers": ["json_lines"], "propagate": False},
    },
}
