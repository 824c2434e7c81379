"""What an outside developer gets from the live schema: a document that validates and passes
Spectral's OpenAPI rules, and a typed client (openapi-python-client) that works against a real
server and passes ``mypy --strict`` with the code that uses it (fixtures/integrator.py).
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from openapi_spec_validator import validate

from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import api_keys
from parkingops.roles import FINANCE, OPERATIONS, apply_roles
from whitelist.tests.factories import ParkFactory

ROOT = Path(__file__).resolve().parents[2]
INTEGRATOR = Path(__file__).parent / "fixtures" / "integrator.py"
SPECTRAL = "@stoplight/spectral-cli@6.16.3"
DOCUMENTS = ("/api/schema/", "/api/schema/platform/")
CHINA = timezone(timedelta(hours=8))
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_throttle_counts():
    """Throttle counts live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


def _fetch(url: str) -> dict:
    request = urllib.request.Request(url + "?format=json")  # noqa: S310 (our own server)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.load(answer)


def _run(command: list[str], *, cwd: Path, env: dict | None = None, timeout: int = 300):
    """Run ``command``; return its output (stdout and stderr), failing the test on an error."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


# --- The documents ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_served_documents_pass_the_openapi_validator(live_server, path):
    document = _fetch(live_server.url + path)

    validate(document)
    assert [server["url"] for server in document["servers"]] == [live_server.url]
    assert document["info"]["contact"]["name"] and document["info"]["description"]
    used = {
        tag for item in document["paths"].values() for op in item.values() for tag in op["tags"]
    }
    assert {tag["name"] for tag in document["tags"]} == used
    assert all(tag["description"] for tag in document["tags"])
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["summary"] and operation["description"], operation["operationId"]


def _npx() -> str:
    npx = shutil.which("npx")
    if npx is None:
        if os.environ.get("PARKINGOPS_REQUIRE_NODE") == "1":
            pytest.fail("npx (Node.js) is needed for the Spectral lint: .ci/run installs it")
        pytest.skip("npx (Node.js) is not installed: the Spectral lint needs it")
    return npx


def test_the_served_documents_pass_spectral_without_a_warning(live_server, tmp_path):
    """Spectral's ``spectral:oas`` rules (.spectral.yaml), every severity down to hints."""
    npx = _npx()
    files = []
    for path in DOCUMENTS:
        file = tmp_path / (path.strip("/").replace("/", "-") + ".json")
        file.write_text(json.dumps(_fetch(live_server.url + path)), encoding="utf-8")
        files.append(str(file))
    cache_dir = os.environ.get("PARKINGOPS_NPM_CACHE", str(ROOT / "var" / "npm"))

    output = _run(
        [
            npx,
            "--yes",
            "--cache",
            cache_dir,
            SPECTRAL,
            "lint",
            "--ruleset",
            str(ROOT / ".spectral.yaml"),
            "--fail-severity",
            "hint",
            "--format",
            "json",
            "--quiet",
            *files,
        ],
        cwd=tmp_path,
    )

    assert json.loads(output or "[]") == []


# --- The generated client --------------------------------------------------------------------


@pytest.fixture
def keys(db) -> dict[str, str]:
    """A finance key and an operations key, and the data the integrator's script expects."""
    apply_roles()
    found = {}
    for role, name in ((FINANCE, "bi"), (OPERATIONS, "hr")):
        user = User.objects.create_user(name)
        user.groups.add(Group.objects.get(name=role))
        found[role] = api_keys.create_api_key(user=user, name=name).key

    park = ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a")
    first = datetime(2026, 11, 1, 8, tzinfo=CHINA)
    for hour in range(7):
        order = PayOrderFactory(
            park=park,
            pay_time=first + timedelta(hours=hour),
            pay_value=1250 if hour == 3 else 1000,
            channel="200201" if hour == 0 else "200102",
        )
        if hour == 0:  # a documented channel, an amount coupon and a type nobody documented
            MerchantCouponFactory(order=order, coupon_type=1, coupon_value=1000)
            MerchantCouponFactory(order=order, coupon_type=9, coupon_value=5, store_code="X")
            DiscountFactory(order=order)
    PayOrderFactory(park=park, pay_time=first + timedelta(days=1))  # another day
    return {"FINANCE_KEY": found[FINANCE], "OPERATIONS_KEY": found[OPERATIONS]}


def test_a_generated_client_works_against_the_live_server_and_type_checks(
    live_server, keys, tmp_path, settings
):
    config = tmp_path / "client.yml"
    config.write_text(
        # A generous timeout for fetching the schema: a busy CI machine generates it slowly.
        "project_name_override: parkingops-client\npackage_name_override: parkingops_client\n"
        "http_timeout: 120\n",
        encoding="utf-8",
    )
    generated = _run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--url",
            live_server.url + "/api/schema/",
            "--config",
            str(config),
            "--output-path",
            "client",
        ],
        cwd=tmp_path,
    )
    # Nothing skipped, nothing guessed: the only line says where it went.
    assert generated.split() == ["Generating", "client"], generated
    project = tmp_path / "client"
    shutil.copy(INTEGRATOR, project / "integrator.py")
    env = {"PARKINGOPS_URL": live_server.url, **keys}

    ran = _run([sys.executable, "integrator.py", "main"], cwd=project, env=env)
    assert "all checks passed" in ran

    settings.API_THROTTLE_RATE = "2/min"
    cache.clear()
    ran = _run([sys.executable, "integrator.py", "throttled"], cwd=project, env=env)
    assert "all checks passed" in ran

    checked = _run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "parkingops_client",
            "integrator.py",
        ],
        cwd=project,
    )
    assert checked.startswith("Success: no issues found"), checked
