"""The terminal UI's modules import one another one way only (no circle), each imports on its own in a fresh
interpreter, and the screens are listed in one place."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mou_tracker.tui as tui_package

ROOT = Path(tui_package.__file__).parent
PATHS = {"mou_tracker." + ".".join(p.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"): p
         for p in ROOT.rglob("*.py")}
MODULES = sorted(PATHS)


def _imports(path: Path, module: str) -> set[str]:
    """Every mou_tracker.tui module that ``module`` imports anywhere: at the top, inside functions and
    under TYPE_CHECKING alike (a circle through any of them is still a circle)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if n in MODULES and n != module}
    return found


def test_no_import_circle_between_the_ui_modules() -> None:
    graph = {m: _imports(path, m) for m, path in PATHS.items()}
    assert "mou_tracker.tui.app" in graph and graph["mou_tracker.tui.app"], "the walk found no imports"
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                pytest.fail("import circle: " + " -> ".join([*trail[trail.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    # what the structure promises: widgets and forms know nothing of the app or the screens
    for low in ("mou_tracker.tui.widgets", "mou_tracker.tui.forms", "mou_tracker.tui.format"):
        assert not graph[low] & {"mou_tracker.tui.app", "mou_tracker.tui.screens.base"}, low


@pytest.mark.parametrize("module", MODULES)
def test_each_ui_module_imports_on_its_own(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_one_screen_registry() -> None:
    from mou_tracker.tui.app import MouApp
    from mou_tracker.tui.screens import SCREENS

    assert set(MouApp.MODES) == {s.mode for s in SCREENS}
    assert len({s.key for s in SCREENS}) == len(SCREENS)
    for s in SCREENS:
        assert s.mode == s.load().MODE
