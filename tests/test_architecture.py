"""The dependency rule of DESIGN.md §2: webapp, cli -> services -> domain, ledger, db."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "goldtrace"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_in(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["domain", "ledger"])
def test_domain_and_ledger_know_nothing_of_flask_or_sqlalchemy(package: str) -> None:
    forbidden = ("flask", "sqlalchemy", "alembic", "werkzeug", "marshmallow", "psycopg")
    for path in modules_in(package):
        for name in imported_modules(path):
            assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
            assert not name.startswith(
                ("goldtrace.services", "goldtrace.db", "goldtrace.webapp")
            ), f"{path.name} imports {name}"


def test_domain_does_not_import_ledger_internals_beyond_stdlib() -> None:
    for path in modules_in("domain"):
        for name in imported_modules(path):
            root = name.split(".")[0]
            # python-stdnum: the well-kept validator of national identifiers (DOMAIN.md), pure Python.
            allowed = {"goldtrace", "__future__", "stdnum"}
            assert root in allowed or root in _stdlib(), f"{path.name}: {name}"


def test_nothing_imports_webapp() -> None:
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "webapp") or path.is_relative_to(SRC / "cli"):
            continue  # the command line serves the web app
        for name in imported_modules(path):
            assert not name.startswith("goldtrace.webapp"), f"{path} imports {name}"


def test_services_do_not_import_flask() -> None:
    for path in modules_in("services") + modules_in("db"):
        for name in imported_modules(path):
            assert name.split(".")[0] not in {"flask", "werkzeug"}, f"{path.name} imports {name}"


def test_services_never_commit() -> None:
    for path in modules_in("services"):
        source = path.read_text(encoding="utf-8")
        assert ".commit()" not in source, f"{path.name} commits: the caller owns the transaction"


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)
