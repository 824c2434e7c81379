"""Fixtures for the shared layer's tests."""

import pytest

from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)


@pytest.fixture
def files_in_the_database(settings):
    """The jobs' files kept in the database (FILE_STORAGE=database) for this test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "parkingops.filestore.DatabaseStorage"},
    }
