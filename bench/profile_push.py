"""Where one accepted push's time goes: py-spy on a gunicorn worker under wrk, and each SQL
statement timed from the client.

    python bench/profile_push.py [--kind pay|entry|exit|renewal] [--seconds 10]

One gunicorn worker with one thread (so every sample is a push or the server around it) logs
at INFO like production (the JSON line goes to a file). py-spy samples its CPU (waiting on the
database is not CPU and is not sampled) while wrk sends pushes at 4 connections; each sample is
put in the first step of ``STEPS`` one of its frames belongs to. The statements are timed in
this process: the same pushes through ``receive_push`` with a wrapper around every query.
Nothing is asserted; the table is for docs/development.md.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def _lines(path: str, text: str, until: str = "") -> set[int]:
    """The numbers of the lines of ``path`` (under ROOT) that hold ``text``; with ``until``,
    each of them and the lines after it up to the next that holds ``until``."""
    source = (ROOT / path).read_text().splitlines()
    numbers, inside = set(), False
    for number, line in enumerate(source, 1):
        if text in line:
            numbers.add(number)
            inside = bool(until)
        elif inside:
            numbers.add(number)
            inside = until not in line
    return numbers


def steps() -> list[tuple[str, list[tuple[str, str | None, set[int] | None]]]]:
    """The steps of a push, each as frames (file, function or None, lines or None) that belong
    to it, in the order they are tried: a sample in the fingerprint inside the store call is
    the fingerprint's, the log row rendered inside the statement is the log row's."""
    services, storing = "orders/push/services.py", "orders/push/storing.py"
    stays_storing = "orders/stays/storing.py"
    log_rows = _lines(services, "log = PushLog(") | _lines(services, "log.") - _lines(
        services, "log.body,"
    )
    return [
        # CONN_HEALTH_CHECKS: the request's first query is preceded by a SELECT 1.
        (
            "connection health check",
            [("django/db/backends/", "close_if_health_check_failed", None)],
        ),
        (
            "JSON log line",
            [(services, None, _lines(services, "push_logger.isEnabledFor", "return result"))],
        ),
        (
            "fingerprint",
            [
                ("orders/push/validation.py", "fingerprint", None),
                ("orders/push/validation.py", "content_fingerprint", None),
                ("orders/stays/validation.py", "fingerprint", None),
                ("orders/stays/validation.py", "content_fingerprint", None),
            ],
        ),
        (
            "push-log row",
            [
                (services, "_fill_log", None),
                (services, "_clip", None),
                (services, "receive_push", log_rows),
                (storing, None, _lines(storing, 'insert("pushlog"')),
                (stays_storing, None, _lines(stays_storing, 'insert("pushlog"')),
            ],
        ),
        ("whitelist check", [("whitelist/selectors.py", None, None)]),
        ("store statement", [(storing, None, None), (stays_storing, None, None)]),
        (
            "signature",
            [(services, "_authenticate", None), ("parkingops/pcloud/signing", None, None)],
        ),
        (
            "validation",
            [
                ("orders/push/validation.py", None, None),
                ("orders/stays/validation.py", None, None),
            ],
        ),
        ("decoding", [("orders/push/decoding.py", None, None)]),
        ("throttle check", [("orders/push/throttling.py", None, None)]),
        (
            "the answer (JSON, metrics)",
            [("orders/push/views.py", "_receive", None), ("orders/monitoring/", None, None)],
        ),
        ("rest of the service", [(services, None, None), ("orders/push/views.py", None, None)]),
    ]


def classify(stack: str, rules) -> str:
    """The step a py-spy raw stack (``f (file:line);...``) belongs to."""
    frames = []
    for frame in stack.split(";"):
        name, _, where = frame.rpartition(" (")
        file, _, line = where.rstrip(")").rpartition(":")
        frames.append((name, file, int(line) if line.isdigit() else 0))
    for step, matchers in rules:
        for file, function, lines in matchers:
            for name, frame_file, line in frames:
                if (
                    file in frame_file
                    and (function is None or name == function or name.endswith("." + function))
                    and (lines is None or line in lines)
                ):
                    return step
    return "framework (gunicorn, Django, DRF)"


def profile_cpu(kind: str, path: str, seconds: int, tmp: Path) -> tuple[Counter, int, int]:
    """Sample one worker's CPU under wrk; return samples per step, the rate and the pushes."""
    env = {**run.ENV, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1", "LOG_LEVEL": "INFO"}
    pool = tmp / "pool.txt"
    run.push_bodies(3000 * seconds, pool, kind, run="profile")
    warm = tmp / "warm.txt"
    run.push_bodies(500, warm, kind, run="warm")
    rate = 500
    with run.Server(env) as server:
        run.load(server, path, warm, 4, 2)
        (worker,) = server.worker_pids()
        raw = tmp / "samples.txt"
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(worker),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--duration",
                str(seconds),
                # Not stopping the worker for each sample: stopping it would slow what is timed.
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        result = run.load(server, path, pool, 4, seconds)
        spy.wait()
    rules = steps()
    samples: Counter[tuple[str, bool]] = Counter()
    keep = os.environ.get("PROFILE_KEEP")
    if keep:
        Path(keep).write_text(raw.read_text())
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        if "ThreadWorker.run" in stack and "select" in leaf:
            continue  # gunicorn's main thread waiting for a connection: idle, not the push
        # The worker waiting for PostgreSQL's answer (py-spy cannot tell that wait from CPU).
        waiting = "psycopg/" in leaf and ("wait" in leaf or "_execute_send" in leaf)
        samples[classify(stack, rules), waiting] += int(count)
    return samples, rate, result["requests"]


def time_statements(kind: str, count: int, tmp: Path) -> tuple[Counter, Counter, float]:
    """Run ``count`` pushes through ``receive_push`` here; return each statement's total ms
    and count (by its first words) and the ms per push in all."""
    from django.db import connection

    from orders.push import kinds, services

    pool = tmp / "inproc.txt"
    run.push_bodies(count, pool, kind, run="inproc")
    requests = []
    for line in pool.read_text(encoding="latin-1").splitlines():
        content_type, body = line.split("\t", 1)
        requests.append(
            services.PushRequest(
                body=body.encode("latin-1"), content_type=content_type, remote_addr="127.0.0.1"
            )
        )
    spent: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            name = " ".join(sql.split()[:4])[:60]
            spent[name] += (time.perf_counter() - started) * 1000
            calls[name] += 1

    push_kind = kinds.KINDS[kind]
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        for request in requests:
            result = services.receive_push(request=request, kind=push_kind)
            assert result.outcome.value == "accepted", result
    per_push = (time.perf_counter() - started) * 1000 / count
    return spent, calls, per_push


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["pay", "entry", "exit", "renewal"], default="pay")
    parser.add_argument("--seconds", type=int, default=10)
    options = parser.parse_args()
    path = {kind: url for _, kind, url in run.PUSH_KINDS}[options.kind]
    run.fresh_database()
    run.django_setup()
    from whitelist.models import WhitelistEntry

    WhitelistEntry.objects.get_or_create(plate=run.PLATE, park_uuid="")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        samples, rate, pushes = profile_cpu(options.kind, path, options.seconds, tmp)
        total = sum(samples.values())
        print(f"{options.kind} push, one worker, one thread: {pushes} pushes, {total} samples")
        print("| step | Python ms per push | waiting on PostgreSQL ms | share |")
        print("|---|---|---|---|")
        names = sorted({step for step, _ in samples}, key=lambda step: -samples[step, False])
        for step in names:
            python, waiting = samples[step, False], samples[step, True]
            print(
                f"| {step} | {python * 1000 / rate / pushes:.3f} | "
                f"{waiting * 1000 / rate / pushes:.3f} | {(python + waiting) / total:.0%} |"
            )
        python = sum(count for (_, waiting), count in samples.items() if not waiting)
        print(
            f"| all | {python * 1000 / rate / pushes:.3f} | "
            f"{(total - python) * 1000 / rate / pushes:.3f} | 100% |"
        )
        spent, calls, per_push = time_statements(options.kind, 500, tmp)
        print(f"\nIn-process receive_push: {per_push:.2f} ms per push (wall)")
        print("| statement | calls per push | ms per push |\n|---|---|---|")
        for name, ms in spent.most_common():
            print(f"| `{name}` | {calls[name] / 500:g} | {ms / 500:.3f} |")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
