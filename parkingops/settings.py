"""Settings for ParkingOps, read from the environment (docs/deployment.md lists each one)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from parkingops.db_timeouts import with_timeouts
from parkingops.env import (
    env_bool,
    env_cache,
    env_database,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_secret,
    env_str,
    read_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env is a developer convenience; real deployments set the environment.
read_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 for development."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

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
    "simple_history",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served locally: /api/docs/ works offline
    "django_tasks",
    "django_tasks_db",  # the task queue's table: background jobs need no other server
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
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
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
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The push's one statement (orders.push.storing) sends its values apart from its text and
    # is prepared on the connection from its 5th run: planned once, not on every push (half
    # its database CPU). Django's own queries bind client-side and are never prepared. Off
    # behind a pooler that cannot keep prepared statements (PgBouncer's transaction mode
    # before 1.21 or without max_prepared_statements).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

# An optional read replica for the heavy reads (exports, summaries, reconciliation lists):
# parkingops.db_routers sends only reads marked with heavy_reads() there.
READ_REPLICA = None
_replica = env_database("DATABASE_REPLICA_URL")
if _replica is not None:
    READ_REPLICA = "replica"
    DATABASES[READ_REPLICA] = _replica
    DATABASES[READ_REPLICA].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60))
    DATABASES[READ_REPLICA]["CONN_HEALTH_CHECKS"] = True

# A database that hangs must not hang the workers (parkingops/db_timeouts.py): connecting
# gives up after DATABASE_CONNECT_TIMEOUT seconds (psycopg's default is 130; at least 2), a
# statement after DATABASE_STATEMENT_TIMEOUT (0: none; heavy reads and migrations lift it).
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=2)
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 30)
for _alias, _config in DATABASES.items():
    DATABASES[_alias] = with_timeouts(
        _config, connect=DATABASE_CONNECT_TIMEOUT, statement=DATABASE_STATEMENT_TIMEOUT
    )
DATABASE_ROUTERS = ["parkingops.db_routers.HeavyReadRouter"]

# The cache: this process's memory by default; Redis (redis://host:6379/0) shares it between
# the workers and servers.
CACHES = {"default": env_cache("CACHE_URL", default="locmemcache://")}

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
# Files the jobs write (exports) and read (imports), served only through the job's page.
# Several hosts must share them (docs/deployment.md#scaling): FILE_STORAGE=filesystem keeps
# them under MEDIA_ROOT (a directory every host mounts), FILE_STORAGE=database in the database.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "files"))
FILE_STORAGE = env_str("FILE_STORAGE", "filesystem", choices=("filesystem", "database"))

STORAGES = {
    "default": {
        "BACKEND": "parkingops.filestore.DatabaseStorage"
        if FILE_STORAGE == "database"
        else "django.core.files.storage.FileSystemStorage"
    },
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
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's health probe and the Prometheus scraper speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Joining the browsers' preload list binds the whole domain for months: the operator's call,
# so off by default and its deploy-check reminder silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Opt-in, and only behind a proxy that sets the header itself (otherwise clients could).
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A refused form in the admin's look and language, like 403 and 404 (urls.py handler403).
CSRF_FAILURE_VIEW = "parkingops.error_pages.csrf_failure"


# --- The integration API (docs/api.md) ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's parser with the push's JSON rule: absurd nesting, repeated keys, NaN are a 400.
    "DEFAULT_PARSER_CLASSES": ["parkingops.jsonparsing.JSONParser"],
    # An unreachable database (or cache) is a JSON 503, not Django's HTML 500.
    "EXCEPTION_HANDLER": "parkingops.api_errors.exception_handler",
    # An empty or unknown ?format= is a 400 naming the parameter.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "parkingops.api_params.FormatNegotiation",
    "UNAUTHENTICATED_USER": None,
    # Systems send "Authorization: Api-Key <key>" or "X-Api-Key: <key>"; staff may use their
    # admin session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "parkingops.authentication.ApiKeyAuthentication",
        "parkingops.authentication.HeaderApiKeyAuthentication",
        "parkingops.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["parkingops.api.ModelPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["parkingops.throttling.ApiKeyRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["parkingops.api_params.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "parkingops.schema.AutoSchema",
}
# Requests per API key (or staff user), e.g. 600/min, 20/s, 10000/hour.
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "600/min")
# Incremental sync (ordering=received_at/updated_at/deleted_at) serves rows stamped this many
# seconds ago or earlier: longer than DATABASE_STATEMENT_TIMEOUT (parkingops/sync.py).
API_SYNC_SETTLE_SECONDS = env_int("API_SYNC_SETTLE_SECONDS", 60, minimum=1)
# Days a deleted whitelist entry stays in GET /api/v1/whitelist/deleted/ (pruned nightly).
WHITELIST_TOMBSTONE_DAYS = env_int("WHITELIST_TOMBSTONE_DAYS", 90, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "ParkingOps API",
    "DESCRIPTION": _(
        "Orders, stays, renewals, merchant coupons and daily totals to read, and the whitelist "
        "to manage. Authenticate with the header `Authorization: Api-Key <key>` or "
        "`X-Api-Key: <key>` (keys are created in the admin, under API keys) or, in the browser, "
        "the admin session. Amounts are integer fen, times ISO-8601 with their offset (+08:00). "
        "Lists are paged by cursor (follow `next`); each list's CSV and Excel files are an "
        "operation of their own, `…/export/?format=csv|xlsx`, with the list's filters. A typed "
        "client: `openapi-python-client "
        "generate --url <server>/api/schema/`. The platform's push has its own document, "
        "/api/schema/platform/."
    ),
    "VERSION": "1",
    "CONTACT": {"name": _("The administrators of this ParkingOps server (they issue API keys)")},
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TAGS": [
        {"name": "orders", "description": _("Pay orders with their discounts and coupons.")},
        {"name": "stays", "description": _("Cars' visits to a park and their payment gaps.")},
        {"name": "renewals", "description": _("Fixed-car renewals paid at the platform.")},
        {"name": "coupons", "description": _("Merchant coupons and their totals per store.")},
        {"name": "summary", "description": _("The admin's daily summary.")},
        {"name": "statements", "description": _("Statements per whitelist holder.")},
        {"name": "whitelist", "description": _("The plates the platform may push for.")},
        {"name": "push-outcomes", "description": _("Every answer the platform's push gives.")},
        {"name": "push", "description": _("What the platform pushes (signed, no API key).")},
    ],
    # Stable names for the enums a generated client makes classes of.
    "ENUM_NAME_OVERRIDES": {
        "WhitelistStatus": "whitelist.models.Status",
        "SyncState": "whitelist.models.PlateSync.State",
        "CouponUnit": "orders.coupons.Unit",
        "OrderSource": "orders.models.PayOrder.Source",
        "PushReason": "orders.push.outcomes.Outcome",
        "UpsertResult": "whitelist.serializers.BULK_ROW_RESULTS",
        "PushCode": "orders.push.outcomes.PUSH_CODES",
    },
    "PREPROCESSING_HOOKS": ["parkingops.schema.integration_endpoints"],
    # Every answer the API can give is in the schema: its errors (parkingops/schema.py) and
    # the rule that a parameter is never empty.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "parkingops.schema.document_errors",
        "parkingops.schema.document_conditional_requests",
        "parkingops.schema.describe_document",
    ],
}
# The platform's push, in its own document (/api/schema/platform/): the integrators' client
# has no use for it.
PLATFORM_SCHEMA_SETTINGS = {
    "TITLE": "ParkingOps platform push",
    "DESCRIPTION": _(
        "The addresses the parking platform (P云) pushes pay orders, entries, exits and "
        "renewals to, signed with the app secret; no API key. The integration API is "
        "described at /api/schema/."
    ),
    "PREPROCESSING_HOOKS": ["parkingops.schema.platform_endpoints"],
}

# --- The platform (P云) -------------------------------------------------------------------
PLATFORM_APP_ID = env_str("PLATFORM_APP_ID")
# Several secrets may be valid at once while a secret is rotated; the first one signs.
PLATFORM_APP_SECRET = env_list("PLATFORM_APP_SECRET", secret=True)
PUSH_TIMESTAMP_TOLERANCE = env_int("PUSH_TIMESTAMP_TOLERANCE", 0)


# Only these source addresses may push (empty: any). The platform publishes its egress IPs.
PUSH_ALLOWED_IPS = env_networks("PUSH_ALLOWED_IPS")
# Proxies whose X-Forwarded-For is believed (empty: none; the socket's address is the client).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# Pushes refused for their body, app id, signature or timestamp, per source address: past
# this rate the address gets 429 without a log row, so a flood cannot fill the push log.
PUSH_REFUSAL_RATE = env_rate("PUSH_REFUSAL_RATE", "60/min")
# The platform's open API (whitelist sync, payment list). No default: nothing reaches the
# internet unless a deployment says so; the demo points it at the local fake platform.
PLATFORM_API_BASE = env_str("PLATFORM_API_BASE")
PLATFORM_API_TIMEOUT = env_int("PLATFORM_API_TIMEOUT", 10, minimum=1)
PLATFORM_API_RETRIES = env_int("PLATFORM_API_RETRIES", 3)

# --- Background jobs and schedules (parkingops/jobs, docs/deployment.md) --------------------
# Django's task framework; its database backend needs no other server. Workers:
# `manage.py db_worker` (make run starts one), the clock: `manage.py run_scheduler`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A job's progress and heartbeat are written this often (seconds).
JOB_PROGRESS_SECONDS = env_int("JOB_PROGRESS_SECONDS", 1, minimum=1)
# A running job without a heartbeat for this long lost its worker: it is tried again, up to
# JOB_MAX_ATTEMPTS attempts in all, then marked failed.
JOB_LOST_AFTER = env_int("JOB_LOST_AFTER", 300, minimum=2)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 2, minimum=1)
# An export's file can be downloaded for this many days; finished jobs are listed for
# JOB_KEEP_DAYS.
JOB_FILE_DAYS = env_int("JOB_FILE_DAYS", 7, minimum=1)
JOB_KEEP_DAYS = env_int("JOB_KEEP_DAYS", 30, minimum=1)
# Above these sizes the work goes to a job instead of answering the request at once: a
# whitelist import (rows of the file), an admin export (rows of the list).
IMPORT_BACKGROUND_ROWS = env_int("IMPORT_BACKGROUND_ROWS", 2000, minimum=0)
EXPORT_BACKGROUND_ROWS = env_int("EXPORT_BACKGROUND_ROWS", 20000, minimum=0)
# The schedules (parkingops/jobs/schedules.py), China time: yesterday's reconciliation of
# every park at this hour, the whitelist sync every so many minutes, the push log pruned daily.
SCHEDULE_RECONCILE_HOUR = env_int("SCHEDULE_RECONCILE_HOUR", 3, minimum=0)
SCHEDULE_SYNC_MINUTES = env_int("SCHEDULE_SYNC_MINUTES", 5, minimum=1)
SCHEDULE_PRUNE_HOUR = env_int("SCHEDULE_PRUNE_HOUR", 4, minimum=0)
# The push log keeps every row this many whole calendar months before the current one (UTC);
# the nightly prune drops the months before (docs/deployment.md#the-push-log).
PUSH_LOG_RETENTION_MONTHS = env_int("PUSH_LOG_RETENTION_MONTHS", 13, minimum=1)

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
    "root": {
        "handlers": ["console"],
        "level": env_str(
            "LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "parkingops.push": {"handlers": ["json_lines"], "propagate": False},
    },
}

# --- Metrics and alerts (orders/monitoring, docs/operations.md#alerts) ----------------------
# GET /metrics (Prometheus) answers a request carrying "Authorization: Bearer <METRICS_TOKEN>"
# or coming from METRICS_ALLOWED_IPS (the client address as for pushes, TRUSTED_PROXIES
# included); with neither set, only this host (127.0.0.1, ::1).
METRICS_TOKEN = env_secret("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS")
# The parks whose last accepted push is exported one by one: the busiest of the last 7 days.
METRICS_BUSIEST_PARKS = env_int("METRICS_BUSIEST_PARKS", 10)
# The alerts' thresholds, shared by /metrics (parkingops_alert_firing) and check_health.
# No accepted push for this long, at a time when pushes came in on at least
# ALERT_PUSH_EXPECTED_DAYS of the last 7 days.
ALERT_PUSH_SILENCE_MINUTES = env_int("ALERT_PUSH_SILENCE_MINUTES", 30, minimum=1)
ALERT_PUSH_EXPECTED_DAYS = env_int("ALERT_PUSH_EXPECTED_DAYS", 4, minimum=1)
# More than this share of the last 15 minutes' pushes refused, once there were this many.
ALERT_REFUSAL_PERCENT = env_int("ALERT_REFUSAL_PERCENT", 20)
ALERT_REFUSAL_MIN_PUSHES = env_int("ALERT_REFUSAL_MIN_PUSHES", 20, minimum=1)
# A plate's platform sync failing for this long.
ALERT_SYNC_FAILING_MINUTES = env_int("ALERT_SYNC_FAILING_MINUTES", 30, minimum=1)
# A job waiting this long for a worker: none is running.
ALERT_JOB_QUEUED_MINUTES = env_int("ALERT_JOB_QUEUED_MINUTES", 15, minimum=1)
# Yesterday must be reconciled for every park this many hours after SCHEDULE_RECONCILE_HOUR.
ALERT_RECONCILE_GRACE_HOURS = env_int("ALERT_RECONCILE_GRACE_HOURS", 2)
# Who `manage.py check_health --mail` (and Django's error mails) write to, and through which
# SMTP server. ADMINS: comma-separated addresses.
ADMINS = [(address, address) for address in env_list("ADMINS")]
SERVER_EMAIL = env_str("SERVER_EMAIL", "parkingops@localhost")
EMAIL_SUBJECT_PREFIX = "[ParkingOps] "
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
