"""Snapshots of the main screens on the demo database at 80x24 and 120x40 (the dashboard also in the light
theme). Regenerate after an intended change with `pytest tests/tui --snapshot-update`, and look at each one:
tables span the width, no number is cut, names are whole where there is room, nothing overlaps.

An audit event's detail is not among them: its hashes differ with every demo database (personal data is
sealed with fresh keys), so tests/tui/test_layout.py checks what it shows instead."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import make_app, press, settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("size", SIZES)
def test_dashboard(demo_db: Any, snap_compare: Any, theme: str, size: str) -> None:
    app = make_app(demo_db)

    async def run_before(pilot: Any) -> None:
        app.theme = theme
        await settle(pilot)
        await press(pilot, "left_square_bracket")  # the last full quarter of the demo, 2026-Q3

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_indicators(demo_db: Any, snap_compare: Any, size: str) -> None:
    """The tracking table, scrolled to the current quarter beside the frozen codes and names."""
    app = make_app(demo_db)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=lambda pilot: press(pilot, "2"))


@pytest.mark.parametrize("size", SIZES)
def test_training_with_participants(demo_db: Any, snap_compare: Any, size: str) -> None:
    app = make_app(demo_db)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=lambda pilot: press(pilot, "3", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_audit(demo_db: Any, snap_compare: Any, size: str) -> None:
    app = make_app(demo_db)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=lambda pilot: press(pilot, "8"))


def test_milestone_detail(demo_db: Any, snap_compare: Any) -> None:
    app = make_app(demo_db)

    async def run_before(pilot: Any) -> None:
        await press(pilot, "5", "down", "down", "enter")  # M03: re-planned, then completed late

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
