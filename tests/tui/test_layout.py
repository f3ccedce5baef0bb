"""How the UI reads at 80x24 and 120x40: tables use the width, no number is ever cut, names are whole where
there is room, nothing overlaps, labels not keys, the right number; and the keys panel, the palette and the
remembered theme."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import HelpPanel, Select, Static

from mou_tracker.tui.forms import RecordDetail
from mou_tracker.tui.screens.audit import AuditScreen
from mou_tracker.tui.screens.dashboard import DashboardScreen
from mou_tracker.tui.screens.trainings import TrainingDetail
from mou_tracker.tui.settings import settings_path
from mou_tracker.tui.widgets import STATUS_MARK, IndicatorBars, PagedTable, PageTable
from tests.tui.conftest import laid_out, make_app, press, rows_of, settle

SIZES = [(80, 24), (120, 40)]


def _line(table: PageTable, y: int) -> str:
    return "".join(seg.text for seg in table.render_line(y) if not seg.control)


def assert_no_cut_figures(paged: PagedTable[Any]) -> int:
    """Every figure on screen is whole: a column the view shows only in part is blank. Returns how many
    figures were checked."""
    table = paged.table
    widths = [c.get_render_width(table) for c in table.ordered_columns]
    fixed = sum(widths[: table.fixed_columns])
    header, seen = table.header_height, 0
    for y in range(header, min(table.size.height, header + table.row_count)):
        line = _line(table, y)
        row = table.get_row_at(y - header + int(table.scroll_y))
        start = 0
        for i, width in enumerate(widths):
            frozen = i < table.fixed_columns
            s = start if frozen else start - int(table.scroll_x)
            e = s + width
            start += width
            lo, hi = (s, e) if frozen else (max(s, fixed), min(e, table.size.width))
            if lo >= hi:
                continue  # out of view
            shown = line[lo:hi]
            if (lo, hi) != (s, e):
                assert not shown.strip(), f"column {i} cut at the edge shows {shown!r} (y={y})"
            elif paged.columns[i].right:
                assert shown.strip() == str(row[i]), f"column {i} shows {shown!r}, not {str(row[i])!r}"
                seen += 1
    return seen


@pytest.mark.parametrize("size", SIZES)
async def test_indicator_figures_are_never_cut(demo_db: Any, size: tuple[int, int]) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await press(pilot, "2")
        paged = app.screen.query_one("#tracking", PagedTable)
        table = paged.table
        # each figure column is as wide as its widest figure
        for i, col in enumerate(paged.columns):
            if col.right:
                widest = max(cell_len(str(table.get_row_at(r)[i])) for r in range(table.row_count))
                assert table.ordered_columns[i].width >= widest
        checked = 0
        for _ in range(len(paged.columns)):  # walk the cursor across every column, scrolling sideways
            checked += assert_no_cut_figures(paged)
            await press(pilot, "right")
        assert table.scroll_x > 0 and checked > 100
        for _ in range(len(paged.columns)):
            await press(pilot, "left")
            assert_no_cut_figures(paged)


@pytest.mark.parametrize("size", SIZES)
async def test_tables_use_the_width_and_show_names_whole_where_there_is_room(demo_db: Any,
                                                                            size: tuple[int, int]) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await press(pilot, "3")
        paged = app.screen.query_one(PagedTable)
        table = paged.table
        def room() -> int:
            return table.size.width - (table.styles.scrollbar_size_vertical if table.show_vertical_scrollbar else 0)

        await laid_out(pilot, lambda: room() > 0 and sum(c.get_render_width(table) for c in table.ordered_columns)
                       == room())
        assert room() > 0 and sum(c.get_render_width(table) for c in table.ordered_columns) == room()
        title = next(i for i, c in enumerate(paged.columns) if c.label == "Title")
        titles = [str(table.get_row_at(r)[title]) for r in range(table.row_count)]
        width = table.ordered_columns[title].width
        if size == (120, 40):
            assert width >= max(map(cell_len, titles))  # every title whole
        assert_no_cut_figures(paged)

        await press(pilot, "2")
        paged = app.screen.query_one("#tracking", PagedTable)
        names = [r.name for r in rows_of(paged)]
        name_width = paged.table.ordered_columns[1].width
        if size == (120, 40):
            assert name_width >= max(map(len, names))
        else:  # frozen beside the scrolling quarters, which keep at least half the width
            assert 20 <= name_width < max(map(len, names))


@pytest.mark.parametrize("size", SIZES)
async def test_dashboard_heading_and_bars_fit(demo_db: Any, size: tuple[int, int]) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        period = screen.query_one("#dash-period", Static)
        picker = screen.query_one("#quarter-select", Select)
        assert not period.region.overlaps(picker.region)
        assert cell_len(str(period.render())) <= period.content_region.width  # shown whole, no ellipsis
        for _ in range(4):  # this quarter and the three before it
            bars = screen.query_one(IndicatorBars)
            lines = bars.render().split("\n")
            assert len(lines) == len(bars.progress.indicators) + 2
            for line in lines[1:-1]:
                assert line.cell_length <= bars.content_region.width, line.plain
                assert line.plain.rstrip()[-1] in STATUS_MARK.values(), line.plain
                code = line.plain.split()[0]
                if size == (120, 40):  # the name whole
                    name = next(f.name for f in bars.progress.indicators if f.code == code)
                    assert name in line.plain
            await press(pilot, "left_square_bracket")


async def test_audit_shows_labels_and_record_names(demo_db: Any) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "8")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        paged = screen.query_one("#events", PagedTable)
        kinds: set[str] = set()
        for typed in ("", "period_", "result"):  # the newest events, then the sign-offs and locks, the values
            paged.filter_input.value = typed
            await settle(pilot)
            kinds |= {str(paged.table.get_row_at(r)[4]) for r in range(paged.table.row_count)}
        assert {"Sign-off", "Period lock", "Indicator value", "Attendance"} <= kinds
        assert not any("_" in k for k in kinds)
        paged.filter_input.value = ""
        await settle(pilot)
        # an attendance: its training and participant by name, never their numbers
        await press(pilot, "slash", *"attendance", "enter")
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, RecordDetail)
        labels = dict(detail.rows)
        assert str(labels["Training"]).startswith("TR-20") and str(labels["Participant"]).startswith("P-")
        assert not any("_" in label or label.endswith(" id") for label in labels)
        await press(pilot, "escape")
        # a participant: the identity key (derived from the name) is never shown as stored
        paged.filter_input.value = "participant"
        await settle(pilot)
        row = next(r for r in rows_of(paged) if r.entity_kind == "participant" and r.action == "create")
        paged.table.move_cursor(row=paged.table.get_row_index(str(row.seq)))
        await press(pilot, "enter")
        shown = dict(app.screen.rows)
        assert "name:" not in str(shown.get("Identity key")) and "Identity key" in shown


async def test_a_training_with_one_participant_says_so(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "3", "slash", *"TR-1", "enter", "enter")
        detail = app.screen
        assert isinstance(detail, TrainingDetail)
        assert "1 participant:" in str(detail.query_one("#training-people", Static).render())
        status = str(detail.query_one("#attendances", PagedTable).query_one(".table-status", Static).render())
        assert status.startswith("1 participant") and "participants" not in status


async def test_escape_closes_the_keys_panel_first(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "question_mark")
        assert app.screen.query(HelpPanel)
        await press(pilot, "escape")
        assert not app.screen.query(HelpPanel)
        # on a screen where Escape goes back, it closes the panel and stays
        await press(pilot, "3", "enter")
        assert isinstance(app.screen, TrainingDetail)
        await press(pilot, "question_mark", "escape")
        assert isinstance(app.screen, TrainingDetail) and not app.screen.query(HelpPanel)
        await press(pilot, "escape")
        assert not isinstance(app.screen, TrainingDetail)


async def test_the_palette_offers_each_command_once(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=(80, 24)) as pilot:
        for keys, tab in ((("1",), "Dashboard"), (("2",), "Indicators"), (("3",), "Trainings"),
                          (("3", "enter"), "Trainings"), (("5", "enter"), "Milestones"), (("8",), "Audit"),
                          (("question_mark",), "Audit")):
            await press(pilot, *keys)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert len(titles) == len({t.casefold() for t in titles}), sorted(titles)
            assert "Go to Trainings" in titles
            # a screen's own actions are offered once, under their own names, not again as "<its tab>: …"
            assert not [t for t in titles if t.startswith(f"{tab}:")], sorted(titles)
            if keys[-1] == "enter":
                await press(pilot, "escape")


async def test_the_theme_is_remembered(seeded: Any) -> None:
    path = settings_path()
    assert Path(os.environ["XDG_CONFIG_HOME"]) in path.parents  # the test's own config folder, not yours
    app = make_app(seeded.db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        app.theme = "textual-light"
        await settle(pilot)
    assert json.loads(path.read_text())["theme"] == "textual-light"
    again = make_app(seeded.db)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"


def test_a_broken_settings_file_means_the_defaults(tmp_path: Path) -> None:
    from mou_tracker.tui import settings

    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert settings.load(path) == settings.UISettings()
    path.write_text(json.dumps({"theme": 7, "later": "kept"}))
    assert settings.load(path).theme == "textual-dark"
    assert settings.save(settings.UISettings(theme="nord"), path)
    assert json.loads(path.read_text()) == {"theme": "nord", "later": "kept"}


@pytest.mark.parametrize("size", SIZES)
async def test_the_new_tables_cut_no_figure(funder_demo: Any, size: tuple[int, int]) -> None:
    """The portfolio (two partnerships side by side), the developments and the commitments, walked across
    every column at both sizes."""
    app = make_app(funder_demo, partnership="ODPP-HTI-2025")
    async with app.run_test(size=size) as pilot:
        for keys, table_id in ((("0",), "#portfolio"), (("9",), "#developments"),
                               (("6", "v", "v", "v"), "#commitments"), (("2",), "#tracking")):
            await press(pilot, *keys)
            paged = app.screen.query_one(table_id, PagedTable)
            assert paged.table.row_count, table_id
            for _ in range(50):  # under load the rows may be counted before they are drawn
                if _line(paged.table, paged.table.header_height).strip():
                    break
                await pilot.pause(0.05)
            checked = 0
            for _ in range(len(paged.columns)):
                checked += assert_no_cut_figures(paged)
                await press(pilot, "right")
            assert checked or table_id == "#developments", table_id
        # the footer of every screen keeps its last key (? Keys) in view at this width
        for key in "1234567890":
            await press(pilot, key)
            footer = screen_text_of(app).splitlines()[-1].replace("\xa0", " ")
            assert "? Keys" in footer, (key, footer)


def screen_text_of(app: Any) -> str:
    from tests.tui.test_snapshots import screen_text

    return screen_text(app.export_screenshot())
