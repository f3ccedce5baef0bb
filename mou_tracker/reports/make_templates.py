"""(Re)build the report templates ``templates/xlsx/hti.xlsx`` and ``odpp.xlsx``.

    .venv/bin/python -m mou_tracker.reports.make_templates [--out DIR]

The committed workbooks are the source of truth that users restyle; run this only to start them afresh
(it overwrites them). Each sheet holds: a title and notes with ``{{placeholders}}``, then one Excel table
per list, each with its header row and one styled row that every data row copies (font, fill, border,
alignment, number format). See ``mou_tracker.reports.fill`` for the rules a restyled template keeps to.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.paths import templates_dir
from mou_tracker.reports.layout import (
    COVER,
    DEFAULT_FORMATS,
    FINANCE,
    INDICATORS,
    SHEETS,
    SUMMARY,
    Section,
    SheetLayout,
)
from mou_tracker.reports.sheets import DEFAULT_STATUS_COLOURS


@dataclass(frozen=True)
class Palette:
    party: str
    title: str
    primary: str
    series: tuple[str, str, str]
    paper: int  # openpyxl paper size: 1 = Letter, 9 = A4


PALETTES = {
    "hti": Palette("hti", "MoU progress report for {{party_name}}", "1F3864", ("2E75B6", "ED7D31", "7F7F7F"), 1),
    "odpp": Palette("odpp", "MoU progress report for {{party_name}}", "00563F", ("2E8B57", "B22222", "7F7F7F"), 9),
}

# Rows above each sheet's first table (label, then cells); a row is a tuple of cell texts from column A.
HEADS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Trainings": (("Trainings to the end of {{period}} ({{period_label}})",),
                  ("One row per training ended by {{period_end}}, with its participants counted by sex and "
                   "agency. Personal data: {{personal_data}}.",)),
    "Technical support": (("Technical support to the end of {{period}} ({{period_label}})",),
                          ("One row per engagement dated by {{period_end}}. Cases appear only by their "
                           "anonymised reference.",)),
    "Milestones": (("Advisory milestones ({{as_of_text}})",),
                   ("Slippage = current due date - original due date (days). 'Completed vs original due' is "
                    "negative when finished early. Overdue: not completed or cancelled, and due by {{period_end}}.",)),
    "Milestone history": (("Milestone history: every change, from the audit trail",),
                          ("Every change recorded ({{as_of_text}}). Times are UTC; each change shows the reason "
                           "recorded with it.",)),
    "Finance": (("Finance to the end of {{period}} ({{period_label}})",),
                ("{{currency_note}}",),
                ("Warnings: {{fin:warnings}}",),
                ("SF-425 lines below: {{sf425_draft}}",)),
    "Developments": (("Significant developments of {{period}} ({{period_label}})",),
                     ("Risks, opportunities, delays and changes in context dated in the quarter, as logged when they "
                      "became known (2 CFR 200.329 asks for them as soon as known).",)),
    "Definitions": (("Indicator reference sheets",),
                    ("How each indicator is defined and computed. A figure is on track between the two "
                     "percentages of its target; 'lower is better' indicators mirror the bands.",)),
    "Sign-off": (("Sign-off of {{period}} ({{period_label}})",),
                 ("{{signoff_summary}} {{lock_summary}}",)),
    "Participants": (("Participants: PERSONAL DATA",),
                     ("Names are personal data under the Kenya Data Protection Act 2019: share this sheet only "
                      "with those entitled to it. One row per attendance, trainings ended by {{period_end}}.",)),
}

THIN = Side(style="thin", color="BFBFBF")


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _title(ws: Worksheet, row: int, text: str, pal: Palette) -> None:
    cell = ws.cell(row=row, column=1, value=text)
    cell.font = Font(name="Calibri", size=16, bold=True, color=pal.primary)


def _note(ws: Worksheet, row: int, text: str) -> None:
    cell = ws.cell(row=row, column=1, value=text)
    cell.font = Font(name="Calibri", size=10, italic=True, color="595959")


def _caption(ws: Worksheet, row: int, text: str, pal: Palette) -> None:
    cell = ws.cell(row=row, column=1, value=text)
    cell.font = Font(name="Calibri", size=12, bold=True, color=pal.primary)


def _header_cell(ws: Worksheet, row: int, col: int, text: str, fill: str) -> None:
    cell = ws.cell(row=row, column=col, value=text)
    cell.font = Font(name="Calibri", size=10, bold=True, color="FFFFFF")
    cell.fill = _fill(fill)
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _section(ws: Worksheet, header_row: int, section: Section, pal: Palette, colours: dict[int, str] | None = None
             ) -> None:
    """A table: header row and one styled row, as the report's data rows will look."""
    for i, col in enumerate(section.columns, 1):
        _header_cell(ws, header_row, i, col.header, (colours or {}).get(i - 1, pal.primary))
        cell = ws.cell(row=header_row + 1, column=i)
        cell.font = Font(name="Calibri", size=10)
        cell.number_format = DEFAULT_FORMATS[col.kind]
        cell.alignment = Alignment(vertical="top", wrap_text=col.wrap or col.width >= 30)
    ws.row_dimensions[header_row].height = 42
    last = get_column_letter(len(section.columns))
    ref = f"A{header_row}:{last}{header_row + 1}"
    table = Table(displayName=section.table, ref=ref,
                  tableStyleInfo=TableStyleInfo(name="TableStyleLight1", showRowStripes=True))
    table.tableColumns = [TableColumn(id=i, name=c.header) for i, c in enumerate(section.columns, 1)]
    table.autoFilter = AutoFilter(ref=ref)
    ws.add_table(table)


