"""What a funder asks for, recorded in the UI like the other records: deviation narratives (the Indicators
screen marks every indicator outside its band that no narrative explains for the quarter under the cursor),
baselines (shown and set beside each indicator), significant developments (a screen of their own) and
commitments (a tab of the Grant screen, with the converted amount shown before saving)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.widgets import Input, Select, Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.reader import Reader
from mou_tracker.tui.forms import ExistingRecord, ReasonScreen, RecordDetail, RecordForm
from mou_tracker.tui.screens.developments import DevelopmentsScreen
from mou_tracker.tui.screens.indicators import MARK
from mou_tracker.tui.widgets import PagedTable
from tests.tui.conftest import SIZE, fill, make_app, press, rows_of, settle, type_text


def _text(widget: Static) -> str:
    return str(widget.render())


def code_cell(paged: PagedTable[Any], code: str) -> str:
    row = [r.code for r in rows_of(paged)].index(code)
    return str(paged.table.get_row_at(row)[0])


async def give_reason(pilot: Any, app: Any, text: str = "typed wrongly") -> None:
    """Answer the reason dialog when the audit trail asks for one."""
    if isinstance(app.screen, ReasonScreen):
        app.screen.query_one("#category", Select).value = "data correction"
        await type_text(pilot, app.screen.query_one("#reason-text", Input), text)
        await press(pilot, "enter")


async def to_cell(pilot: Any, paged: PagedTable[Any], code: str, column: str) -> None:
    paged.table.move_cursor(row=[r.code for r in rows_of(paged)].index(code),
                            column=paged.table.get_column_index(column))
    await settle(pilot)


async def test_a_deviation_without_a_narrative_is_marked_until_one_is_written(seeded: Any) -> None:
    seeded.set_target("1.1", "2025-Q3", 5)  # 2 trainings ended in 2025-Q3: 40 %, below the band
    seeded.set_target("1.1", "2025-Q4", 1)  # 1 in 2025-Q4: on track
    with Reader(seeded.db) as reader:
        assert reader.unexplained(Quarter(2025, 3)) == ("1.1",)
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        screen = app.screen
        paged = screen.query_one("#tracking", PagedTable)
        info = screen.query_one("#cell-info", Static)
        await to_cell(pilot, paged, "1.1", "2025-Q3|a")
        assert code_cell(paged, "1.1") == f"1.1 {MARK}"
        assert code_cell(paged, "1.2").strip() == "1.2"  # no target: nothing to explain
        assert "below target · needs a narrative before sign-off" in _text(info)
        assert f"{MARK} 1 deviation from target in 2025-Q3 without a narrative" in _text(info)
        # the mark follows the quarter under the cursor: 2025-Q4 is on track
        await to_cell(pilot, paged, "1.1", "2025-Q4|a")
        assert code_cell(paged, "1.1").strip() == "1.1" and "needs a narrative" not in _text(info)
        await to_cell(pilot, paged, "1.1", "2025-Q3|t")
        assert code_cell(paged, "1.1") == f"1.1 {MARK}"
        # writing the narrative clears it
        await press(pilot, "n")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Narrative for 1.1 in 2025-Q3"
        await fill(pilot, form, text="Two of five trainings held: the courts' recess moved three to October.")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        await settle(pilot)
        assert code_cell(paged, "1.1").strip() == "1.1"
        assert "needs a narrative" not in _text(info) and "narrative: Two of five" in _text(info)
        assert "without a narrative" not in _text(info)
    with Reader(seeded.db) as reader:
        assert reader.unexplained(Quarter(2025, 3)) == ()


async def test_a_baseline_is_shown_set_changed_and_cleared_beside_its_indicator(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        screen = app.screen
        paged = screen.query_one("#tracking", PagedTable)
        info = screen.query_one("#cell-info", Static)
        await to_cell(pilot, paged, "OC1", "2025-Q3|a")
        row = [r.code for r in rows_of(paged)].index("OC1")
        baseline_col = paged.table.get_column_index("baseline")
        assert str(paged.table.get_row_at(row)[baseline_col]) == "–"
        await press(pilot, "b")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text.startswith("Baseline of OC1")
        await fill(pilot, form, value="12", date="2024-12-31", source="ODPP annual report 2024")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        await settle(pilot)
        assert str(paged.table.get_row_at(row)[baseline_col]) == "12"
        assert "baseline 12 (2024-12-31, ODPP annual report 2024)" in _text(info)
        # b again: the baseline's detail, with Edit and Delete
        await press(pilot, "b")
        detail = app.screen
        assert isinstance(detail, RecordDetail) and ("Source", "ODPP annual report 2024") in detail.rows
        await press(pilot, "e")
        await fill(pilot, app.screen, value="14")
        await press(pilot, "ctrl+s")
        await give_reason(pilot, app, "the 2024 report was revised")
        await settle(pilot)
        assert app.screen is screen and str(paged.table.get_row_at(row)[baseline_col]) == "14"
        await press(pilot, "b", "x")
        assert isinstance(app.screen, ReasonScreen) and "Delete baseline of OC1?" in app.screen.title_text
        await give_reason(pilot, app, "measured for another region")
        await settle(pilot)
        assert str(paged.table.get_row_at(row)[baseline_col]) == "–" and "baseline" not in _text(info)
    with Reader(seeded.db) as reader:
        assert reader.indicator_reference("OC1").baseline is None
        history = [(e.action, e.reason) for e in reader.events().rows if e.entity_kind == "baseline"]
        assert [a for a, _r in history] == ["delete", "update", "create"]


async def test_developments_are_logged_edited_and_deleted(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "9")
        screen = app.screen
        assert isinstance(screen, DevelopmentsScreen)
        paged = screen.query_one("#developments", PagedTable)
        assert rows_of(paged) == []
        await press(pilot, "a")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Log a significant development"
        await fill(pilot, form, date="2025-09-03", category="Delay", text="Court recess moved two trainings",
                   reference="SD-1")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        await settle(pilot)
        [row] = rows_of(paged)
        assert (str(row.date), row.category, row.text, row.reference) == (
            "2025-09-03", "Delay", "Court recess moved two trainings", "SD-1")
        # the same reference again is refused, naming it; the existing one can be opened instead
        await press(pilot, "a")
        await fill(pilot, app.screen, date="2025-09-04", category="Risk", text="again", reference="SD-1")
        await press(pilot, "ctrl+s")
        refused = app.screen
        assert isinstance(refused, ExistingRecord) and "development SD-1 already exists" in "\n".join(
            refused.exc.lines())
        await press(pilot, "o")
        assert isinstance(app.screen, RecordDetail) and app.screen.title_text == "Development SD-1"
        await press(pilot, "escape")
        assert app.screen is screen and len(rows_of(paged)) == 1
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, RecordDetail) and detail.title_text == "Development SD-1"
        await press(pilot, "e")
        await fill(pilot, app.screen, category="Risk")
        await press(pilot, "ctrl+s")
        await give_reason(pilot, app)
        await settle(pilot)
        assert rows_of(paged)[0].category == "Risk"
        await press(pilot, "x")
        assert isinstance(app.screen, ReasonScreen) and "Delete development SD-1?" in app.screen.title_text
        await give_reason(pilot, app, "logged in the wrong partnership")
        await settle(pilot)
        assert rows_of(paged) == []
    with Reader(seeded.db) as reader:
        assert reader.developments().rows == ()


async def test_commitments_are_a_tab_of_the_grant_with_the_converted_amount(seeded: Any) -> None:
    app = make_app(seeded.db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "6", "v", "v", "v")
        screen = app.screen
        assert screen.tab == "commitments"
        paged = screen.query_one("#commitments", PagedTable)
        await press(pilot, "a")
        form = app.screen
        assert isinstance(form, RecordForm) and form.title_text == "Record a commitment"
        assert form.query_one("#f-status", Select).value == "Open"
        await fill(pilot, form, code="CM-1", date="2025-09-01", line_code="BL1", description="Printing of manuals",
                   amount="129000", currency="KES", rate="0.0077")
        await settle(pilot)
        assert "In USD: 993.30" in _text(form.query_one("#form-preview", Static))
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        await settle(pilot)
        [row] = rows_of(paged)
        assert (row.code, row.amount_grant, row.status) == ("CM-1", Decimal("993.30"), "Open")
        # paid: Liquidated
        await press(pilot, "e")
        await fill(pilot, app.screen, status="Liquidated")
        await press(pilot, "ctrl+s")
        await give_reason(pilot, app, "paid on 30 September")
        await settle(pilot)
        assert rows_of(paged)[0].status == "Liquidated"
        await press(pilot, "enter")
        assert ("Amount in grant currency", Decimal("993.30")) in app.screen.rows
        await press(pilot, "x")
        assert isinstance(app.screen, ReasonScreen) and "Delete commitment CM-1?" in app.screen.title_text
        await give_reason(pilot, app, "entered twice")
        await settle(pilot)
        assert rows_of(paged) == []
