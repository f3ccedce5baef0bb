"""Snapshots of the dashboard and a milestone's detail on the demo database, at 80x24, in the dark and the
light theme. Regenerate after an intended change with `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import SIZE, make_app, press, settle


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_dashboard(demo_db: Any, snap_compare: Any, theme: str) -> None:
    app = make_app(demo_db)

    async def run_before(pilot: Any) -> None:
        app.theme = theme
        await settle(pilot)
        await press(pilot, "left_square_bracket")  # the last full quarter of the demo, 2026-Q3

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_milestone_detail(demo_db: Any, snap_compare: Any) -> None:
    app = make_app(demo_db)

    async def run_before(pilot: Any) -> None:
        await press(pilot, "5", "down", "down", "enter")  # M03: re-planned, then completed late

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
