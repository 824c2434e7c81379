"""The benchmark suite (``make bench``): one table, every figure beside a same-run baseline.

It builds a fresh PostgreSQL database, serves the product with gunicorn (bench.settings adds
two baseline endpoints), drives it from outside (wrk for every HTTP figure), and writes the
table to bench/RESULTS.md. Nothing here is a test: figures are measured, never asserted.

    python bench/run.py [--orders 1000000] [--push-seconds 8] [--whitelist 100000]
        [--pushlog-per-order 3] [--prune-rows 10000000] [--only dashboard ...]
"""

import argparse
import csv
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Overridable, so two runs (or a run and the test suite) never share a database or a port.
DB_NAME = os.environ.get("BENCH_DB", "parkingops_bench")
PG = "postgres://postgres@127.0.0.1:5432"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
APP_ID = "op00961963581daa7"
SECRET = "bench-secret-5d1c"
PLATE = "川A660P1"

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "PLATFORM_APP_ID": APP_ID,
    "PLATFORM_APP_SECRET": SECRET,
    "PLATFORM_API_BASE": "",
    "PYTHONPATH": str(ROOT),
    "LOG_LEVEL": "WARNING",
    "GUNICORN_ACCESSLOG": "",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    # Plain HTTP on loopback: no TLS redirect (production keeps it on).
    "SECURE_SSL_REDIRECT": "0",
    # Sections 4, 4b and 5 measure the request paths themselves: nothing goes to a job there.
    # Section 6 serves with the real thresholds (JOBS_ENV) beside a job worker.
    "EXPORT_BACKGROUND_ROWS": "1000000000",
    "IMPORT_BACKGROUND_ROWS": "1000000000",
}
JOBS_ENV = {**ENV, "EXPORT_BACKGROUND_ROWS": "20000", "IMPORT_BACKGROUND_ROWS": "2000"}

rows: list[tuple[str, str, str, str]] = []  # (benchmark, figure, baseline, ratio)


def say(text: str) -> None:
    print(text, flush=True)


def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=ENV,
        check=True,
        text=True,
        capture_output=True,
        **kwargs,
    )


def django_setup() -> None:
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(
        ["psql", f"{PG}/{database}", "-qc", sql], check=True, capture_output=True, text=True
    )


def fresh_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")


class Server:
    """gunicorn with the production config file, on the bench port."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env or ENV

    def __enter__(self) -> "Server":
        # The server's output goes to a file: a pipe nobody reads would block it once full.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "python:parkingops.gunicorn", "parkingops.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{BASE}/bench/nodb/", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.2)
        self.log.seek(0)
        output = self.log.read().decode(errors="replace")[-3000:]
        self.__exit__()
        raise RuntimeError("gunicorn did not start:\n" + output)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # A worker still inside a page that outlived the client (its statement runs
                # to the database's limit): gunicorn waits for it; the bench does not.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


def ratio(figure: float, baseline: float) -> str:
    return f"{figure / baseline:.2f}×" if baseline else "—"


# --- 1. push ingest ------------------------------------------------------------------------


def push_bodies(count: int, path: Path, kind: str = "pay", run: str = "") -> None:
    """Write ``count`` signed pushes of ``kind``. Entries and exits of one ``run`` share their
    parking serials: each exit completes the stay its entry opened (the common order)."""
    from orders.demo import simulator

    now_ms = int(time.time() * 1000)
    with path.open("w", encoding="latin-1") as handle:
        for n in range(count):
            if kind == "entry":
                params = simulator.build_entry(
                    app_id=APP_ID, parking_serial=f"BENCH{run}{n:08d}", plate=PLATE
                )
            elif kind == "exit":
                params = simulator.build_exit(
                    app_id=APP_ID,
                    parking_serial=f"BENCH{run}{n:08d}",
                    plate=PLATE,
                    leave_time_ms=now_ms,
                    total_value=1000,
                    free_value=200,
                )
            elif kind == "renewal":
                params = simulator.build_renewal(
                    app_id=APP_ID, pay_serial=f"BENCH{time.time_ns()}{n:08d}", plate=PLATE
                )
            else:
                params = pay_order_push(n)
            encoded = simulator.encode_push(params, secret=SECRET)
            handle.write(f"{encoded.content_type}\t{encoded.body.decode('latin-1')}\n")


def pay_order_push(n: int) -> dict:
    from orders.demo import simulator

    return simulator.build_push(
        app_id=APP_ID,
        pay_serial=f"BENCH{time.time_ns()}{n:08d}",
        plate=PLATE,
        discounts=[
            {
                "type": "1",
                "mobile": "13800138000",
                "relief_amount": "1",
                "relief_value": "200",
            }
        ],
        mcoupons=[
            {
                "coupon_name": "停车券",
                "coupon_code": f"C{n}",
                "store_name": "肯德基",
                "store_code": "KFC01",
                "coupon_type": "1",
                "coupon_value": "500",
                "grant_time": "1618994000000",
                "grant_serial": f"G{n}",
            }
        ],
    )


# wrk (the Debian package) drives every HTTP figure of this section from outside the server:
# C, no GIL, keep-alive connections, one thread (enough for thousands of requests a second,
# and it leaves the cores to the server). BENCH_WRK_CPU pins it (taskset) to those CPUs.
WRK_CPU = os.environ.get("BENCH_WRK_CPU", "")
# Pushes a pool must hold per second of a round: more than any round reaches here, so no push
# is sent twice (the pool script says "wrapped" if one was).
POOL_PER_SECOND = 2500


def wrk_command() -> list[str]:
    """wrk, pinned to BENCH_WRK_CPU when set; stop with how to install it when missing."""
    if shutil.which("wrk") is None:
        raise SystemExit(
            "make bench needs wrk to drive the HTTP benchmarks: apt-get install wrk "
            "(Debian/Ubuntu; see docs/development.md)."
        )
    return (["taskset", "-c", WRK_CPU] if WRK_CPU else []) + ["wrk"]


def database_backends() -> list[int]:
    """The PostgreSQL backends serving the bench database (but this process's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def worker_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each process's CPU time so far (user + system), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def connections_per_worker(pids: list[int]) -> dict[int, int]:
    """How many established connections to the bench port each worker holds right now
    (``ss``, from iproute2; without it, none are counted)."""
    if shutil.which("ss") is None:
        return dict.fromkeys(pids, 0)
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{PORT} )"],
        capture_output=True,
        text=True,
    ).stdout
    held = dict.fromkeys(pids, 0)
    for pid in pids:
        held[pid] = out.count(f"pid={pid},")
    return held


