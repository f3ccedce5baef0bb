"""The portfolio report (`report --portfolio`): every partnership of the database for one quarter, for HTI,
which runs several country programmes (docs/reference/reports.md).

    generate_portfolio_report(reader, period=Quarter(2025, 3), output=Path("portfolio-2025-Q3.xlsx"))

Sheets: Cover; Portfolio (the roll-up of ``Reader.portfolio``: one row per indicator rolled up, one column per
partnership and the total, and a native chart); then one summary tracking table per partnership, on a sheet
named by its code. Every figure is a view's (``read.views.Portfolio``): a partnership's sheet equals its own
`progress --format json`, the totals equal `progress --all-partnerships --format json`. Periods carry HTI's
fiscal labels (HTI's party settings in the first partnership that has HTI as a party). The workbook is built
in code, in the packaged templates' style; it has no template of its own yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.domain.periods import Quarter
from mou_tracker.errors import Problem, ValidationError
from mou_tracker.outputs import check_output
from mou_tracker.read.views import PartyProfile, Portfolio, PortfolioLine
from mou_tracker.reports.fill import Writer
from mou_tracker.reports.layout import DECIMAL_FORMATS, DEFAULT_FORMATS, STATUS_LABELS
from mou_tracker.reports.printing import readable_width
from mou_tracker.reports.sheets import DEFAULT_STATUS_COLOURS, display_decimals, fraction

Progress = Callable[[int, int], None]
PRIMARY, SERIES = "1F3864", ("2E75B6", "ED7D31", "7F7F7F", "70AD47", "FFC000", "5B9BD5", "A5A5A5", "264478")
#: HTI's calendar when no partnership names HTI as a party (its default: a fiscal year from 1 October)
HTI_DEFAULT = PartyProfile("hti", "Human Trafficking Institute", 10, "end_year", "USD")
THIN = Side(style="thin", color="BFBFBF")
PCT_FMT, DATE_FMT, STAMP_FMT = DEFAULT_FORMATS["pct"], DEFAULT_FORMATS["date"], DEFAULT_FORMATS["datetime"]
RESERVED = ("cover", "portfolio")
TRACKING_HEADERS = ("Code", "Indicator", "Unit", "Target {q}", "Actual {q}", "% of target {q}", "Status {q}",
                    "Cumulative target", "Cumulative actual", "Cumulative %", "Cumulative status",
                    "Life-of-MoU target")
TRACKING_WIDTHS = (7, 40, 15, 11, 11, 10, 13, 12, 12, 11, 13, 12)


def hti_profile(portfolio: Portfolio) -> PartyProfile:
    for member in portfolio.partnerships:
        for party in member.info.parties:
            if party.code == "hti":
                return party
    return HTI_DEFAULT


def sheet_names(codes: Sequence[str]) -> list[str]:
    """A sheet name per partnership code: Excel's forbidden characters replaced, at most 31 characters,
    unique (case-insensitively, as Excel compares them) and never Cover or Portfolio."""
    out: list[str] = []
    seen = set(RESERVED)
    for code in codes:
        base = re.sub(r"[\[\]:*?/\\]", "-", code).strip("'").strip() or "Partnership"
        base = base[:31]
        name, n = base, 2
        while name.casefold() in seen:
            suffix = f" ({n})"
            name = base[:31 - len(suffix)] + suffix
            n += 1
        seen.add(name.casefold())
        out.append(name)
    return out


def _table_name(i: int, code: str) -> str:
    return f"Tracking{i}_" + (re.sub(r"[^A-Za-z0-9_]", "_", code)[:40] or "P")


class _Sheet:
    """A sheet written through the report's ``Writer``: text never becomes a formula, numbers stay typed."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.writer = Writer(ws)

    def put(self, row: int, col: int, value: Any, *, number_format: str | None = None, bold: bool = False,
            size: float = 10, colour: str | None = None, fill: str | None = None, italic: bool = False,
            wrap: bool = False, border: bool = False) -> None:
        cell = self.ws.cell(row=row, column=col)
        cell.font = Font(name="Calibri", size=size, bold=bold, italic=italic, color=colour)
        if fill:
            cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
        if number_format:
            cell.number_format = number_format
        cell.alignment = Alignment(vertical="top", wrap_text=wrap)
        if border:
            cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        self.writer.put(row, col, value, cell._style)

    def title(self, row: int, text: str) -> None:
        self.put(row, 1, text, bold=True, size=16, colour=PRIMARY)

    def note(self, row: int, text: str) -> None:
        self.put(row, 1, text, italic=True, colour="595959")

    def header(self, row: int, texts: Sequence[str], widths: Sequence[float] | None = None) -> None:
        for col, text in enumerate(texts, 1):
            self.put(row, col, text, bold=True, colour="FFFFFF", fill=PRIMARY, wrap=True, border=True)
        self.ws.row_dimensions[row].height = 42
        for col, width in enumerate(widths or (), 1):
            self.ws.column_dimensions[get_column_letter(col)].width = width

    def table(self, name: str, first_row: int, last_row: int, last_col: int) -> None:
        ref = f"A{first_row}:{get_column_letter(last_col)}{max(last_row, first_row + 1)}"
        self.ws.add_table(Table(displayName=name, ref=ref,
                                tableStyleInfo=TableStyleInfo(name="TableStyleLight1", showRowStripes=True)))

    def print_setup(self, header_row: int, last_row: int, last_col: int, paper: int = 1) -> None:
        """Landscape, header row and the code and indicator columns repeated; fitted to the page width only
        while that keeps the font at 8 pt or more (``printing.readable_width``)."""
        ws = self.ws
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = paper
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.right.text = "Page &P of &N"
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.print_title_cols = "A:B"
        ws.freeze_panes = f"A{header_row + 1}"
        readable_width(ws, header_row, last_row, last_col)


