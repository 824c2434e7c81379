"""The gunicorn configuration (parkingops/gunicorn.py), served for real: keep-alive connections
spread over the workers, each worker listening on a socket of its own beside the shared one."""

import http.client
import os
import subprocess
import time
from pathlib import Path

import pytest

from parkingops.tests.processes import gunicorn_process as gunicorn


def workers(server: subprocess.Popen, port: int, count: int, *, listening: int) -> list[int]:
    """The arbiter's ``count`` worker processes, once each listens on ``listening`` sockets of
    ``port`` (a worker's own socket is opened after it starts, in ``post_worker_init``)."""
    deadline = time.monotonic() + 30
    while True:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        pids = [int(pid) for pid in children]
        ready = len(pids) >= count and held_per_worker(port, pids, "0A") == [listening] * count
        if ready or time.monotonic() > deadline:
            return pids
        time.sleep(0.1)


def sockets_on(port: int, state: str) -> set[str]:
    """The socket inodes on local ``port`` in TCP ``state`` (01 established, 0A listening)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, found, inode = fields[1], fields[3], fields[9]
            if found == state and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def sockets_of(pid: int) -> set[str]:
    """The socket inodes a process holds open."""
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[len("socket:[") : -1])
    return held


def held_per_worker(port: int, pids: list[int], state: str = "01") -> list[int]:
    """How many sockets on ``port`` in ``state`` each worker holds, most first."""
    found = sockets_on(port, state)
    return sorted((len(sockets_of(pid) & found) for pid in pids), reverse=True)


def open_keepalive_connections(port: int, count: int) -> list[http.client.HTTPConnection]:
    """Open ``count`` connections, each answered once and kept alive."""
    opened = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection", "").lower() != "close"
        opened.append(conn)
    return opened


def spread(port: int, pids: list[int], *, connections: int) -> tuple[list[int], list[int]]:
    """Open ``connections`` keep-alive connections; return the connections each worker holds
    and the sockets each listens on."""
    opened = open_keepalive_connections(port, connections)
    try:
        return held_per_worker(port, pids), held_per_worker(port, pids, "0A")
    finally:
        for conn in opened:
            conn.close()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
@pytest.mark.django_db(transaction=True)
def test_keepalive_connections_spread_over_the_workers():
    with gunicorn(WEB_CONCURRENCY="3", GUNICORN_THREADS="2") as (port, server):
        held, listening = spread(port, workers(server, port, 3, listening=2), connections=24)

    assert listening == [2, 2, 2]  # the shared socket and one of its own
    assert sum(held) == 24
    # Each worker's own socket takes about a quarter of new connections (the shared socket the
    # rest): every worker holds some, none nearly all. Without the sockets of their own, the
    # first worker to wake often took every one.
    assert min(held) >= 1
    assert max(held) <= 18


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
@pytest.mark.django_db(transaction=True)
def test_without_reuse_port_the_workers_share_one_socket():
    with gunicorn(WEB_CONCURRENCY="2", GUNICORN_REUSE_PORT="0") as (port, server):
        held, listening = spread(port, workers(server, port, 2, listening=1), connections=4)

    assert sum(held) == 4
    assert listening == [1, 1]  # the arbiter's socket, inherited: none of their own
