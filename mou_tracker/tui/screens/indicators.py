"""Indicators: the tracking table (indicators x quarters: target, actual, %), with targets, manual outcome
values and narratives editable in place. Every figure is the indicator engine's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import ListRequest, Page, TrackingRow, TrackingTable
from mou_tracker.services.indicators import Figures
from mou_tracker.services.programme import BASELINE_FIELDS, NARRATIVE_FIELDS, RESULT_FIELDS, TARGET_FIELDS
from mou_tracker.tui import format as fmt
from mou_tracker.tui import records
from mou_tracker.tui.forms import form_fields
from mou_tracker.tui.records import RecordKind
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


#: beside an indicator's code: outside its band in the quarter under the cursor, and no narrative explains it
MARK = "!"


def baseline_text(r: TrackingRow) -> str:
    return "–" if r.baseline is None or not r.cells else fmt.fig(r.cells[0], r.baseline.value)


def tracking_columns(table: TrackingTable, current: Quarter,
                     unexplained: Callable[[], Collection[str]] = tuple) -> list[Col[TrackingRow]]:
    """The tracking table's columns; ``unexplained()`` is the codes to mark (for the quarter under the cursor)."""

    def code(r: TrackingRow) -> Styled:
        if r.code in unexplained():
            return f"{r.code} {MARK}", "bold $error"
        return f"{r.code}  ", ""

    cols: list[Col[TrackingRow]] = [Col("", "Code", code, id="code"),
                                    Col("", "Indicator", lambda r: r.name, width=26, id="name"),
                                    Col("", "Baseline", baseline_text, right=True, id="baseline")]
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


def _baseline_values(screen: Any, r: TrackingRow) -> dict[str, Any]:
    return r.baseline.values() if r.baseline else {}


def _baseline_detail(screen: Any, r: TrackingRow) -> list[tuple[str, Any]]:
    b = r.baseline
    if b is None:
        return [("Baseline", "none recorded")]
    return [("Indicator", f"{r.code} {r.name} ({r.unit})"), ("Value", baseline_text(r)), ("Date", b.date),
            ("Source", b.source), ("Comment", b.comment)]


#: an indicator's baseline (one per indicator): set (create or change) and clear through the services
BASELINES: RecordKind[TrackingRow] = RecordKind(
    noun="baseline of", fields=BASELINE_FIELDS, code=lambda r: r.code, skip=("indicator_code",), locked=(),
    update=lambda screen, row, v, r: screen.ctx.services.set_baseline({**v, "indicator_code": row.code}, r),
    delete=lambda screen, row, reason: screen.ctx.services.delete_baseline(row.code, reason),
    describe=lambda r: f"{r.name}: {baseline_text(r)} on {r.baseline.date if r.baseline else '–'}.",
    values=_baseline_values, detail=_baseline_detail,
    note="The value before the programme: when and where it was measured (PIRS, IATI baseline).",
)


