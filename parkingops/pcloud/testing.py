"""Reusable pytest fixtures; import the ones a test package needs into its ``conftest.py``::

    from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)

``fake_platform``: the fake open API (``parkingops.pcloud.fake``) served over real HTTP on a
free port, with ``PLATFORM_API_BASE`` pointing at it for the test.
"""

import pytest
from django.conf import settings as django_settings

from parkingops.pcloud.fake import FakePlatform

# One server for the whole run, started on first use: stopping one takes half a second (the
# serve loop's poll interval), and its thread is a daemon that ends with the test process.
_server: FakePlatform | None = None


def _shared_server() -> FakePlatform:
    global _server
    if _server is None:
        _server = FakePlatform(
            app_id=django_settings.PLATFORM_APP_ID,
            secrets=list(django_settings.PLATFORM_APP_SECRET),
        )
        _server.start()
    return _server


@pytest.fixture
def fake_platform(settings):
    """Return the fake platform, emptied, knowing our app id and secrets; point the settings
    at it for this test.

    The client gets a short timeout and no retries, so a test never waits on backoff; tests
    make failures explicit with ``fake_platform.fail_next(...)`` or ``slow_next(...)``.
    """
    platform = _shared_server()
    platform.reset()
    settings.PLATFORM_API_BASE = platform.url
    settings.PLATFORM_API_TIMEOUT = 2
    settings.PLATFORM_API_RETRIES = 0
    yield platform
    platform.reset()  # no switched-on failure outlives its test