def _number_format(kind: str, decimals: int, rule: str | None = None) -> str:
    places = decimals if kind == "sum" or rule == "manual" else 1
    return DECIMAL_FORMATS.get(places, DECIMAL_FORMATS[2])


def _status_rules(ws: Worksheet, ranges: str) -> None:
    for status, label in STATUS_LABELS.items():
        fill, font = DEFAULT_STATUS_COLOURS[status]
        ws.conditional_formatting.add(ranges, CellIsRule(
            operator="equal", formula=[f'"{label}"'],
            fill=PatternFill(fill_type="solid", start_color=fill, end_color=fill), font=Font(color=font)))


def _cover(ws: Worksheet, p: Portfolio, hti: PartyProfile, chain: Any, generated_at: datetime,
           contents: Sequence[str]) -> None:
    sh = _Sheet(ws)
    label = hti.label(p.period)
    sh.title(1, f"Portfolio progress report: {label} ({p.period})")
    sh.note(2, f"{len(p.partnerships)} partnerships of {hti.name}, each with its own MoU, parties, framework and grant")
    rows: list[tuple[str, Any, str | None]] = [
        ("Reporting period", f"{label}: {p.period}, {p.period.start.isoformat()} to {p.period.end.isoformat()}", None),
        ("Fiscal calendar", f"{hti.code.upper()}: {hti.calendar}", None),
        ("As of", p.as_of if p.as_of else "none: latest records", DATE_FMT),
        ("Generated at (UTC)", generated_at.replace(tzinfo=None), STAMP_FMT),
        ("Partnerships", "; ".join(f"{m.info.code}: {m.info.name} ({m.info.country})" for m in p.partnerships)
         or "none", None),
        ("Indicators rolled up", len(p.lines), "0"),
        ("Shown per partnership only",
         (", ".join(p.not_rolled_up) + ": their unit, kind or grant currency differ between partnerships, or "
          "they are reported as one value per quarter") if p.not_rolled_up else "none", None),
        ("Audit trail: events up to the as-of time", chain.events, "#,##0"),
        (f"Audit-chain head (hash of event {chain.seq})", chain.hash or "-", None),
        ("Contents", ", ".join(contents), None),
    ]
    for r, (name, value, number_format) in enumerate(rows, 4):
        sh.put(r, 1, name, bold=True, size=11, colour=PRIMARY, wrap=True)
        sh.put(r, 2, value, size=11, number_format=number_format, wrap=True)
    r = len(rows) + 5
    sh.note(r, "How the portfolio adds up: an indicator is rolled up only across partnerships whose indicator of "
               "that code has the same unit and kind (money only in one grant currency); counts add up, means "
               "and shares are pooled from their numerators and denominators. There are no portfolio targets: "
               "targets and statuses belong to each MoU. The figures equal `mou-tracker progress "
               f"--all-partnerships --period {p.period} --format json`.")
    ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
    ws.row_dimensions[r].height = 60
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 100
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _line_value(line: PortfolioLine, code: str, attr: str) -> Any:
    for member, f in line.figures:
        if member == code:
            return getattr(f, attr)
    return None


