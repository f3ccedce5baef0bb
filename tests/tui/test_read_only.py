"""Read-only sessions (--read-only, the evaluator role, as-of views) offer no edit action anywhere, and the
service layer refuses a write anyway."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from mou_tracker.db.models import Training
from mou_tracker.errors import PermissionDenied
from mou_tracker.tui.forms import ReasonScreen, RecordDetail, RecordForm
from mou_tracker.tui.screens.base import is_edit_action
from mou_tracker.tui.widgets import IndicatorBars, PagedTable, TitleBar
from tests.tui.conftest import SIZE, make_app, press, rows_of, settle

EDIT_KEYS = ("a", "e", "x", "t", "g", "n", "b")


def offered_edit_actions(app: Any) -> list[str]:
    """Edit actions the footer, the keys panel or the palette would offer on the current screen."""
    bound = [b.binding.action for b in app.screen.active_bindings.values()]
    palette = [c.title for c in app.get_system_commands(app.screen)]
    return ([a for a in bound if is_edit_action(a)]
            + [t for t in palette if t.split(": ")[-1] in ("Add", "Edit", "Delete", "Remove", "Add participant")])


async def assert_nothing_editable(app: Any, pilot: Any) -> None:
    for key in "1234567890":
        await press(pilot, key)
        assert offered_edit_actions(app) == [], f"screen {key} offers edits"
        for edit_key in EDIT_KEYS:
            await press(pilot, edit_key)
            assert not isinstance(app.screen, RecordForm | ReasonScreen), f"{edit_key} on screen {key}"


async def test_read_only_offers_no_edit(seeded: Any) -> None:
    app = make_app(seeded.db, read_only=True)
    assert app.ctx.read_only and app.ctx.services.read_only
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "read-only" in str(app.screen.query_one(TitleBar).query_one("#badges").render())
        await assert_nothing_editable(app, pilot)
        # detail views show no edit buttons either
        await press(pilot, "3", "enter")
        assert offered_edit_actions(app) == []
        await press(pilot, "escape", "4", "enter")
        assert isinstance(app.screen, RecordDetail) and app.screen.actions == []
    with pytest.raises(PermissionDenied):
        app.ctx.services.create_training({"code": "T-X", "title": "x", "topic": "x", "start_date": "2026-01-01",
                                        "end_date": "2026-01-01", "county": "Nairobi"})


async def test_a_session_that_may_edit_does_offer_edits(seeded: Any) -> None:
    """The opposite case, so the read-only checks above can fail."""
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "3")
        assert "add_record" in offered_edit_actions(app)
        await press(pilot, "a")
        assert isinstance(app.screen, RecordForm)


async def test_evaluators_are_read_only(seeded: Any) -> None:
    from mou_tracker.services.users import add_user

    add_user(seeded, "eva", "evaluator")
    app = make_app(seeded.db, actor="eva")
    assert app.ctx.read_only and app.ctx.role == "evaluator"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await assert_nothing_editable(app, pilot)


def test_as_of_is_read_only_and_shows_the_past(demo_db: Any) -> None:
    import asyncio

    async def run() -> None:
        app = make_app(demo_db, as_of=date(2025, 9, 30))
        assert app.ctx.read_only
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            progress = app.screen.query_one(IndicatorBars).progress
            assert str(progress.period) == "2025-Q3"
            await press(pilot, "3")
            trainings = app.screen.query_one("#trainings", PagedTable)
            shown = trainings.page.total
            await press(pilot, "8")
            events = app.screen.query_one("#events", PagedTable)
            assert all(r.occurred_at.date() <= date(2025, 9, 30) for r in rows_of(events))
            await assert_nothing_editable(app, pilot)
        with demo_db.reading() as s:
            ended_by_then = s.execute(select(func.count()).select_from(Training)
                                      .where(Training.end_date <= date(2025, 9, 30))).scalar_one()
            everything = s.execute(select(func.count()).select_from(Training)).scalar_one()
        assert shown == ended_by_then < everything

    asyncio.run(run())


@pytest.mark.parametrize("args", [["--read-only"], ["tui", "--read-only"]])
def test_the_bare_command_opens_the_ui_read_only(seeded: Any, monkeypatch: Any, args: list[str]) -> None:
    """`mou-tracker --read-only` (no command) opens the UI as `mou-tracker tui --read-only` does: the real
    CLI, the real app, run headless, driven to every screen."""
    from click.testing import CliRunner

    from mou_tracker.cli import cli
    from mou_tracker.tui.app import MouApp

    seen: dict[str, Any] = {}
    run = MouApp.run

    def headless(self: MouApp, *a: Any, **kw: Any) -> Any:
        async def drive(pilot: Any) -> None:
            await settle(pilot)
            seen["read_only"] = self.ctx.read_only and self.ctx.services.read_only
            seen["badge"] = "read-only" in str(self.screen.query_one(TitleBar).query_one("#badges").render())
            seen["edits"] = []
            for key in "1234567890":
                await press(pilot, key)
                seen["edits"] += offered_edit_actions(self)
            self.exit()

        return run(self, headless=True, size=SIZE, auto_pilot=drive)

    monkeypatch.setattr(MouApp, "run", headless)
    result = CliRunner().invoke(cli, ["--db", seeded.db.url, *args])
    assert result.exit_code == 0, result.output
    assert seen == {"read_only": True, "badge": True, "edits": []}
