"""Settings for the test suite: the project's settings with the demo platform credentials.

The database still comes from DATABASE_URL, so CI runs the same suite on SQLite and PostgreSQL.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ["PLATFORM_APP_ID"] = "op00961963581daa7"
os.environ["PLATFORM_APP_SECRET"] = "demo-secret-7f3a,older-secret-1"  # noqa: S105
os.environ["PUSH_TIMESTAMP_TOLERANCE"] = "0"
# Nothing reaches a platform unless a test starts the fake one (parkingops.pcloud.testing),
# even when a developer's .env points at the demo's fake platform.
os.environ["PLATFORM_API_BASE"] = ""
# The suite sends thousands of refused pushes from 127.0.0.1; the throttle's own tests lower it.
os.environ["PUSH_REFUSAL_RATE"] = "1000000/min"
os.environ["PUSH_ALLOWED_IPS"] = ""
os.environ["TRUSTED_PROXIES"] = ""
# Job files (exports, uploaded imports) go to a directory of this run; the workers a test
# starts inherit it.
if "PARKINGOPS_TEST_MEDIA" not in os.environ:
    import tempfile

    os.environ["PARKINGOPS_TEST_MEDIA"] = tempfile.mkdtemp(prefix="parkingops-test-media-")
os.environ["MEDIA_ROOT"] = os.environ["PARKINGOPS_TEST_MEDIA"]

from parkingops.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A replica alias that mirrors the test database, for the router's own test; reads go there only
# when a test sets READ_REPLICA = "replica" (others read their uncommitted rows from default).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
READ_REPLICA = None

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # An in-memory test database has one shared connection, so it would never show WAL or
    # locking problems; a file does, as production does. One file per run (pid), so engineers
    # running the suite at the same time in this checkout do not delete each other's database.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"parkingops-test-{os.getpid()}.sqlite3")
    }
