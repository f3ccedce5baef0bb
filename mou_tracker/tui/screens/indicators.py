"""Indicators: the tracking table (indicators x quarters: target, actual, %), with targets, manual outcome
values and narratives editable in place. Every figure is the indicator engine's."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import ListRequest, Page, TrackingRow, TrackingTable
from mou_tracker.services.indicators import Figures
from mou_tracker.services.programme import NARRATIVE_FIELDS, RESULT_FIELDS, TARGET_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui.forms import form_fields
from mou_tracker.tui.screens.base import MouScreen, open_detail, open_form, run_edit
from mou_tracker.tui.widgets import Col, PagedTable, Styled

TARGET, ACTUAL, PCT = "t", "a", "p"


def _styled(text: str, status: str) -> Styled:
    return text, fmt.status_colour(status)


def quarter_columns(q: Quarter, i: int) -> list[Col[TrackingRow]]:
    def cell(r: TrackingRow) -> Figures:
        return r.cells[i]

    return [
        Col("", f"{q}\ntarget", lambda r: fmt.fig(cell(r), cell(r).period_target), right=True, id=f"{q}|{TARGET}"),
        # each column names its quarter: scrolled sideways, a quarter's columns may be in view without the others
        Col("", f"{q}\nactual", lambda r: _styled(fmt.fig(cell(r), cell(r).period_actual), cell(r).status),
            right=True, id=f"{q}|{ACTUAL}"),
        Col("", f"{q}\n%", lambda r: _styled(fmt.pct(cell(r).period_pct), cell(r).status), right=True,
            id=f"{q}|{PCT}"),
    ]


def tracking_columns(table: TrackingTable, current: Quarter) -> list[Col[TrackingRow]]:
    cols: list[Col[TrackingRow]] = [Col("", "Code", lambda r: r.code, id="code"),
                                    Col("", "Indicator", lambda r: r.name, width=26, id="name")]
    for i, q in enumerate(table.quarters):
        cols += quarter_columns(q, i)
    if current in table.quarters:
        i = table.quarters.index(current)
        to = f"to {current}"

        def cum(r: TrackingRow) -> Figures:
            return r.cells[i]

        cols += [
            Col("", f"{to}\ncum. target", lambda r: fmt.fig(cum(r), cum(r).cumulative_target), right=True, id="cum|t"),
            Col("", f"{to}\ncum. actual", lambda r: _styled(fmt.fig(cum(r), cum(r).cumulative_actual),
                                                         cum(r).cumulative_status), right=True, id="cum|a"),
            Col("", f"{to}\ncum. %", lambda r: _styled(fmt.pct(cum(r).cumulative_pct), cum(r).cumulative_status),
                right=True, id="cum|p"),
        ]
    if table.rows:
        cols.append(Col("", "Life\ntarget", lambda r: fmt.fig(r.cells[-1], r.cells[-1].life_target), right=True,
                        id="life"))
    return cols


class IndicatorsScreen(MouScreen):
    MODE = "indicators"
    TABLE = "tracking"
    BINDINGS = [
        Binding("e", "edit_cell", "Edit", tooltip="Edit the target or manual value under the cursor"),
        Binding("x", "delete_cell", "Clear", tooltip="Remove the target or manual value under the cursor"),
        Binding("n", "edit_narrative", "Narrative", tooltip="Write the narrative for this indicator and quarter"),
        Binding("i", "reference", "Reference", tooltip="The indicator's reference sheet"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tracking: TrackingTable | None = None
        self.current_quarter = Quarter.of(self.ctx.reference_day)

    def compose_body(self) -> ComposeResult:
        yield PagedTable([], None, lambda r: r.code, noun="indicator", page_size=500, cursor_type="cell",
                         fixed_columns=2, header_height=2, id="tracking")
        yield Static(id="cell-info", classes="summary")

    def refresh_data(self) -> None:
        today = self.ctx.reference_day
        self.load(lambda: self.ctx.reader.tracking_table(today), self._show,
                  cover=self.table)

    def _show(self, tracking: TrackingTable) -> None:
        first_time = self.tracking is None or self.tracking.quarters != tracking.quarters
        self.tracking = tracking
        table = self.table
        if first_time:
            table.set_columns(tracking_columns(tracking, self.current_quarter))
        table.fetch = self._fetch
        table.reload()
        if first_time and self.current_quarter in tracking.quarters:
            # start with the cursor on the current quarter's actual
            column = 2 + 3 * tracking.quarters.index(self.current_quarter) + 1
            self.call_after_refresh(lambda: table.table.move_cursor(column=column, animate=False))
        self.set_heading(Content.assemble(("Indicators", "bold"), f" · tracking table {tracking.quarters[0]}–"
                                          f"{tracking.quarters[-1]}" if tracking.quarters else ""))

    def _fetch(self, req: ListRequest) -> Page[TrackingRow]:
        rows = self.tracking.rows if self.tracking else ()
        text = req.text.strip().casefold()
        if text:
            rows = tuple(r for r in rows if text in f"{r.code} {r.name} {r.unit}".casefold())
        return Page(tuple(rows[req.offset:req.offset + req.limit]), len(rows), req.offset, req.limit)

    # What is under the cursor -----------------------------------------------------------------------------------
    def _cell(self) -> tuple[TrackingRow, Quarter | None, str | None, Figures | None] | None:
        row, column = self.table.current, self.table.current_column
        if row is None or self.tracking is None:
            return None
        if column and "|" in column and not column.startswith(("cum", "life")):
            q_text, which = column.split("|")
            q = Quarter.parse(q_text)
            return row, q, which, row.cells[self.tracking.quarters.index(q)]
        return row, None, None, None

    @on(PagedTable.Highlighted, "#tracking")
    def _highlighted(self) -> None:
        found = self._cell()
        info = self.query_one("#cell-info", Static)
        if found is None:
            info.update("")
            return
        row, q, _which, f = found
        head = Content.assemble((row.code, "bold"), f" {row.name} ({row.unit}, {row.kind}"
                                f"{', manual' if row.manual else ', computed'})")
        if q is None or f is None:
            info.update(head)
            return
        detail = (f"{q}: target {fmt.fig(f, f.period_target)}, actual {fmt.fig(f, f.period_actual)}"
                  f" ({fmt.pct(f.period_pct)}) {fmt.status_label(f.status)}")
        if f.period_denominator is not None:
            detail += f" · from {fmt.number(f.period_numerator, 1)} over {f.period_denominator}"
        if f.narrative:
            detail += f" · narrative: {f.narrative}"
        info.update(Content("\n").join([head, Content.styled(detail, fmt.status_colour(f.status))]))

    @on(PagedTable.Opened, "#tracking")
    def _opened(self) -> None:
        found = self._cell()
        if found is None:
            return
        if found[2] in (TARGET, ACTUAL) and not self.ctx.read_only:
            self.action_edit_cell()
        else:
            self.action_reference()

    def action_edit_cell(self) -> None:
        found = self._cell()
        if found is None:
            return
        row, q, which, f = found
        if q is None or which not in (TARGET, ACTUAL) or f is None:
            self.notify("Put the cursor on a quarter's target or actual to edit it.", timeout=4)
            return
        services, period = self.ctx.services, str(q)
        if which == TARGET:
            run_edit(self, lambda: self._edit(
                f"Target for {row.code} in {period}", form_fields(TARGET_FIELDS, skip=("indicator_code", "period")),
                {"value": f.period_target}, lambda v, r: services.set_target(row.code, period, v["value"], r)))
            return
        if not row.manual:
            self.notify(f"{row.code} is computed from the records; change the records to change it.", timeout=5)
            return

        async def flow() -> None:
            found_value = await asyncio.to_thread(
                self.ctx.reader.manual_result, row.code, period)
            values = {"value": found_value.value, "source": found_value.source} if found_value else {}
            await self._edit(f"{row.code} value for {period}",
                             form_fields(RESULT_FIELDS, skip=("indicator_code", "period")), values,
                             lambda v, r: services.set_result(row.code, period, v["value"], v["source"], r))

        run_edit(self, flow)

    async def _edit(self, title: str, fields: Any, values: dict[str, Any], save: Any) -> None:
        if await open_form(self, title, fields, values, save):
            self.refresh_data()

    def action_delete_cell(self) -> None:
        found = self._cell()
        if found is None or found[1] is None or found[2] not in (TARGET, ACTUAL):
            return
        row, q, which, _f = found
        period = str(q)
        if which == ACTUAL and not row.manual:
            self.notify(f"{row.code} is computed from the records; there is no typed value to remove.", timeout=5)
            return
        services = self.ctx.services
        what = f"the {'target' if which == TARGET else 'value'} of {row.code} for {period}"

        def delete(reason: Any) -> None:
            if which == TARGET:
                services.delete_target(row.code, period, reason)
            else:
                services.delete_result(row.code, period, reason)

        async def flow() -> None:
            if await self.mou.confirm_delete(what, f"{row.name}, {period}.", delete):
                self.refresh_data()

        run_edit(self, flow)

    def action_edit_narrative(self) -> None:
        found = self._cell()
        if found is None or found[1] is None or found[3] is None:
            self.notify("Put the cursor on a quarter to write its narrative.", timeout=4)
            return
        row, q, _which, f = found
        period, services, text = str(q), self.ctx.services, f.narrative if f else None
        run_edit(self, lambda: self._edit(
            f"Narrative for {row.code} in {period}", form_fields(NARRATIVE_FIELDS, skip=("indicator_code", "period")),
            {"text": text}, lambda v, r: services.set_narrative(row.code, period, v["text"], r) or "cleared"))

    def action_reference(self) -> None:
        row = self.table.current
        if row is None:
            return

        async def flow() -> None:
            ref = await asyncio.to_thread(self.ctx.reader.indicator_reference, row.code)
            if ref is None:
                return
            direction = "higher is better" if ref.higher_is_better else "lower is better"
            await open_detail(self, f"Indicator {ref.code}: {ref.name}", [
                ("Unit", ref.unit), ("Kind", ref.kind), ("Computed", "manual value per quarter" if ref.rule == "manual"
                                                         else f"from the records ({ref.rule})"),
                ("Status bands", f"on track from {ref.band_low}% to {ref.band_high}% of target; {direction}"),
                ("Definition", ref.definition), ("Data source", ref.data_source), ("How computed", ref.how_computed),
                ("Disaggregations", ref.disaggregations)], edit=False)

        run_edit(self, flow)
