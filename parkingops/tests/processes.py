"""Real processes against the test database, for the tests that need them: gunicorn, a job
worker. The test must be transactional (its rows committed) for them to see its data."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a DATABASE_URL another process can use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    """This process's environment for a child serving the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "parkingops.settings_test",
        "DATABASE_URL": database_url(),
        **extra,
    }


# A worker that first imports the given modules (a test's own job kinds), then runs as
# ``manage.py db_worker`` does.
WORKER = """
import importlib, sys
import django
django.setup()
for module in sys.argv[1:]:
    importlib.import_module(module)
from django.core.management import call_command
call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2")
"""


@contextmanager
def job_worker(*modules: str, **env: str) -> Iterator[subprocess.Popen]:
    """Run a job worker (``db_worker``) in its own process until the block ends; ``modules``
    are imported first (e.g. a test module registering a kind)."""
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", WORKER, *modules],
        cwd=ROOT,
        env=environment(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if worker.stderr:
            worker.stderr.close()


@contextmanager
def gunicorn_process(**env: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """Serve the project with gunicorn and its configuration (parkingops.gunicorn) on a free
    port until the block ends, against the test database; yield the port and gunicorn's
    arbiter process (its workers are the arbiter's children).

    One worker with one thread unless ``env`` says otherwise (``WEB_CONCURRENCY``,
    ``GUNICORN_THREADS``); ``env`` also changes the settings (``DEBUG``, ``CACHE_URL``, ...).
    """
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-m", "gunicorn", "-c", "python:parkingops.gunicorn", "parkingops.wsgi"],
        cwd=ROOT,
        env=environment(
            **{
                "WEB_CONCURRENCY": "1",
                "GUNICORN_THREADS": "1",
                "GUNICORN_ACCESSLOG": "",
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
            }
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    message = server.stderr.read().decode() if server.stderr else ""
                    raise RuntimeError(f"gunicorn did not start: {message}") from None
                time.sleep(0.1)
        yield port, server
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server.stderr:
            server.stderr.close()


@contextmanager
def gunicorn_server(**env: str) -> Iterator[tuple[str, int]]:
    """``gunicorn_process``, yielding the host and port to connect to."""
    with gunicorn_process(**env) as (port, _server):
        yield "127.0.0.1", port
