"""Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR, /metrics adds up every process's
push counts (real processes: prometheus-client picks its storage when first imported)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from orders.tests.monitoring.conftest import samples, value
from parkingops import gunicorn

SETUP = (
    "import django; django.setup(); "
    "from orders.monitoring.metrics import observe_push, render; "
    "from orders.push.outcomes import Outcome; "
)


def run(code: str, directory: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "parkingops.settings_test",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        # No database: the scrape must still serve the push counts.
        "DATABASE_URL": f"sqlite:///{directory}/missing/db.sqlite3",
    }
    subprocess.run(
        [sys.executable, "-c", SETUP + code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_counts_of_every_worker_are_added_up(tmp_path):
    accepted = "observe_push(kind='pay_order', outcome=Outcome.ACCEPTED, seconds=0.02)"
    run(accepted, tmp_path)
    run(f"{accepted}; {accepted}", tmp_path)

    # To a file: the process log is on stdout too.
    scraped = tmp_path / "scraped.txt"
    run(f"open({str(scraped)!r}, 'wb').write(render())", tmp_path)
    found = samples(scraped.read_text(encoding="utf-8"))

    labels = {"kind": "pay_order", "outcome": "accepted", "reason": "accepted"}
    assert value(found, "parkingops_pushes_total", **labels) == 3
    assert value(found, "parkingops_push_seconds_count", kind="pay_order") == 3
    assert value(found, "parkingops_database_up") == 0


def test_gunicorn_empties_the_directory_when_it_starts(tmp_path, monkeypatch):
    (tmp_path / "counter_123.db").write_bytes(b"old counts")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    gunicorn.on_starting(None)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["keep.txt"]
