"""Databases that fail, for the tests of what the application answers then: a server that
accepts connections and never answers, and pointing the default alias elsewhere for a while."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import environ
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend


@contextmanager
def silent_server() -> Iterator[int]:
    """Listen on a free local port, accept every connection and never send a byte; yield
    the port. What a hung database (or a proxy in front of a dead one) looks like."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for peer in accepted:
            peer.close()
        listener.close()


def closed_port() -> int:
    """Return a local port nothing listens on (connecting is refused at once)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def database_url(url: str) -> dict[str, Any]:
    """Return the ``DATABASES`` entry of ``url``, as ``parkingops.env.env_database`` reads it."""
    return environ.Env.db_url_config(url)


@contextmanager
def default_database(config: dict[str, Any]) -> Iterator[None]:
    """Point the default alias at the database ``config`` in this thread for the block; the
    test's own connection (and its transaction) is put back afterwards untouched."""
    original = connections[DEFAULT_DB_ALIAS]
    settings_dict = connections.configure_settings({DEFAULT_DB_ALIAS: config})[DEFAULT_DB_ALIAS]
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield
    finally:
        wrapper.close()
        connections[DEFAULT_DB_ALIAS] = original