class IndicatorsScreen(MouScreen):
    MODE = "indicators"
    TABLE = "tracking"
    BINDINGS = [
        Binding("e", "edit_cell", "Edit", tooltip="Edit the target or manual value under the cursor"),
        Binding("x", "delete_cell", "Clear", tooltip="Remove the target or manual value under the cursor"),
        Binding("n", "edit_narrative", "Narrative", tooltip="Write the narrative for this indicator and quarter"),
        Binding("b", "baseline", "Baseline", tooltip="The indicator's baseline: set, change or clear it"),
        Binding("i", "reference", "Info", tooltip="The indicator's reference sheet (definition, baseline)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tracking: TrackingTable | None = None
        self.current_quarter = Quarter.of(self.ctx.reference_day)
        #: the quarter whose unexplained deviations are marked (the one under the cursor, else the current)
        self.marked_quarter = self.current_quarter
        #: per quarter, the indicators outside their band that no narrative explains (``Reader.unexplained``)
        self.unexplained: dict[Quarter, tuple[str, ...]] = {}

    def compose_body(self) -> ComposeResult:
        yield PagedTable([], None, lambda r: r.code, noun="indicator", page_size=500, cursor_type="cell",
                         fixed_columns=3, header_height=2, id="tracking")
        yield Static(id="cell-info", classes="summary")

    def refresh_data(self) -> None:
        today = self.ctx.reference_day
        self.unexplained = {}
        self.load(lambda: self.ctx.reader.tracking_table(today), self._show,
                  cover=self.table)

    def marked(self) -> tuple[str, ...]:
        return self.unexplained.get(self.marked_quarter, ())

    def _mark_quarter(self, q: Quarter) -> None:
        """Mark the unexplained deviations of ``q`` (read once per quarter and load)."""
        if q == self.marked_quarter and q in self.unexplained:
            return
        self.marked_quarter = q
        if q in self.unexplained:
            self.table.redraw_column("code")
            return
        if self.tracking is None or q not in self.tracking.quarters:
            return

        def apply(codes: tuple[str, ...]) -> None:
            self.unexplained[q] = codes
            if q == self.marked_quarter:
                self.table.redraw_column("code")
                self._highlighted()

        self.load(lambda: self.ctx.reader.unexplained(q), apply, group="unexplained")

    def _show(self, tracking: TrackingTable) -> None:
        first_time = self.tracking is None or self.tracking.quarters != tracking.quarters
        self.tracking = tracking
        table = self.table
        if first_time:
            table.set_columns(tracking_columns(tracking, self.current_quarter, self.marked))
        table.fetch = self._fetch
        table.reload()
        if first_time and self.current_quarter in tracking.quarters:
            # start with the cursor on the current quarter's actual
            column = 3 + 3 * tracking.quarters.index(self.current_quarter) + 1
            self.call_after_refresh(lambda: table.table.move_cursor(column=column, animate=False))
        self.set_heading(Content.assemble(("Indicators", "bold"), f" · tracking table {tracking.quarters[0]}–"
                                          f"{tracking.quarters[-1]}" if tracking.quarters else ""))
        self._mark_quarter(self.marked_quarter)

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
        if q is not None:
            self._mark_quarter(q)
        b = row.baseline
        head = Content.assemble((row.code, "bold"), f" {row.name} ({row.unit}, {row.kind}"
                                f"{', manual' if row.manual else ', computed'})",
                                ("" if b is None else f" · baseline {baseline_text(row)} ({b.date}"
                                 f"{', ' + b.source if b.source else ''})", "$text-muted"))
        lines = [head]
        if q is not None and f is not None:
            detail = (f"{q}: target {fmt.fig(f, f.period_target)}, actual {fmt.fig(f, f.period_actual)}"
                      f" ({fmt.pct(f.period_pct)}) {fmt.status_label(f.status)}")
            if f.period_denominator is not None:
                detail += f" · from {fmt.number(f.period_numerator, 1)} over {f.period_denominator}"
            if f.narrative:
                detail += f" · narrative: {f.narrative}"
            line = Content.styled(detail, fmt.status_colour(f.status))
            if row.code in self.unexplained.get(q, ()):
                line = Content.assemble(line, (" · needs a narrative before sign-off", "bold $error"))
            lines.append(line)
        marked = self.marked()
        if marked:
            lines.append(Content.styled(f"{MARK} {fmt.count(len(marked), 'deviation')} from target in "
                                        f"{self.marked_quarter} without a narrative (n writes one)", "$text-error"))
        info.update(Content("\n").join(lines))

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

    def action_baseline(self) -> None:
        """The baseline's detail (Edit, Delete) when there is one; else the form to set it."""
        row = self.table.current
        if row is None:
            return
        if row.baseline is not None:
            run_edit(self, lambda: records.show(self, BASELINES, row))
        elif not self.ctx.read_only:
            kind = replace(BASELINES, add_title=f"Baseline of {row.code} {row.name}",
                           create=lambda screen, v, r: BASELINES.update(screen, row, v, r))  # type: ignore[misc]

            async def flow() -> None:
                if await records.add(self, kind) is not None:
                    self.refresh_data()

            run_edit(self, flow)
        else:
            self.notify(f"{row.code} has no baseline recorded.", timeout=4)

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
                ("Disaggregations", ref.disaggregations),
                ("Baseline", "none recorded (b sets it)" if ref.baseline is None else
                 f"{fmt.input_value(ref.baseline.value)} on {ref.baseline.date}"
                 + "".join(f" · {t}" for t in (ref.baseline.source, ref.baseline.comment) if t))], edit=False)

        run_edit(self, flow)