def _widths(ws: Worksheet, layout: SheetLayout) -> None:
    widths: dict[int, float] = {}
    for section in layout.sections:
        for i, col in enumerate(section.columns, 1):
            widths[i] = max(widths.get(i, 0), col.width)
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = w


def _print(ws: Worksheet, pal: Palette, title_rows: str | None) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = pal.paper
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.gridLines = False
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"
    if title_rows:
        ws.print_title_rows = title_rows


def _list_sheet(ws: Worksheet, layout: SheetLayout, pal: Palette) -> None:
    head = HEADS.get(layout.name, ((layout.name,),))
    for r, cells in enumerate(head, 1):
        if r == 1:
            _title(ws, r, cells[0], pal)
        else:
            _note(ws, r, cells[0])
    row = len(head) + 2
    first_header = row
    for n, section in enumerate(layout.sections):
        if n:
            row += 1  # a blank row, then the caption
            _caption(ws, row, section.caption or section.table, pal)
            row += 1
        _section(ws, row, section, pal)
        row += 2
    _widths(ws, layout)
    ws.freeze_panes = f"A{first_header + 1}"
    _print(ws, pal, f"{first_header}:{first_header}")
    if layout.name == FINANCE:  # a page too narrow for every column repeats the grant and the figure's name
        ws.print_title_cols = "A:B"


def _cover(ws: Worksheet, pal: Palette) -> None:
    _title(ws, 1, pal.title, pal)
    _note(ws, 2, "{{partnership_name}}: {{period_label}} ({{period}})")
    rows = (
        ("Partnership", "{{partnership_name}} ({{partnership_code}}), {{country}}", None),
        ("Parties", "{{parties}}", None),
        ("Reporting period", "{{period_label}}: {{period}}, {{period_start}} to {{period_end}}{{period_progress}}",
         None),
        ("Fiscal calendar", "{{fiscal_calendar}}", None),
        ("As of", "{{as_of}}", DEFAULT_FORMATS["date"]),
        ("Generated at (UTC)", "{{generated_at}}", DEFAULT_FORMATS["datetime"]),
        ("Audit trail: events up to the as-of time", "{{chain_events}}", "#,##0"),
        ("Audit-chain head (hash of event {{chain_head_seq}})", "{{chain_head}}", None),
        ("Head event recorded at (UTC)", "{{chain_head_at}}", DEFAULT_FORMATS["datetime"]),
        ("Amounts", "{{currency_note}}", None),
        ("Personal data", "{{personal_data}}", None),
        ("Sign-off", "{{signoff_summary}} {{lock_summary}}", None),
        ("Contents", "{{contents}}", None),
    )
    for r, (label, value, number_format) in enumerate(rows, 4):
        a = ws.cell(row=r, column=1, value=label)
        a.font = Font(name="Calibri", size=11, bold=True, color=pal.primary)
        a.alignment = Alignment(vertical="top", wrap_text=True)
        b = ws.cell(row=r, column=2, value=value)
        b.font = Font(name="Calibri", size=11)
        b.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        if number_format:
            b.number_format = number_format
        a.border = b.border = Border(bottom=THIN)
    r = len(rows) + 5
    _note(ws, r, "To tie this report to the audit trail: `mou-tracker audit verify --anchor {{chain_head}}` "
                 "confirms that the trail still holds this head (event {{chain_head_seq}}) unaltered. The "
                 "indicator figures equal `mou-tracker progress --period {{period}} --format json` (with the same "
                 "--as-of).")
    ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
    ws.row_dimensions[r].height = 45
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 100
    _print(ws, pal, None)
    ws.page_setup.orientation = "portrait"