def _portfolio_sheet(ws: Worksheet, p: Portfolio, hti: PartyProfile, sheets: Sequence[str]) -> None:
    sh = _Sheet(ws)
    q = str(p.period)
    sh.title(1, f"Portfolio: {hti.label(p.period)} ({q})")
    sh.note(2, "One row per indicator rolled up; one column per partnership (its actual for the quarter), then "
               "the portfolio totals. Each partnership's own sheet has its targets and statuses.")
    sh.note(3, "Shown per partnership only: " + (", ".join(p.not_rolled_up) if p.not_rolled_up else "none") + ".")
    codes = [m.info.code for m in p.partnerships]
    header_row = 5
    heads = ["Code", "Indicator", "Unit", "Partnerships rolled up", *codes, f"Total {q}", "Total to date"]
    widths = [7, 40, 15, 12, *([12] * len(codes)), 13, 13]
    sh.header(header_row, heads, widths)
    row = header_row
    for line in p.lines:
        row += 1
        number = _number_format(line.kind, line.decimals)
        values: list[Any] = [line.code, line.name, line.unit, line.partnerships]
        values += [_line_value(line, c, "period_actual") for c in codes]
        values += [line.period_actual, line.cumulative_actual]
        for col, value in enumerate(values, 1):
            sh.put(row, col, value, number_format=number if col > 4 else ("0" if col == 4 else None),
                   bold=col == len(values) - 1, wrap=col == 2)
    if row == header_row:
        row += 1
        sh.put(row, 1, "No indicator is shared by the partnerships (or there is no partnership).")
    sh.table("Portfolio", header_row, row, len(heads))
    sh.print_setup(header_row, row, len(heads))
    _portfolio_chart(ws, p, header_row, codes, row)
    note_row = row + 2
    sh.note(note_row, "Partnership sheets: " + ", ".join(sheets) + ".")


def _portfolio_chart(ws: Worksheet, p: Portfolio, header_row: int, codes: Sequence[str], last_row: int) -> None:
    """A column chart per partnership of the people indicators (1.2, 1.3, or any rolled-up count of people)."""
    rows = [header_row + 1 + i for i, line in enumerate(p.lines) if line.unit == "people" and line.kind == "sum"]
    if not rows or not codes:
        rows = [header_row + 1 + i for i, line in enumerate(p.lines) if line.kind == "sum"][:1]
    if not rows or not codes:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = f"People newly trained in {p.period}, per partnership"
    chart.y_axis.title = "people"
    chart.y_axis.number_format = "#,##0"
    first_col, last_col = 5, 4 + len(codes)
    for n, r in enumerate(rows):
        chart.add_data(Reference(ws, min_col=first_col - 1, max_col=last_col, min_row=r, max_row=r),
                       from_rows=True, titles_from_data=True)
        chart.series[-1].graphicalProperties.solidFill = SERIES[n % len(SERIES)]
    # the series title is the "Partnerships rolled up" cell: name it after the indicator instead
    for series, r in zip(chart.series, rows, strict=True):
        series.tx = SeriesLabel(v=f"{ws.cell(row=r, column=1).value} {ws.cell(row=r, column=2).value}")
    # the categories are the partnership codes (text): a string reference, so that no program reads numbers
    cats = Reference(ws, min_col=first_col, max_col=last_col, min_row=header_row, max_row=header_row)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(cats)))
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width, chart.height = 24.0, 10.0
    ws.add_chart(chart, f"B{last_row + 4}")