def load(server: Server, path: str, pool: Path, concurrency: int, seconds: int) -> dict:
    """Drive ``path`` with wrk at ``concurrency`` keep-alive connections for ``seconds``, the
    requests taken from ``pool``; return wrk's figures and how the work spread over the
    workers (connections each held halfway through, and CPU seconds each spent)."""
    pids = server.worker_pids()
    cpu_before = worker_cpu_seconds(pids)
    database_before = worker_cpu_seconds(database_backends())
    process = subprocess.Popen(
        [
            *wrk_command(),
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "pool.lua"),
            BASE + path,
            "--",
            str(pool),
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(seconds / 2)
    held = connections_per_worker(pids)
    out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed: {err or out}")
    cpu_after = worker_cpu_seconds(pids)
    database_after = worker_cpu_seconds(database_backends())
    result = json.loads(out.strip().splitlines()[-1])
    # CPU per request, the server's and the database's: what a quiet machine's throughput
    # follows, and far steadier than throughput on a machine other work shares.
    served = max(result["requests"], 1)
    result["worker_ms"] = round(
        sum(cpu_after[pid] - cpu_before.get(pid, 0) for pid in cpu_after) * 1000 / served, 3
    )
    result["database_ms"] = round(
        sum(database_after[pid] - database_before.get(pid, 0) for pid in database_after)
        * 1000
        / served,
        3,
    )
    result["connections"] = sorted(held.values(), reverse=True)
    result["worker_cpu_s"] = sorted(
        (round(cpu_after.get(pid, 0) - cpu_before.get(pid, 0), 1) for pid in pids), reverse=True
    )
    return result


def cpu_ms(result: dict) -> float:
    return result["worker_ms"] + result["database_ms"]


def cpu(result: dict) -> str:
    """CPU per request: the workers' plus the database's."""
    return f"CPU {cpu_ms(result):.2f} ms/request ({result['database_ms']:.2f} in PostgreSQL)"


def spread(result: dict) -> str:
    """The spread over the workers, for the output: connections held, CPU seconds spent."""
    connections = "/".join(str(n) for n in result["connections"])
    cpu = "/".join(f"{s:g}" for s in result["worker_cpu_s"])
    return f"connections per worker {connections}, worker CPU s {cpu}"


# Issue 15's targets for every kind of push, against the same run's one-row insert: the
# throughput at each concurrency, and the 99th percentile at 16 connections.
PUSH_TARGET = 0.6
PUSH_TARGET_P99_MS = 50


def push_verdict(push: dict, insert: dict, concurrency: int) -> str:
    """Whether ``push`` met its targets, for the table (the insert's p99 beside the push's)."""
    met = {True: "met", False: "missed"}
    said = [f"≥ {PUSH_TARGET}× {met[push['per_second'] >= PUSH_TARGET * insert['per_second']]}"]
    if concurrency == 16:
        said.append(
            f"p99 < {PUSH_TARGET_P99_MS} ms {met[push['p99_ms'] < PUSH_TARGET_P99_MS]} "
            f"(the insert's own p99 {insert['p99_ms']} ms)"
        )
    return "target " + ", ".join(said)


# Every kind of push, measured the same way against the same baselines (the same target).
PUSH_KINDS = (
    ("push", "pay", "/api/v1/push/pay-orders/"),
    ("entry push", "entry", "/api/v1/push/entries/"),
    ("exit push", "exit", "/api/v1/push/exits/"),
    ("renewal push", "renewal", "/api/v1/push/renewals/"),
)


def bench_push(seconds: int) -> None:
    from whitelist.models import WhitelistEntry

    WhitelistEntry.objects.get_or_create(plate=PLATE, park_uuid="")
    # Logging at INFO as production does: each push's JSON line is part of its cost.
    with tempfile.TemporaryDirectory() as tmp, Server({**ENV, "LOG_LEVEL": "INFO"}) as server:
        baseline_pool = Path(tmp) / "baseline.txt"
        push_bodies(2000, baseline_pool)
        # Every worker builds what it builds once (imports, serializers) before any figure.
        warm = Path(tmp) / "warm.txt"
        push_bodies(2000, warm, run="warm")
        load(server, "/api/v1/push/pay-orders/", warm, 16, 2)
        for concurrency in (16, 64):
            results = {}
            for name, path in (
                ("no-db view", "/bench/nodb/"),
                ("one-row insert", "/bench/insert/"),
            ):
                results[name] = load(server, path, baseline_pool, concurrency, seconds)
                say(f"  c={concurrency} {name}: {results[name]}")
            insert, nodb = results["one-row insert"], results["no-db view"]
            for name, kind, path in PUSH_KINDS:
                pool = Path(tmp) / f"{kind}-{concurrency}.txt"
                push_bodies(POOL_PER_SECOND * seconds, pool, kind, run=str(concurrency))
                push = load(server, path, pool, concurrency, seconds)
                say(f"  c={concurrency} {name}: {push}")
                label = "push ingest" if kind == "pay" else name
                rows.append(
                    (
                        f"{label} c={concurrency}",
                        f"{push['per_second']:.0f}/s, p50 {push['p50_ms']} ms, "
                        f"p99 {push['p99_ms']} ms; {cpu(push)}; {spread(push)}",
                        f"insert {insert['per_second']:.0f}/s (p99 {insert['p99_ms']} ms; "
                        f"{cpu(insert)}); no-db {nodb['per_second']:.0f}/s ({cpu(nodb)})",
                        f"{ratio(push['per_second'], insert['per_second'])} of insert, "
                        f"{ratio(insert['per_second'], nodb['per_second'])} insert/no-db; "
                        f"CPU {ratio(cpu_ms(insert), cpu_ms(push))} of insert's rate; "
                        f"{push_verdict(push, insert, concurrency)}",
                    )
                )
                bad = {
                    answer: count
                    for answer, count in push["answers"].items()
                    if answer != "200 accepted"
                }
                if bad or push["socket_errors"] or push["wrapped"]:
                    say(
                        f"  {name}: other answers {bad}, socket errors "
                        f"{push['socket_errors']}, pool wrapped {push['wrapped']}"
                    )


# --- 2. dataset ------------------------------------------------------------------------------


def seed_target(orders: int) -> float:
    """The dataset's target: 3 minutes for a million orders, 10 for ten million (issue 15)."""
    return 600.0 if orders > 1_000_000 else 180.0


def bench_dataset(orders: int, pushlog_per_order: int) -> None:
    """Every table of the dataset (orders, discounts, coupons, stays, renewals, the push log,
    reconciliation runs, the daily rollup) by ``seed_bulk``, indexes built and vacuumed."""
    started = time.monotonic()
    out = manage(
        "seed_bulk", "--orders", str(orders), "--pushlog-per-order", str(pushlog_per_order)
    ).stdout.strip()
    seconds = time.monotonic() - started
    say(f"  {out}")
    target = seed_target(orders)
    rows.append(
        (
            f"seed_bulk --orders {orders} --pushlog-per-order {pushlog_per_order}",
            f"{seconds:.0f} s",
            f"target {target:.0f} s",
            ratio(seconds, target),
        )
    )


# --- 3. admin ----------------------------------------------------------------------------------


def session_cookie() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def timed_get(path: str, cookie: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs + 1):  # the first run warms caches and is not counted
        request = urllib.request.Request(
            BASE + quote(path, safe="/?=&"), headers={"Cookie": f"sessionid={cookie}"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def admin_pages() -> dict[str, str]:
    """Every admin page of issue 15's list, on the dataset: each list's first page, the
    searches and filters, an order's page, the daily summary and statements of a month."""
    from django.utils import timezone

    from orders.models import PayOrder
    from parkingops.formatting import CHINA
    from whitelist.models import WhitelistEntry

    sample = PayOrder.objects.filter(pay_serial__startswith="BULK").order_by("id")[500]
    # The last whole month (China time): a month every dataset of a month or more fills.
    first_of_this = timezone.now().astimezone(CHINA).date().replace(day=1)
    last = first_of_this - timedelta(days=1)
    first = last.replace(day=1)
    month = {"from": first.isoformat(), "to": last.isoformat()}
    holder = WhitelistEntry.objects.exclude(holder="").order_by("holder").first().holder
    return {
        "order list, first page": "/admin/orders/payorder/",
        "whole-plate search": f"/admin/orders/payorder/?q={sample.plate}",
        "last-digits plate search": f"/admin/orders/payorder/?q={sample.plate[-5:]}",
        "park + month": (
            f"/admin/orders/payorder/?park={sample.park.park_uuid}"
            f"&pay_date_from={month['from']}&pay_date_to={month['to']}"
        ),
        "order detail": f"/admin/orders/payorder/{sample.pk}/change/",
        "coupon list, first page": "/admin/orders/merchantcoupon/",
        "stay list, first page": "/admin/orders/stay/",
        "renewal list, first page": "/admin/orders/renewal/",
        "push log, first page": "/admin/orders/pushlog/",
        "reconciliation runs, first page": "/admin/orders/reconciliationrun/",
        "reconciliation differences, first page": "/admin/orders/reconciliationitem/",
        "whitelist list, first page": "/admin/whitelist/whitelistentry/",
        "park list, first page": "/admin/whitelist/park/",
        "daily summary, a month": (
            f"/admin/orders/summary/daily/?from={month['from']}&to={month['to']}"
        ),
        "statement, a month, one holder": (
            f"/admin/orders/statement/?month={first:%Y-%m}&holder={holder}"
        ),
        "statement, a month, every holder": f"/admin/orders/statement/?month={first:%Y-%m}",
    }


def bench_admin(orders: int) -> None:
    cookie = session_cookie()
    pages = admin_pages()
    size = f"{orders / 1e6:g}M"
    with Server():
        # The orders app's index: the app list the home page was before its dashboard.
        baseline = timed_get("/admin/orders/", cookie)
        for name, path in pages.items():
            try:
                ms = timed_get(path, cookie)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                # Past gunicorn's timeout the worker is killed: the page has no figure.
                say(f"  {name}: no answer ({error})")
                rows.append((f"admin {size}: {name}", "no answer in 60 s", "target 200 ms", "—"))
                continue
            say(f"  {name}: {ms:.0f} ms (orders app index {baseline:.0f} ms)")
            rows.append(
                (
                    f"admin {size}: {name}",
                    f"{ms:.0f} ms (median of 5)",
                    f"orders app index {baseline:.0f} ms; target 200 ms",
                    ratio(ms, baseline),
                )
            )


# --- 4. export ---------------------------------------------------------------------------------


def peak_rss_mb(pids: list[int], stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        for pid in pids:
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kb = int(
                next(line.split()[1] for line in text.splitlines() if line.startswith("VmRSS"))
            )
            peak[0] = max(peak[0], kb / 1024)
        time.sleep(0.05)


# The bare baseline: the order CSV's sixteen columns, raw (fen, timestamps as PostgreSQL prints
# them, mobiles whole, no formula escaping, no NULLIF), from the same joins and totals as the
# export's COPY, in the same order. What the export adds to it is the formatting and the trip.
BARE_EXPORT_SQL = (
    "COPY (SELECT o.pay_serial, o.parking_serial, p.park_uuid, p.name, o.plate, o.pay_time,"
    " o.pay_value, o.pay_value, o.channel, o.identity, d.relief, d.mobiles, c.coupons,"
    " c.coupon_value, o.received_at, ch.name"
    " FROM orders_payorder o JOIN orders_park p ON p.id = o.park_id"
    " LEFT JOIN (SELECT order_id, SUM(relief_value) AS relief, string_agg(mobile, ';'"
    " ORDER BY id) FILTER (WHERE mobile <> '') AS mobiles FROM orders_discount"
    " GROUP BY order_id) d ON d.order_id = o.id"
    " LEFT JOIN (SELECT order_id, COUNT(*) AS coupons, SUM(coupon_value) FILTER"
    " (WHERE coupon_type = 1) AS coupon_value FROM orders_merchantcoupon"
    " GROUP BY order_id) c ON c.order_id = o.id"
    " LEFT JOIN orders_channel ch ON ch.code = o.channel"
    " ORDER BY o.pay_time DESC, o.id DESC) TO STDOUT (FORMAT csv)"
)

# The earlier baseline, kept so the figures stay comparable: the order's own columns and its
# park, raw (no totals, no channel names).
ORDER_COLUMNS_COPY_SQL = (
    "COPY (SELECT o.pay_serial, o.parking_serial, p.park_uuid, p.name, o.plate, o.pay_time,"
    " o.pay_value, o.channel, o.identity, o.received_at FROM orders_payorder o"
    " JOIN orders_park p ON p.id = o.park_id ORDER BY o.pay_time DESC) TO STDOUT WITH CSV HEADER"
)


def copy_rows(sql: str) -> tuple[int, float]:
    """Run a ``COPY … TO STDOUT`` here through psycopg's copy, reading every row message as the
    export does; return the rows read (header included) and the seconds taken."""
    from django.db import connection

    started = time.perf_counter()
    copied = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for _row in copy:  # one message per row
            copied += 1
    return copied, time.perf_counter() - started


def export_in_process() -> tuple[int, float]:
    """Write the order CSV of every order here, as a superuser's download writes it (the
    COPY's own statement and reading, no HTTP); return the rows and the seconds taken."""
    from orders.exports.orders import orders_csv
    from orders.models import PayOrder

    started = time.perf_counter()
    lines = 0
    for piece in orders_csv(PayOrder.objects.all(), unmask=True):
        lines += piece.count("\n")
    return lines - 1, time.perf_counter() - started


def export_over_http(cookie: str, pids: list[int], peak: list[float]) -> tuple[int, float]:
    """Download the order CSV of every order as a superuser does, watching the workers' memory;
    return the rows (header left out) and the seconds taken."""
    stop = threading.Event()
    watcher = threading.Thread(target=peak_rss_mb, args=(pids, stop, peak))
    watcher.start()
    request = urllib.request.Request(
        BASE + "/admin/orders/payorder/export/", headers={"Cookie": f"sessionid={cookie}"}
    )
    started = time.perf_counter()
    lines = 0
    with urllib.request.urlopen(request, timeout=900) as response:
        # Read in large pieces, as a browser saves a file: counting the lines one by one in
        # Python would take a core's time from the server beside it.
        while piece := response.read(1 << 20):
            lines += piece.count(b"\n")
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    return lines - 1, seconds


# Each figure is the fastest of this many runs, taken in turn: the machine may be shared.
EXPORT_ROUNDS = 2


def bench_export() -> None:
    cookie = session_cookie()
    peak = [0.0]
    runs: dict[str, list[tuple[int, float]]] = {"http": [], "process": [], "bare": [], "own": []}
    with Server() as server:
        pids = server.worker_pids()
        for _ in range(EXPORT_ROUNDS):
            runs["http"].append(export_over_http(cookie, pids, peak))
            runs["process"].append(export_in_process())
            runs["bare"].append(copy_rows(BARE_EXPORT_SQL))
            copied, seconds = copy_rows(ORDER_COLUMNS_COPY_SQL)
            runs["own"].append((copied - 1, seconds))  # the header
    for name, measured in runs.items():
        say(f"  {name}: " + ", ".join(f"{count} rows in {s:.1f} s" for count, s in measured))
    rate = {name: max(count / s for count, s in measured) for name, measured in runs.items()}
    say(f"  peak worker RSS {peak[0]:.0f} MB")
    rows.append(
        (
            "order CSV export, 1M rows (admin, HTTP)",
            f"{rate['http']:,.0f} rows/s, peak {peak[0]:.0f} MB",
            f"bare COPY, the 16 columns raw, {rate['bare']:,.0f} rows/s; target ≥ 50 %, < 150 MB",
            ratio(rate["http"], rate["bare"]),
        )
    )
    rows.append(
        (
            "order CSV export, 1M rows (admin, HTTP)",
            f"{rate['http']:,.0f} rows/s",
            f"COPY of the order's own columns and park, raw, {rate['own']:,.0f} rows/s",
            ratio(rate["http"], rate["own"]),
        )
    )
    rows.append(
        (
            "order CSV export, 1M rows (in process, no HTTP)",
            f"{rate['process']:,.0f} rows/s",
            f"bare COPY {rate['bare']:,.0f} rows/s",
            ratio(rate["process"], rate["bare"]),
        )
    )


# --- 4b. the order XLSX ----------------------------------------------------------------------


def bare_xlsx(rows) -> int:
    """Write ``rows`` (the order XLSX's rows, as its writer reads them) with XlsxWriter alone:
    the same cells, types and formats in constant_memory mode, nothing else. The baseline."""
    import xlsxwriter

    from orders.exports.columns import ORDER_COLUMNS
    from parkingops.formatting import CHINA

    with tempfile.TemporaryFile() as file:
        book = xlsxwriter.Workbook(file, {"constant_memory": True})
        sheet = book.add_worksheet()
        text = book.add_format({"num_format": "@"})
        yuan = book.add_format({"num_format": "#,##0.00"})
        whole = book.add_format({"num_format": "0"})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for col, column in enumerate(ORDER_COLUMNS):
            sheet.write_string(0, col, column.source)
        count = 0
        for count, row in enumerate(rows, start=1):
            sheet.write_string(count, 0, row["pay_serial"], text)
            sheet.write_string(count, 1, row["parking_serial"], text)
            sheet.write_string(count, 2, row["park__park_uuid"], text)
            sheet.write_string(count, 3, row["park__name"], text)
            sheet.write_string(count, 4, row["plate"], text)
            sheet.write_datetime(
                count, 5, row["pay_time"].astimezone(CHINA).replace(tzinfo=None), when
            )
            sheet.write_number(count, 6, row["pay_value"] / 100, yuan)
            sheet.write_number(count, 7, row["pay_value"], whole)
            sheet.write_string(count, 8, row["channel"], text)
            if row["identity"]:
                sheet.write_string(count, 9, row["identity"], text)
            sheet.write_number(count, 10, row["relief"] / 100, yuan)
            if row["mobiles"]:
                sheet.write_string(count, 11, row["mobiles"], text)
            sheet.write_number(count, 12, row["coupons"], whole)
            sheet.write_number(count, 13, row["coupon_value"], whole)
            sheet.write_datetime(
                count, 14, row["received_at"].astimezone(CHINA).replace(tzinfo=None), when
            )
        book.close()
    return count


def bench_xlsx() -> None:
    """The order XLSX of every order: through the admin (gunicorn, its worker's peak memory)
    and in this process, against the bare writer on the same rows read the same way."""
    from django.utils import timezone

    from orders import channels
    from orders.exports.orders import _order_rows, orders_xlsx
    from orders.models import PayOrder
    from parkingops import xlsx

    orders = PayOrder.objects.order_by("-pay_time", "-pk")
    count = orders.count()
    if count + 1 > xlsx.MAX_ROWS:
        say(f"  {count} orders do not fit in a sheet: the XLSX bench needs --orders < 1048576")
        return
    cookie = session_cookie()
    with Server() as server:
        stop, peak = threading.Event(), [0.0]
        watcher = threading.Thread(target=peak_rss_mb, args=(server.worker_pids(), stop, peak))
        watcher.start()
        request = urllib.request.Request(
            BASE + "/admin/orders/payorder/export/xlsx/", headers={"Cookie": f"sessionid={cookie}"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=1800) as response:
            size = len(response.read())
        http_seconds = time.perf_counter() - started
        stop.set()
        watcher.join()

    started = time.perf_counter()
    with orders_xlsx(orders, about=xlsx.About("bench", timezone.now())):
        pass
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    written = bare_xlsx(_order_rows(orders, channels.channel_names(), unmask=False))
    bare_seconds = time.perf_counter() - started
    assert written == count
    http_rate, ours_rate, bare_rate = (
        count / http_seconds,
        count / ours_seconds,
        count / bare_seconds,
    )
    say(
        f"  XLSX of {count} orders ({size / 1e6:.0f} MB): admin {http_seconds:.1f} s, peak worker"
        f" RSS {peak[0]:.0f} MB; in process {ours_seconds:.1f} s; bare writer {bare_seconds:.1f} s"
    )
    rows.append(
        (
            f"order XLSX export, {count:,} rows (in process)",
            f"{ours_rate:,.0f} rows/s",
            f"bare XlsxWriter, same rows {bare_rate:,.0f} rows/s; target ≥ 80 %",
            ratio(ours_rate, bare_rate),
        )
    )
    rows.append(
        (
            f"order XLSX export, {count:,} rows (admin)",
            f"{http_rate:,.0f} rows/s, peak {peak[0]:.0f} MB",
            f"bare XlsxWriter {bare_rate:,.0f} rows/s; target < 150 MB",
            ratio(http_rate, bare_rate),
        )
    )


# --- 5. whitelist ------------------------------------------------------------------------------


def bench_whitelist(count: int) -> None:
    from django.db import connection, transaction

    from whitelist.models import WhitelistEntry
    from whitelist.selectors import find_valid_entry
    from whitelist.services import importing

    now = datetime.now(UTC)
    half = count // 2
    plates = [f"沪B{n:05d}" for n in range(half)] + [f"沪C{n:05d}" for n in range(count - half)]

    # Import a file of `count` new rows as the admin's import does, against
    # bulk_create of the same rows (the least work that stores them).
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"])
    for plate in plates:
        writer.writerow([plate, "", "2026-01-01 00:00:00", "", "1", "压测", ""])
    data = buffer.getvalue().encode()
    bench_import_preview(data, count)
    started = time.perf_counter()
    result = importing.import_file(data=data, file_name="bench.csv")
    import_seconds = time.perf_counter() - started
    say(f"  import {count} rows: {import_seconds:.1f} s ({len(result.rows)} rows)")

    # The push's check with the table at 100k+ entries, against a primary-key lookup.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE whitelist_whitelistentry")
    entries = WhitelistEntry.objects.count()
    probe = find_valid_entry  # the function the push calls
    queryset_sql = (
        "EXPLAIN SELECT * FROM whitelist_whitelistentry WHERE plate = %s AND is_active "
        "AND valid_from <= %s AND (valid_until IS NULL OR valid_until > %s) "
        "AND (park_uuid = '' OR park_uuid = %s) LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(queryset_sql, [plates[7], now, now, "x"])
        plan = " ".join(row[0] for row in cursor.fetchall())
    started = time.perf_counter()
    for plate in plates[:2000]:
        probe(plate=plate, park_uuid="p", at=now)
    check_ms = (time.perf_counter() - started) / 2000 * 1000
    first = WhitelistEntry.objects.order_by("pk").first()
    started = time.perf_counter()
    for _ in range(2000):
        WhitelistEntry.objects.filter(pk=first.pk).first()
    pk_ms = (time.perf_counter() - started) / 2000 * 1000
    scan = "index scan" if "Index" in plan else "NO INDEX: " + plan[:80]
    rows.append(
        (
            f"whitelist check, {entries:,} entries",
            f"{check_ms:.2f} ms/check, {scan}",
            f"pk lookup {pk_ms:.2f} ms",
            ratio(check_ms, pk_ms),
        )
    )

    # Clearing the imported rows is set-up, not a figure: plain SQL, no per-row history.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM whitelist_whitelistentry WHERE holder = %s", ["压测"])
    started = time.perf_counter()
    with transaction.atomic():
        WhitelistEntry.objects.bulk_create(
            [WhitelistEntry(plate=plate, valid_from=now, holder="压测") for plate in plates],
            batch_size=5000,
        )
    bulk_seconds = time.perf_counter() - started
    rows.append(
        (
            f"whitelist import, {count:,} rows",
            f"{import_seconds:.1f} s",
            f"bulk_create {bulk_seconds:.1f} s; target 60 s",
            ratio(import_seconds, bulk_seconds),
        )
    )


def worker_rss_mb(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids:
        text = Path(f"/proc/{pid}/status").read_text()
        kb = next(line.split()[1] for line in text.splitlines() if line.startswith("VmRSS"))
        sizes.append(int(kb) / 1024)
    return sizes


def bench_import_preview(data: bytes, count: int) -> None:
    """The admin's import preview of the file over HTTP: the page's size, the time, the
    workers' memory at the peak and after, against an idle worker."""
    url = BASE + "/admin/whitelist/whitelistentry/import/"
    cookie = session_cookie()
    with Server() as server:
        pids = server.worker_pids()
        form = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
        with urllib.request.urlopen(form, timeout=60) as response:
            response.read()
            cookies = "; ".join(response.headers.get_all("Set-Cookie") or [])
            csrf = cookies.split("csrftoken=")[1].split(";")[0]
        idle = max(worker_rss_mb(pids))
        boundary = "bench-import-boundary"
        boundary_line = f"--{boundary}\r\nContent-Disposition: form-data; "
        body = (
            (
                f'{boundary_line}name="csrfmiddlewaretoken"\r\n\r\n{csrf}\r\n'
                f'{boundary_line}name="import_file"; filename="bench.csv"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Cookie": f"sessionid={cookie}; csrftoken={csrf}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        stop, peak = threading.Event(), [0.0]
        watcher = threading.Thread(target=peak_rss_mb, args=(pids, stop, peak))
        watcher.start()
        started = time.perf_counter()
        request = urllib.request.Request(url, data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=900) as response:
            page = response.read()
        seconds = time.perf_counter() - started
        stop.set()
        watcher.join()
        after = max(worker_rss_mb(pids))
        second = urllib.request.Request(url + "?page=2", headers={"Cookie": f"sessionid={cookie}"})
        started = time.perf_counter()
        with urllib.request.urlopen(second, timeout=900) as response:
            response.read()
        page_seconds = time.perf_counter() - started
    if f"新增 {count} 条".encode() not in page:  # the server speaks Chinese by default
        raise RuntimeError("the preview does not show the file's count:\n" + page.decode()[-2000:])
    say(
        f"  preview {count} rows: {seconds:.1f} s, page {len(page) / 1024:.0f} KB, page 2 "
        f"{page_seconds:.1f} s; worker RSS idle {idle:.0f} MB, peak {peak[0]:.0f} MB, "
        f"after {after:.0f} MB"
    )
    rows.append(
        (
            f"whitelist import preview, {count:,} rows",
            f"{seconds:.1f} s (page 2: {page_seconds * 1000:.0f} ms), page "
            f"{len(page) / 1024:.0f} KB; worker peak {peak[0]:.0f} MB, {after:.0f} MB after",
            f"idle worker {idle:.0f} MB; target page < 200 KB",
            ratio(peak[0], idle),
        )
    )


# --- 6. background jobs ----------------------------------------------------------------------


class Worker:
    """A job worker (``manage.py db_worker``) beside the server, as production runs one."""

    def __enter__(self) -> "Worker":
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"],
            cwd=ROOT,
            env=JOBS_ENV,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=600)
        self.log.close()


class Responsiveness:
    """Times a page every ``every`` seconds in a thread while a job runs: is the site still
    answering? ``ms()`` gives the median and the 95th percentile."""

    def __init__(self, path: str, cookie: str, every: float = 0.25) -> None:
        self.path, self.cookie, self.every = path, cookie, every
        self.times: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            request = urllib.request.Request(
                BASE + self.path, headers={"Cookie": f"sessionid={self.cookie}"}
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
            self.times.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> "Responsiveness":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def ms(self) -> tuple[float, float]:
        ordered = sorted(self.times)
        return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_job(request: urllib.request.Request) -> str:
    """Send ``request`` (which answers with a redirect to the job's page); return the job id."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=600)
    except urllib.error.HTTPError as answer:
        if answer.code == 302 and "/admin/parkingops/job/" in answer.headers["Location"]:
            return answer.headers["Location"].rstrip("/").split("/")[-2]
        where = answer.headers.get("Location")
        raise RuntimeError(f"no job started: {answer.code} to {where}") from answer
    raise RuntimeError("no job started: the request answered at once")


def follow_job(job_id: str, cookie: str) -> dict:
    """Poll the job's status as its page does until it ends; return the last status with the
    number of distinct progress values seen and the seconds it took."""
    url = f"{BASE}/admin/parkingops/job/status/?id={job_id}"
    seen, started = set(), time.perf_counter()
    while True:
        request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            (status,) = json.loads(response.read())["jobs"]
        seen.add((status["stage"], status["done"]))
        if status["finished"]:
            break
        time.sleep(0.5)
    if status["state"] != "succeeded":
        raise RuntimeError(f"job {job_id} ended {status['state']}")
    return {**status, "updates": len(seen), "seconds": time.perf_counter() - started}


def csrf_token(cookie: str, path: str) -> str:
    request = urllib.request.Request(BASE + path, headers={"Cookie": f"sessionid={cookie}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        page = response.read().decode()
        cookies = "; ".join(response.headers.get_all("Set-Cookie") or [])
    if "csrftoken=" in cookies:
        return cookies.split("csrftoken=")[1].split(";")[0]
    return page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def multipart(fields: dict[str, str], file_field: str, name: str, data: bytes) -> tuple:
    boundary = "bench-jobs-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    ]
    head = (
        "".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def bench_jobs(import_rows: int) -> None:
    """The issue's yardsticks, through the admin as a clerk uses it, with a job worker beside
    gunicorn: a whitelist import of ``import_rows`` rows (preview, then confirm) and the 1M-order
    XLSX export run as jobs; the site's answer time while they run, against the same page idle."""
    cookie = session_cookie()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"])
    for n in range(import_rows):  # 苏E00000 … 苏E99999, then 苏F00000 …
        plate = f"苏{'EFGHJK'[n // 100_000]}{n % 100_000:05d}"
        writer.writerow([plate, "", "2026-01-01 00:00:00", "", "1", "后台压测", ""])
    data = buffer.getvalue().encode()
    probe = "/admin/whitelist/whitelistentry/?q=苏E00123"
    probe = quote(probe, safe="/?=&")
    with Server(JOBS_ENV), Worker():
        idle = Responsiveness(probe, cookie)
        with idle:
            time.sleep(10)
        idle_median, idle_p95 = idle.ms()
        say(f"  idle page: median {idle_median:.0f} ms, p95 {idle_p95:.0f} ms")

        # The import: upload (a job previews it), then confirm on the preview's page.
        page = "/admin/whitelist/whitelistentry/import/"
        token = csrf_token(cookie, page)
        body, content_type = multipart(
            {"csrfmiddlewaretoken": token}, "import_file", "bench.csv", data
        )
        headers = {"Cookie": f"sessionid={cookie}; csrftoken={token}", "Content-Type": content_type}
        busy = Responsiveness(probe, cookie)
        with busy:
            preview_id = start_job(urllib.request.Request(BASE + page, data=body, headers=headers))
            preview = follow_job(preview_id, cookie)
            confirm_page = f"{page}job/{preview_id}/"
            token = csrf_token(cookie, confirm_page)
            confirm = urllib.request.Request(
                BASE + confirm_page,
                data=f"csrfmiddlewaretoken={token}".encode(),
                headers={
                    "Cookie": f"sessionid={cookie}; csrftoken={token}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": BASE + confirm_page,
                },
            )
            imported = follow_job(start_job(confirm), cookie)
        median, p95 = busy.ms()
        say(
            f"  import {import_rows} rows: preview {preview['seconds']:.0f} s "
            f"({preview['updates']} progress updates), import {imported['seconds']:.0f} s "
            f"({imported['updates']} updates); page meanwhile median {median:.0f} ms, "
            f"p95 {p95:.0f} ms"
        )
        rows.append(
            (
                f"whitelist import as jobs, {import_rows:,} rows",
                f"preview {preview['seconds']:.0f} s + import {imported['seconds']:.0f} s, "
                f"{preview['updates'] + imported['updates']} bar updates; list page p95 "
                f"{p95:.0f} ms meanwhile",
                f"same page idle p95 {idle_p95:.0f} ms",
                ratio(p95, idle_p95),
            )
        )

        # The export: every order (1M with the dataset) as XLSX.
        busy = Responsiveness(probe, cookie)
        with busy:
            export_id = start_job(
                urllib.request.Request(
                    BASE + "/admin/orders/payorder/export/xlsx/",
                    headers={"Cookie": f"sessionid={cookie}"},
                )
            )
            exported = follow_job(export_id, cookie)
        median, p95 = busy.ms()
        download = urllib.request.Request(
            f"{BASE}/admin/parkingops/job/{export_id}/download/",
            headers={"Cookie": f"sessionid={cookie}"},
        )
        size = 0
        with urllib.request.urlopen(download, timeout=600) as response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
        say(
            f"  XLSX export {exported['total']} rows: {exported['seconds']:.0f} s "
            f"({exported['updates']} updates), file {size / 1e6:.0f} MB; page meanwhile median "
            f"{median:.0f} ms, p95 {p95:.0f} ms"
        )
        rows.append(
            (
                f"order XLSX as a job, {exported['total']:,} rows",
                f"{exported['seconds']:.0f} s, {exported['updates']} bar updates, "
                f"{size / 1e6:.0f} MB; list page p95 {p95:.0f} ms meanwhile",
                f"same page idle p95 {idle_p95:.0f} ms",
                ratio(p95, idle_p95),
            )
        )


# --- 7. the home page's dashboard ------------------------------------------------------------


def bench_dashboard() -> None:
    """The admin's home page with every section (a superuser), on the dataset (its orders,
    push log and stays, ``seed_bulk``'s), against the orders app's index (the app list and the
    reports module, the home page before the dashboard)."""
    from django.utils import timezone

    from orders.dashboard import selectors
    from orders.models import PayOrder, PushLog
    from parkingops.queries import estimate_count

    orders = estimate_count(PayOrder.objects.all())
    logged = estimate_count(PushLog.objects.all())
    # Each section's reads in this process, to see where the page's time goes.
    now = timezone.now()
    parts = {}
    for name in (
        "finance_figures",
        "push_figures",
        "refused_plates",
        "silent_parks",
        "whitelist_figures",
        "stay_figures",
    ):
        times = []
        for _ in range(4):
            started = time.perf_counter()
            getattr(selectors, name)(now=now)
            times.append((time.perf_counter() - started) * 1000)
        parts[name] = statistics.median(times[1:])
        say(f"  {name}: {parts[name]:.0f} ms")
    cookie = session_cookie()
    with Server():
        baseline = timed_get("/admin/orders/", cookie)
        ms = timed_get("/admin/", cookie)
    say(f"  dashboard: {ms:.0f} ms (orders app index {baseline:.0f} ms)")
    slowest = max(parts, key=parts.get)
    rows.append(
        (
            f"dashboard (superuser), {orders / 1e6:.0f}M orders, {logged / 1e6:.0f}M push-log rows",
            f"{ms:.0f} ms (median of 5); slowest part {slowest} {parts[slowest]:.0f} ms",
            f"orders app index {baseline:.0f} ms; target 200 ms",
            ratio(ms, baseline),
        )
    )


# --- 8. pruning the push log -----------------------------------------------------------------


def bench_prune(count: int) -> None:
    """Prune ``count`` push-log rows of one month past the retention (on PostgreSQL a whole
    partition, orders/push/partitions.py) while a thread inserts log rows as pushes do, each
    timed; against the same prune with that month empty."""
    import psycopg
    from django.db import connection

    from orders.push import partitions
    from orders.push.services import prune_push_log

    old = partitions.add_months(partitions.month_start(datetime.now(UTC)), -15)
    partitions.ensure_partitions(since=old)
    started = time.monotonic()
    prune_push_log(retention_months=13)
    baseline = time.monotonic() - started
    partitions.ensure_partitions(since=old)
    started = time.monotonic()
    psql(
        "SET statement_timeout = 0; "
        "INSERT INTO orders_pushlog (received_at, remote_addr, content_type, body, "
        '"authorization", code, reason, message, app_id, pay_serial, plate, duration_ms, '
        "field_path, refusal, refusal_park, kind) "
        f"SELECT '{old.isoformat()}'::timestamptz + n::float8 / {count} * interval '28 days', "
        "'10.0.0.1', 'application/x-www-form-urlencoded', '', '', '1001', 'accepted', '', "
        f"'{APP_ID}', 'PL' || n, '川A' || lpad((n % 5000)::text, 5, '0'), 3, '', '', '', 'pay' "
        f"FROM generate_series(1, {count}) AS n",
        DB_NAME,
    )
    say(f"  {count:,} rows in {old:%Y-%m} in {time.monotonic() - started:.0f} s")
    stop, waits = threading.Event(), []

    def insert_pushes() -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        with psycopg.connect(**params, autocommit=True) as conn:
            while not stop.is_set():
                began = time.monotonic()
                conn.execute(
                    "INSERT INTO orders_pushlog (received_at, remote_addr, content_type, body, "
                    '"authorization", code, reason, message, app_id, pay_serial, plate, '
                    "duration_ms, field_path, refusal, refusal_park, kind) VALUES (now(), '', "
                    "'', '', '', '1001', 'accepted', '', '', '', '', 3, '', '', '', 'pay')"
                )
                waits.append(time.monotonic() - began)

    thread = threading.Thread(target=insert_pushes)
    thread.start()
    try:
        started = time.monotonic()
        pruned = prune_push_log(retention_months=13)
        seconds = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
    longest = max(waits) * 1000
    say(
        f"  prune: {seconds:.1f} s for {pruned.expired:,} rows ({pruned.months} months); "
        f"{len(waits):,} inserts meanwhile, the longest {longest:.0f} ms"
    )
    rows.append(
        (
            f"prune {count / 1e6:g}M push-log rows (a month past the retention)",
            f"{seconds:.1f} s; longest insert meanwhile {longest:.0f} ms",
            f"the same prune, month empty {baseline:.1f} s",
            ratio(seconds, baseline),
        )
    )


# --- the table -------------------------------------------------------------------------------


def table() -> str:
    lines = ["| benchmark | figure | baseline (same run) | ratio |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--push-seconds", type=int, default=8, help="each push round's length")
    parser.add_argument("--whitelist", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument(
        "--pushlog-per-order",
        type=int,
        default=3,
        help="push-log rows per order in the dataset (default 3: 30M at --orders 10000000)",
    )
    parser.add_argument(
        "--prune-rows", type=int, default=10_000_000, help="push-log rows of the month pruned"
    )
    parser.add_argument(
        "--only",
        choices=[
            "push",
            "dataset",
            "admin",
            "export",
            "xlsx",
            "whitelist",
            "jobs",
            "dashboard",
            "prune",
        ],
        action="append",
        help="run only these sections (admin, export and dashboard need dataset); default: all",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep BENCH_DB as it is (migrated, no new dataset): time the pages again on a "
        "dataset built before (--only admin --only dashboard)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="append a partial run's table to bench/RESULTS.md (a full run rewrites the file)",
    )
    options = parser.parse_args()
    wanted = set(
        options.only
        or ["push", "dataset", "admin", "export", "xlsx", "whitelist", "jobs", "dashboard", "prune"]
    )
    started = time.monotonic()
    if options.reuse:
        say("== the database as it is")
        manage("migrate", "--noinput")
        manage("collectstatic", "--noinput")
    else:
        say("== fresh database and migrations")
        fresh_database()
    django_setup()
    say("== 1. push ingest")
    if "push" in wanted:
        bench_push(options.push_seconds)
    say("== 2. dataset")
    if "dataset" in wanted:
        bench_dataset(options.orders, options.pushlog_per_order)
    say("== 3. admin")
    if "admin" in wanted:
        bench_admin(options.orders)
    say("== 4. export")
    if "export" in wanted:
        bench_export()
    say("== 4b. order XLSX")
    if "xlsx" in wanted:
        bench_xlsx()
    say("== 5. whitelist")
    if "whitelist" in wanted:
        bench_whitelist(options.whitelist)
    say("== 6. background jobs")
    if "jobs" in wanted:
        bench_jobs(options.import_rows)
    say("== 7. the home page's dashboard")
    if "dashboard" in wanted:
        bench_dashboard()
    say("== 8. pruning the push log")
    if "prune" in wanted:
        bench_prune(options.prune_rows)
    total = time.monotonic() - started
    text = table()
    say("\n" + text + f"\n\nTotal {total / 60:.1f} min.")
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    # Other work on the machine inflates every absolute figure (the ratios hold): say how much.
    machine += ", load average {:.1f} {:.1f} {:.1f} at the end".format(*os.getloadavg())
    about = (
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \nMachine: {machine}  \n"
        f"Command: `{command}`  \nTotal time: {total / 60:.1f} min\n\n{text}\n"
    )
    results = ROOT / "bench" / "RESULTS.md"
    if not options.only:
        results.write_text(f"# Benchmark results\n\n{about}")
    elif options.record:
        # A partial run kept beside the last full one (e.g. the pages at 10M orders).
        with results.open("a") as file:
            file.write(f"\n## Partial run\n\n{about}")


if __name__ == "__main__":
    main()