STATUS_MEANINGS = {
    "on_track": "between the indicator's two band percentages of its target (85 % and 115 % unless changed)",
    "below_target": "under the lower band (for a 'lower is better' indicator: over the upper band)",
    "above_target": "over the upper band (for a 'lower is better' indicator: under the lower band)",
    "no_target": "no target, or a target of 0, for the quarter",
    "no_data": "a mean or a share with nothing to compute it from yet",
}

SUMMARY_FIGURES = (
    ("People newly trained (1.2)", "ind:1.2"),
    ("ODPP prosecutors newly trained (1.3)", "ind:1.3"),
    ("Training sessions held (1.1)", "ind:1.1"),
    ("Average knowledge gain, points (1.4)", "ind:1.4"),
    ("Technical-support engagements (2.1)", "ind:2.1"),
    ("Trafficking cases mentored (2.2)", "ind:2.2"),
    ("Hours of technical support (2.3)", "ind:2.3"),
    ("Advisory milestones completed (3.1)", "ind:3.1"),
    ("Milestones completed on time, % (3.2)", "ind:3.2"),
    ("Prosecutions initiated (OC1)", "ind:OC1"),
    ("Convictions secured (OC2)", "ind:OC2"),
    ("Grant expenditure, {{currency}} (4.1)", "ind:4.1"),
)
SUMMARY_OTHER = (
    ("Share of the award spent", None, "{{fin:pct_utilised}}", DEFAULT_FORMATS["pct"]),
    ("Cash on hand, {{currency}}", None, "{{fin:cash_on_hand}}", DEFAULT_FORMATS["money"]),
    ("Burn rate per month, {{currency}}", None, "{{fin:burn_rate}}", DEFAULT_FORMATS["money"]),
    ("Indicators on track", "{{status_count:on_track}}", "{{cum_status_count:on_track}}", "0"),
    ("Indicators below target", "{{status_count:below_target}}", "{{cum_status_count:below_target}}", "0"),
    ("Indicators above target", "{{status_count:above_target}}", "{{cum_status_count:above_target}}", "0"),
    ("Indicators without a target", "{{status_count:no_target}}", "{{cum_status_count:no_target}}", "0"),
)


def _summary(ws: Worksheet, layout: SheetLayout, pal: Palette) -> None:
    _title(ws, 1, "Summary: {{period_label}} ({{period}})", pal)
    _note(ws, 2, "{{partnership_name}} ({{as_of_text}})")
    for col, text in enumerate(("Key figure", "{{period}}", "To the end of {{period}}"), 1):
        _header_cell(ws, 4, col, text, pal.primary)
    rows = [(label, f"{{{{{key}:period_actual}}}}", f"{{{{{key}:cumulative_actual}}}}", None)
            for label, key in SUMMARY_FIGURES] + list(SUMMARY_OTHER)
    r = 5
    for label, period_value, to_date, number_format in rows:
        ws.cell(row=r, column=1, value=label).font = Font(name="Calibri", size=10)
        for col, value in ((2, period_value), (3, to_date)):
            cell = ws.cell(row=r, column=col, value=value)
            cell.font = Font(name="Calibri", size=10, bold=col == 3)
            if number_format:
                cell.number_format = number_format
        for col in (1, 2, 3):
            ws.cell(row=r, column=col).border = Border(bottom=THIN)
        r += 1
    label = ws.cell(row=r, column=1, value="Finance warnings")
    label.font = Font(name="Calibri", size=10, bold=True)
    label.alignment = Alignment(vertical="top")
    warn = ws.cell(row=r, column=2, value="{{fin:warnings}}")
    warn.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=5)
    ws.row_dimensions[r].height = 45
    # the charts: beside the key figures, and a row of two below them (all above the growing tables)
    charts = (("chart:targets", 4, 7, 24, 16), ("chart:trained", 27, 1, 47, 5), ("chart:burn", 27, 7, 47, 16))
    for anchor, top, left, bottom, right in charts:
        ws.cell(row=top, column=left, value=f"{{{{{anchor}}}}}")
        ws.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    r = 50
    _caption(ws, r, layout.sections[0].caption or "", pal)
    r += 1
    for n, section in enumerate(layout.sections):
        if n:
            r += 1
            _caption(ws, r, section.caption or "", pal)
            r += 1
        colours = {2: pal.series[0], 3: pal.series[1], 4: pal.series[2]}
        _section(ws, r, section, pal, colours)
        r += 2
    _widths(ws, layout)
    ws.column_dimensions["A"].width = 38
    ws.column_dimensions["F"].width = 3
    for col in range(7, 17):
        ws.column_dimensions[get_column_letter(col)].width = 10
    _print(ws, pal, None)
    ws.page_setup.fitToHeight = 1  # the summary prints as one page


