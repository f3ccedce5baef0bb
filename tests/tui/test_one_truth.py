"""One truth: the figures and the history the UI shows, the CLI prints and a report carries are the reader's.

On the demo database: a quarter's indicator progress from the reader equals `progress --format json`, the
dashboard's and the report's Indicators sheet; a milestone's history from the reader is what the UI's
milestone detail, `audit log --entity milestone --id M03` and the report's Milestone history sheet show,
with the same field labels and actor names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from textual.widgets import Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read import Reader
from mou_tracker.read.views import shown_text
from tests.reports.conftest import make_report, progress_json, run, table_rows
from tests.reports.test_demo_reports import assert_tracking_table_matches
from tests.tui.conftest import SIZE, TODAY, make_app, press


@pytest.mark.parametrize("as_of", [None, date(2026, 3, 15)])
def test_progress_is_one_truth(demo_db: Any, tmp_path: Any, as_of: date | None) -> None:
    period = Quarter(2025, 4) if as_of else Quarter(2026, 3)
    extra = ["--as-of", as_of.isoformat()] if as_of else []
    with Reader(demo_db, as_of=as_of) as reader:
        figures = reader.progress(period).as_json()
        board = reader.dashboard(period, as_of or TODAY)
    assert figures == progress_json(demo_db.url, str(period), as_of.isoformat() if as_of else None)
    assert board.progress.as_json()["indicators"] == figures["indicators"]  # what the dashboard shows
    report = make_report(demo_db.url, tmp_path / "r.xlsx", "hti", "--period", str(period), *extra)
    header, rows = table_rows(report, "Indicators", "TrackingTable")
    assert_tracking_table_matches(header, rows, figures, str(period))


def _cell(value: Any, like: Any) -> Any:
    """A report cell as the reader's value (openpyxl reads a date cell as a datetime at midnight)."""
    if isinstance(value, datetime) and isinstance(like, date) and not isinstance(like, datetime):
        return value.date()
    return value


async def test_milestone_history_is_one_truth(demo_db: Any, tmp_path: Any) -> None:
    with Reader(demo_db) as reader:
        m03, history = reader.milestone_history("M03")
    assert m03 is not None and [e.action for e in history][:1] == ["create"] and len(history) >= 3
    changes = [(e, c) for e in history for c in e.visible]
    assert any(c.label == "Due date" and e.reason for e, c in changes)  # re-planned, with its reason

    # `audit log`: one block per event, each visible change as "Label: old -> new", who by name
    out = run("--db", demo_db.url, "audit", "log", "--entity", "milestone", "--id", "M03")
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == [line for e in history for line in e.lines()]
    for e, c in changes:
        assert f"    {e.change_text(c)}" in out.stdout and e.who in out.stdout

    # the report's Milestone history sheet: one row per creation (its values in one cell, as the audit log
    # words them), then one per changed field, the same labels, values and names
    report = make_report(demo_db.url, tmp_path / "h.xlsx", "hti", "--period", "2026-Q3")
    header, rows = table_rows(report, "Milestone history", "MilestoneHistory")
    col = {h: i for i, h in enumerate(header)}
    sheet = [(r[col["Event"]], r[col["Field"]], r[col["Old value"]], r[col["New value"]], r[col["Changed by"]])
             for r in rows if r[col["Milestone ID"]] == "M03"]
    expected = [(e.seq, "(created)", None, "; ".join(e.change_text(c) for c in e.visible), e.who)
                if e.action == "create" else (e.seq, c.label, c.old, c.new, e.who)
                for e in history for c in (e.visible[:1] if e.action == "create" else e.visible)]
    assert [(s, f, _cell(o, eo), _cell(n, en), who) for (s, f, o, n, who), (_, _, eo, en, _) in
            zip(sheet, expected, strict=True)] == expected

    # the UI's milestone detail: every update's changes with the same labels and values, and who made them
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "5", "down", "down", "enter")
        shown = str(app.screen.query_one("#milestone-history", Static).render())
    for e, c in changes:
        assert e.who in shown
        if e.action == "update" and c.field != "evidence_sha256":
            assert f"{c.label}: {shown_text(c.old)} → {shown_text(c.new)}" in shown
