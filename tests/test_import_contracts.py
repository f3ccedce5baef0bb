"""The layers' import contracts: the UI holds no database, the domain depends on nothing of ours, and only
the UI loads Textual. Each check can fail: the last test shows it notices a breach."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mou_tracker"


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module each file of ``folder`` imports by name (import and from-import statements, wherever
    they are: at the top, inside functions, under TYPE_CHECKING)."""
    out: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
        out[str(path.relative_to(folder))] = names
    return out


def offenders(folder: Path, *forbidden: str) -> dict[str, list[str]]:
    found = {}
    for path, names in imported_modules(folder).items():
        bad = sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        if bad:
            found[path] = bad
    return found


def test_the_ui_never_imports_the_database_layer() -> None:
    """The screens read through the reader and write through the services; no Database, no Session."""
    assert offenders(PACKAGE / "tui", "mou_tracker.db", "sqlalchemy") == {}


def test_the_domain_imports_nothing_of_ours() -> None:
    found = {p: [n for n in names if n.startswith("mou_tracker") and not n.startswith("mou_tracker.domain")]
             for p, names in imported_modules(PACKAGE / "domain").items()}
    assert {p: n for p, n in found.items() if n} == {}


CHECK = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(",".join(sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))) or "none")
"""


def textual_loaded_by(*modules: str) -> str:
    out = subprocess.run([sys.executable, "-c", CHECK, *modules], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _modules_of(package: str) -> list[str]:
    folder = PACKAGE / package
    return [f"mou_tracker.{package}." + ".".join(p.relative_to(folder).with_suffix("").parts)
            for p in sorted(folder.rglob("*.py")) if p.name != "__init__.py"] + [f"mou_tracker.{package}"]


@pytest.mark.parametrize("package", ["reports", "services", "imports", "read"])
def test_the_core_never_loads_textual(package: str) -> None:
    assert textual_loaded_by("mou_tracker.app_root", *_modules_of(package)) == "none"


def test_the_checks_notice_a_breach(tmp_path: Path) -> None:
    (tmp_path / "screen.py").write_text("from sqlalchemy.orm import Session\n\n\ndef f():\n"
                                        "    from mou_tracker.db.engine import Database\n")
    assert offenders(tmp_path, "mou_tracker.db", "sqlalchemy") == {"screen.py": [
        "mou_tracker.db.engine", "mou_tracker.db.engine.Database", "sqlalchemy.orm", "sqlalchemy.orm.Session"]}
    assert "textual.app" in textual_loaded_by("mou_tracker.tui.app").split(",")
