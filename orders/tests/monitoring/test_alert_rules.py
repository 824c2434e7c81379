"""docs/prometheus/alerts.yml: valid rules naming only metrics /metrics serves, and conditions
the docs explain."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.utils import timezone

from orders.monitoring import conditions, readings
from orders.reconciliation.models import ReconciliationRun
from orders.tests.monitoring.conftest import logged, usual_pushes
from whitelist.tests.factories import ParkFactory

DOCS = Path(django_settings.BASE_DIR) / "docs"
RULES = DOCS / "prometheus" / "alerts.yml"
CODES = {check.__name__ for check in conditions.CHECKS}


def rules() -> list[dict]:
    loaded = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_every_rule_is_complete():
    found = rules()

    assert len(found) >= 4
    for rule in found:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert re.fullmatch(r"ParkingOps[A-Za-z]+", rule["alert"])
        assert rule["expr"].strip()
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
    assert len({rule["alert"] for rule in found}) == len(found)


@pytest.mark.django_db
def test_every_metric_a_rule_names_is_served(scrape):
    # Data for the gauges that are absent until there is something to show.
    now = timezone.now()
    usual_pushes(now)
    logged(now - timedelta(minutes=1))
    ReconciliationRun.objects.create(
        date=readings.reconcile_day(now=now), park=ParkFactory(), status="ok"
    )
    served = {name for name, _labels in scrape()}

    for rule in rules():
        for metric in re.findall(r"\bparkingops_\w+", rule["expr"]):
            assert metric in served, (rule["alert"], metric)


def test_every_condition_a_rule_names_exists_and_each_is_explained():
    named = {code for rule in rules() for code in re.findall(r'condition="(\w+)"', rule["expr"])}
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")

    assert named <= CODES
    for code in CODES:
        assert f"### `{code}`" in operations or f"### {code}" in operations, code