def _indicators(ws: Worksheet, layout: SheetLayout, pal: Palette) -> None:
    section = layout.sections[0]
    _title(ws, 1, "Indicator performance tracking table: {{period_label}} ({{period}})", pal)
    _note(ws, 2, "{{partnership_name}} ({{as_of_text}}). Targets and actuals per calendar quarter (fiscal "
                 "quarter above); cumulative figures to the end of {{period}}.")
    _note(ws, 3, "Quarters of earlier fiscal years are folded away: click + above the columns to show them.")
    band = 5
    start, end = section.block or (3, 6)
    groups = ((start - 2, start, "Baseline"), (start + 1, end, "{{q_fiscal}} ({{q}})"),
              (end + 1, end + 4, "To the end of {{period}}"),
              (end + 5, end + 6, "Status"), (end + 7, end + 10, "How a mean or share was computed"),
              (end + 11, end + 11, "Narrative"))
    for first_col, last_col, text in groups:
        cell = ws.cell(row=band, column=first_col, value=text)
        cell.font = Font(name="Calibri", size=10, bold=True, color=pal.primary)
        cell.alignment = Alignment(horizontal="center")
        cell.border = Border(bottom=Side(style="medium", color=pal.primary))
        if last_col > first_col:
            ws.merge_cells(start_row=band, start_column=first_col, end_row=band, end_column=last_col)
    _section(ws, band + 1, section, pal)
    # the status legend: the report colours each status like these cells (restyle them to change it)
    _caption(ws, band + 4, "Status colours", pal)
    for r, (status, meaning) in enumerate(STATUS_MEANINGS.items(), band + 5):
        fill, font = DEFAULT_STATUS_COLOURS[status]
        cell = ws.cell(row=r, column=2, value=f"{{{{legend:{status}}}}}")
        cell.fill = _fill(fill)
        cell.font = Font(name="Calibri", size=10, color=font)
        ws.cell(row=r, column=3, value=meaning).font = Font(name="Calibri", size=10, color="595959")
    _widths(ws, layout)
    ws.freeze_panes = f"D{band + 2}"
    _print(ws, pal, f"{band}:{band + 1}")
    # One fiscal year per page width, code and indicator repeated on each page: the report sets the
    # column breaks and a scale that keeps the smallest font at 8 pt or more (never fit to one page width).
    ws.print_title_cols = "A:B"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.fitToWidth = None
    ws.page_setup.fitToHeight = None


def build_template(party: str) -> Workbook:
    pal = PALETTES[party]
    wb = Workbook()
    wb.remove(wb.active)
    for layout in SHEETS:
        ws = wb.create_sheet(layout.name)
        ws.sheet_properties.tabColor = pal.primary
        if layout.name == COVER:
            _cover(ws, pal)
        elif layout.name == SUMMARY:
            _summary(ws, layout, pal)
        elif layout.name == INDICATORS:
            _indicators(ws, layout, pal)
        else:
            _list_sheet(ws, layout, pal)
    wb.active = 0
    wb.properties.creator = "mou-tracker"
    wb.properties.title = f"mou-tracker report template ({party.upper()})"
    return wb


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=templates_dir(), help="folder to write hti.xlsx and odpp.xlsx to")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for party in PALETTES:
        path = args.out / f"{party}.xlsx"
        build_template(party).save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
