"""The push's one statement, sent three ways: what PostgreSQL and the client spend on each.

    python bench/push_statement.py [--runs 2000]

Takes the statement of one real pay-order push (``receive_push`` on the bench database, with
a wrapper keeping what it executed), then runs it ``--runs`` times on one connection each way,
every run with fresh serials: as Django's default cursor sends it (client-side binding: every
value written into the text as a literal), with the values sent apart (server-side binding),
and with the values sent apart and the statement prepared from its fifth run (what
``orders.push.storing`` does). Wall time and the client's CPU per statement from this process,
the backend's CPU from ``/proc``. Needs the bench database with its whitelisted plate (run
``bench/run.py --only push`` first). Nothing is asserted; the table is for
docs/development.md ("Where a push's time goes").
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def one_statement() -> tuple[str, list]:
    """The SQL and parameters of one accepted pay-order push's write."""
    from django.conf import settings
    from django.db import connection

    from orders.demo import simulator
    from orders.push import services

    settings.PUSH_TIMESTAMP_TOLERANCE = 0
    kept = []

    def keep(execute, sql, params, many, context):
        kept.append((sql, list(params)))
        return execute(sql, params, many, context)

    encoded = simulator.encode_push(run.pay_order_push(0), secret=run.SECRET)
    request = services.PushRequest(
        body=encoded.body, content_type=encoded.content_type, remote_addr="127.0.0.1"
    )
    with connection.execute_wrapper(keep):
        result = services.receive_push(request=request)
    if result.reason != "accepted":
        raise SystemExit(f"the push was not accepted ({result.reason}): run --only push first")
    return next((sql, params) for sql, params in kept if sql.startswith("WITH "))


def backend_cpu(pid: int) -> float:
    """The CPU seconds (user + system) the backend ``pid`` has spent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(make_cursor, sql: str, params: list, runs: int, tag: str) -> tuple[float, ...]:
    """Run the statement ``runs`` times (fresh serials each time); return the wall time, this
    process's CPU and the backend's CPU per statement, in ms."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    serials = [n for n, value in enumerate(params) if str(value).startswith("BENCH")]

    def fresh(k: int) -> list:
        values = list(params)
        for n in serials:
            values[n] = f"{tag}{k}-{n}-{time.time_ns()}"
        return values

    wall, own, backend = time.perf_counter(), time.process_time(), backend_cpu(pid)
    for k in range(runs):
        with make_cursor() as cursor:
            cursor.execute(sql, fresh(k))
    return tuple(
        round(spent / runs * 1000, 3)
        for spent in (
            time.perf_counter() - wall,
            time.process_time() - own,
            backend_cpu(pid) - backend,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    options = parser.parse_args()
    run.django_setup()
    from django.db import connection

    from orders.push.storing import _bound_cursor

    sql, params = one_statement()
    print(f"The pay-order push's statement: {len(sql.encode())} bytes, {len(params)} values.")
    ways = (
        ("as Django sends it (client-side binding)", connection.cursor, None),
        ("values sent apart, planned every time", lambda: _bound_cursor(connection), None),
        ("values sent apart, prepared from the 5th run", lambda: _bound_cursor(connection), 5),
    )
    print("| the same statement | wall per statement | client CPU | backend CPU |")
    print("|---|---|---|---|")
    for label, make_cursor, threshold in ways:
        connection.ensure_connection()
        connection.connection.prepare_threshold = threshold
        figures = measure(make_cursor, sql, params, options.runs, tag=f"W{len(label)}-")
        print(f"| {label} | " + " | ".join(f"{ms} ms" for ms in figures) + " |")


if __name__ == "__main__":
    main()
