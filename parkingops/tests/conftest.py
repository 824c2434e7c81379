"""Fixtures for the shared layer's tests."""

from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)
