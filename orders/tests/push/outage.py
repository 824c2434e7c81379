"""The database out of reach, for the outage tests of every push kind."""

import socket
from contextlib import contextmanager

from django.db import connection


@contextmanager
def database_unreachable():
    """Point the default connection at nothing meanwhile: a closed port, an unopenable file."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-directory/parkingops.sqlite3"
    else:
        with socket.socket() as probe:  # a port nobody listens on: bound, then released
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
