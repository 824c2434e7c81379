"""The house's one-way rule: ``parkingops`` ← ``whitelist`` ← ``orders``.

A module of a lower app never imports a higher one, and no migration of a lower app depends on a
higher one. The root URLconf, the settings and the WSGI/gunicorn entry points are the roof and
may name every app; tests may exercise the whole project.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = {"parkingops": 0, "whitelist": 1, "orders": 2}
ROOF = {"settings.py", "settings_test.py", "urls.py", "wsgi.py", "asgi.py", "gunicorn.py"}


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _production_modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts or "tests" in parts or path.name == "conftest.py":
            continue
        if len(parts) == 2 and path.name in ROOF:
            continue
        yield path


def upward_imports() -> list[str]:
    """Return ``file:line imports module`` for every import of a higher app by a lower one."""
    found = []
    for app, level in LAYER.items():
        for path in _production_modules(app):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for line, module in _imported_modules(tree):
                if LAYER.get(module.split(".")[0], -1) > level:
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def upward_migration_dependencies() -> list[str]:
    found = []
    for app, level in LAYER.items():
        for path in sorted((ROOT / app / "migrations").glob("0*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Tuple) and len(node.elts) == 2:
                    first = node.elts[0]
                    if isinstance(first, ast.Constant) and LAYER.get(first.value, -1) > level:
                        found.append(f"{path.relative_to(ROOT)} depends on {first.value}")
    return found


def test_no_lower_app_imports_a_higher_one():
    assert upward_imports() == []


def test_no_lower_apps_migration_depends_on_a_higher_app():
    assert upward_migration_dependencies() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The checker itself: a whitelist module importing orders is reported."""
    (tmp_path / "whitelist").mkdir()
    (tmp_path / "whitelist" / "bad.py").write_text("from orders.models import PayOrder\n")
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "fine.py").write_text("from whitelist.models import Park\n")
    (tmp_path / "parkingops").mkdir()
    (tmp_path / "parkingops" / "urls.py").write_text("import orders.urls\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert upward_imports() == ["whitelist/bad.py:1 imports orders.models"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/orders/park/", "/admin/whitelist/park/"),
        ("/admin/orders/park/3/change/", "/admin/whitelist/park/3/change/"),
        ("/admin/orders/platformcall/?code=1500", "/admin/parkingops/platformcall/?code=1500"),
    ],
)
def test_the_moved_admin_pages_old_addresses_lead_to_the_new_ones(client, old, new):
    response = client.get(old)
    assert response.status_code == 302
    assert response["Location"] == new