def _partnership_sheet(ws: Worksheet, index: int, member: Any, p: Portfolio, hti: PartyProfile) -> None:
    sh = _Sheet(ws)
    info = member.info
    q = str(p.period)
    sh.title(1, f"{info.code}: {info.name}")
    currency = member.currency if member.currency not in (None, "mixed") else (
        "several currencies" if member.currency == "mixed" else "no grant yet")
    sh.note(2, f"{info.country}; MoU from {info.start_date.isoformat()}"
               + (f" to {info.end_date.isoformat()}" if info.end_date else "")
               + f". {hti.label(p.period)} ({q}); grant currency: {currency}. The figures equal `mou-tracker "
               f"--partnership {info.code} progress --period {q} --format json`.")
    header_row = 4
    sh.header(header_row, [h.format(q=q) for h in TRACKING_HEADERS], TRACKING_WIDTHS)
    row = header_row
    for f in member.progress.indicators:
        row += 1
        number = DECIMAL_FORMATS.get(display_decimals(f), DECIMAL_FORMATS[2])
        values = [f.code, f.name, f.unit, f.period_target, f.period_actual, fraction(f.period_pct),
                  STATUS_LABELS.get(f.status, f.status), f.cumulative_target, f.cumulative_actual,
                  fraction(f.cumulative_pct), STATUS_LABELS.get(f.cumulative_status, f.cumulative_status),
                  f.life_target]
        formats = [None, None, None, number, number, PCT_FMT, None, number, number, PCT_FMT, None, number]
        for col, (value, number_format) in enumerate(zip(values, formats, strict=True), 1):
            sh.put(row, col, value, number_format=number_format, wrap=col == 2)
    if row == header_row:
        row += 1
        sh.put(row, 1, "No indicator in this partnership's framework.")
    sh.table(_table_name(index, info.code), header_row, row, len(TRACKING_HEADERS))
    if row > header_row:
        _status_rules(ws, f"G{header_row + 1}:G{row} K{header_row + 1}:K{row}")
    sh.print_setup(header_row, row, len(TRACKING_HEADERS))


def build_workbook(p: Portfolio, chain: Any, generated_at: datetime, tick: Callable[[], None] = lambda: None
                   ) -> Workbook:
    hti = hti_profile(p)
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    names = sheet_names([m.info.code for m in p.partnerships])
    portfolio = wb.create_sheet("Portfolio")
    _portfolio_sheet(portfolio, p, hti, names)
    tick()
    for i, (member, name) in enumerate(zip(p.partnerships, names, strict=True), 1):
        _partnership_sheet(wb.create_sheet(name), i, member, p, hti)
        tick()
    _cover(cover, p, hti, chain, generated_at, ["Portfolio", *names])
    for ws in wb.worksheets:
        ws.sheet_properties.tabColor = PRIMARY
    props: Any = wb.properties
    props.title = f"Portfolio progress report {p.period}"
    props.creator = "mou-tracker"
    props.created = generated_at.replace(tzinfo=None)
    return wb


def generate_portfolio_report(reader: Any, *, period: Quarter | str, output: Path | str,
                              progress: Progress | None = None) -> Path:
    """Write the portfolio report for ``period`` to ``output`` from ``reader`` (live, or as of its day)."""
    from mou_tracker.reports import _save, check_period_output, ticker

    problems: list[Problem] = []
    quarter, out = check_period_output(period, output, problems)
    if problems:
        raise ValidationError(problems)
    check_output(out, suffix=".xlsx", db_file=reader.db_file)
    portfolio = reader.portfolio(quarter)
    tick = ticker(len(portfolio.partnerships) + 3, progress)
    tick()
    wb = build_workbook(portfolio, reader.chain_head(), datetime.now(UTC).replace(microsecond=0), tick)
    _save(wb, out, db_file=reader.db_file)
    tick()
    return out
