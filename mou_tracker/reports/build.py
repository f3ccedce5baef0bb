"""Turning a loaded template into the report: check its shape first (before any database work), then fill
every sheet, draw the charts, colour the statuses and set the print titles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.read.views import ReportData
from mou_tracker.reports.fill import (
    PLACEHOLDER,
    Placed,
    TemplateError,
    TemplateTable,
    Writer,
    fill_placeholders,
    find_tables,
    fold_columns,
    layout_sections,
    repeat_block,
)
from mou_tracker.reports.layout import COVER, PARTICIPANTS, SHEETS, SHEETS_BY_NAME, STATUS, SUMMARY
from mou_tracker.reports.printing import print_tracking_table, readable_width
from mou_tracker.reports.profiles import ReportProfile
from mou_tracker.reports.sheets import (
    ROWS,
    LegendStyle,
    Placeholders,
    add_charts,
    colour_statuses,
    empty_text,
    legend_style,
)


@dataclass
class Plan:
    wb: Workbook
    where: str
    #: report sheets to fill, in workbook order, with their template tables
    sheets: list[tuple[Worksheet, list[TemplateTable]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.sheets)


def plan(wb: Workbook, profile: ReportProfile, include_personal_data: bool, where: str) -> Plan:
    """Check the template holds what this report needs; drop the report sheets it should not carry."""
    wanted = set(profile.sheets) | ({PARTICIPANTS} if include_personal_data else set())
    out = Plan(wb, where)
    present = set(wb.sheetnames)
    for layout in SHEETS:
        if layout.name in wanted and layout.name not in present:
            if layout.required or layout.name == PARTICIPANTS:
                raise TemplateError(f"{where} has no sheet '{layout.name}' (sheets: {', '.join(wb.sheetnames)})")
            out.notes.append(f"{where} has no sheet '{layout.name}', so the report leaves it out")
    for ws in list(wb.worksheets):
        known = SHEETS_BY_NAME.get(ws.title)
        if known is not None and known.name not in wanted:
            wb.remove(ws)
            continue
        tables = find_tables(ws, known.sections, where, notes=out.notes) if known is not None else []
        out.sheets.append((ws, tables))
    if not out.sheets:
        raise TemplateError(f"{where} holds no sheet")
    return out


def fill(plan: Plan, data: ReportData, *, generated_at: datetime, include_personal_data: bool,
         tick: Callable[[], None]) -> list[str]:
    notes = list(plan.notes)
    resolve = Placeholders(data, generated_at=generated_at, include_personal_data=include_personal_data)
    resolve.contents = [ws.title for ws, _ in plan.sheets if ws.title != COVER]
    charts: dict[str, tuple[Worksheet, int, int]] = {}
    legend: dict[str, LegendStyle] = {}
    placed: dict[str, tuple[Worksheet, Placed]] = {}
    for ws, tables in plan.sheets:
        for t in tables:
            if t.spec.block is not None:
                _repeat_quarters(ws, t, data)
        writer = Writer(ws)
        found = fill_placeholders(ws, resolve, f"{plan.where}, {ws.title}", writer)
        legend.update({k: legend_style(ws.cell(row=r, column=c)) for k, (r, c) in found.items()
                       if k.startswith("legend:")})
        done, moved = layout_sections(ws, writer, tables, lambda spec: ROWS[spec.table](data),
                                      lambda spec: empty_text(data, spec))
        placed.update({p.spec.table: (ws, p) for p in done})
        charts.update({k: (ws, moved(r), c) for k, (r, c) in found.items() if k.startswith("chart:")})
        if tables:
            _print_setup(ws)
            if any(p.spec.block is not None for p in done):
                _print_tracking(ws, next(p for p in done if p.spec.block is not None), data)
            elif ws.title != SUMMARY:
                readable_width(ws, done[0].header_row, max(p.last_row for p in done), max(p.max_col for p in done))
        tick()
    for _table, (ws, p) in placed.items():
        if p.spec.block is not None:
            colour_statuses(ws, p, legend)
    add_charts(charts, placed, notes.append)
    _finish(plan.wb, data, generated_at)
    return notes


def _repeat_quarters(ws: Worksheet, t: TemplateTable, data: ReportData) -> None:
    """One block of columns per quarter; quarters of earlier fiscal years are folded away (still there)."""
    assert t.spec.block is not None
    labels = [(str(q), data.party.label(q)) for q in data.quarters]
    repeat_block(ws, t, t.spec.block, len(labels), lambda k, text: _quarter_text(text, *labels[k]))
    earlier = sum(1 for q in data.quarters if q < data.party.fiscal_year_start(data.period))
    if earlier:
        width = t.spec.block[1] - t.spec.block[0]
        first = t.min_col + t.spec.block[0]
        fold_columns(ws, first, first + earlier * width - 1)


def _quarter_text(text: str, quarter: str, fiscal: str) -> str:
    """Fill the per-quarter placeholders of the tracking table's repeated columns; leave the others."""
    return PLACEHOLDER.sub(lambda m: {"q": quarter, "q_fiscal": fiscal}.get(m.group(1), m.group(0)), text)


def _print_tracking(ws: Worksheet, p: Placed, data: ReportData) -> None:
    """One fiscal year per page width, at a scale that keeps the table's fonts at 8 pt or more."""
    assert p.spec.block is not None
    b0, b1 = p.spec.block
    width = b1 - b0
    cols = p.spec.columns
    first_block = p.min_col + b0
    groups: list[list[int]] = [list(range(p.min_col, first_block))]
    last = None
    col = first_block
    for q in data.quarters:
        start = data.party.fiscal_year_start(q)
        if start != last:
            groups.append([])
            last = start
        groups[-1] += range(col, col + width)
        col += width
    # after the quarters: the cumulative and status columns, then how means and shares were computed
    tail = [i for i in range(b1, len(cols))]
    split = max((i for i in tail if cols[i].kind == STATUS), default=tail[-1]) + 1
    after = col - (p.min_col + b1)  # column offset of the tail in the sheet
    for part in (range(b1, split), range(split, len(cols))):
        if len(part):
            groups.append([p.min_col + i + after for i in part])
    print_tracking_table(ws, groups=groups, band_row=max(1, p.header_row - 1), last_row=p.last_row)


def _print_setup(ws: Worksheet) -> None:
    """A fixed print area would cut a grown table short (the template's print titles stay as they are)."""
    ws.print_area = None


def _finish(wb: Workbook, data: ReportData, generated_at: datetime) -> None:
    cover = wb[COVER] if COVER in wb.sheetnames else wb.worksheets[0]
    wb.active = wb.worksheets.index(cover)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is cover
    props: Any = wb.properties
    props.title = f"{data.partnership_name}: progress report {data.period} for {data.party.code.upper()}"
    props.creator = "mou-tracker"
    props.created = generated_at.replace(tzinfo=None)
