"""Builds ``templates/xlsx/import_template.xlsx``: a ready blank import workbook (docs/reference/import-format.md).

    .venv/bin/python -m mou_tracker.imports.template [OUT.xlsx]

Every sheet of the import format with its headers (required ones marked and commented), an Instructions sheet,
drop-down lists for the coded columns (kept on a hidden Lists sheet, which the importer ignores), date formats
and date, number and range checks on the columns that need them. Built from the same ``SheetSpec``s the
importer reads, so the template and the importer cannot drift apart.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from mou_tracker.domain.codes import REASON_CATEGORIES
from mou_tracker.imports.reader import column_letter
from mou_tracker.imports.sheets import SHEETS, SheetSpec, vocabulary
from mou_tracker.paths import templates_dir
from mou_tracker.services.fields import EARLIEST, LATEST, Field

TEMPLATE_NAME = "import_template.xlsx"
LISTS_SHEET = "Lists"
LAST_ROW = 1_048_576
DATE_FORMAT = "yyyy-mm-dd"
#: a fixed creation time, so that rebuilding the template gives the same file
BUILT = datetime(2025, 5, 12, 9, 0, 0)

HEADER_FILL = "FFD9E1F2"
REQUIRED_FILL = "FF8EA9DB"

SHEET_NOTES = {
    "Trainings": "One row per training session. Training ID is your own key: a row whose ID already exists "
                 "updates that training. A training counts in the quarter of its end date.",
    "Participants": "One row per person per training attended. A person is recognised by staff number when "
                    "given, otherwise by name together with agency, so someone who attends several trainings "
                    "counts once as newly trained. Training ID names a training on the Trainings sheet or one "
                    "already recorded.",
    "Engagements": "One row per technical-support engagement. Case reference is required for Case mentoring: "
                   "use the anonymised case reference only, never a victim's or survivor's name.",
    "Milestones": "One row per advisory milestone. Moving a milestone's due date or moving its status "
                  "backwards needs a Reason. Completed on is required when the status is Completed.",
    "Results": "Manual outcome figures (OC1, OC2 and any manual indicator of your own): one row per indicator "
               "and quarter.",
    "Targets": "One row per indicator and quarter (e.g. 1.1 / 2025-Q3 / 6).",
    "Grant": "The grant: its code, funder, currency (three letters, e.g. USD), award amount and dates.",
    "Budget": "The grant's budget lines. They belong to the grant on the Grant sheet, or to the partnership's "
              "only grant.",
    "Disbursements": "Tranches received. A disbursement is recognised by its Reference; one without a Reference "
                     "by its date, amount and currency (give References to be able to correct one later). Rate "
                     "converts to the grant currency (amount x rate) and is required when the currency differs.",
    "Expenditures": "Spending. Expenditure ID is your own key; Line code names a budget line; Rate as for "
                    "disbursements.",
    "Baselines": "One row per indicator: its value before the programme, when and where it was measured.",
    "Narratives": "The explanation shown beside an indicator for a quarter: one row per indicator and quarter. "
                  "Every indicator below or above its target in a quarter needs one before the quarter can be "
                  "signed off.",
    "Commitments": "Obligations not yet paid (orders placed, contracts signed). Commitment ID is your own key; "
                   "Open ones are the unliquidated obligations of the funder's financial report; set the Status "
                   "to Liquidated once paid (and record the payment as an expenditure). Rate as for disbursements.",
    "Developments": "Significant developments to report to the funder as soon as known: risks, opportunities, "
                    "delays, changes in context. A Reference, when given, is your own key for the development.",
}

GENERAL = (
    "How to fill in this workbook",
    "Fill in any of the sheets (delete or leave empty the ones you do not need) and import the file with "
    "`mou-tracker import FILE.xlsx` or the Import action of the app. Run `mou-tracker import FILE.xlsx --dry-run` "
    "first to see what would change.",
    "Keep the headers in row 1 as they are; columns you add are ignored. Required columns have a darker header "
    "and are marked * below.",
    "Dates: real Excel dates or text written YYYY-MM-DD. Quarters (Period): YYYY-Qn, e.g. 2025-Q3.",
    "The whole file is checked before anything is written: if any cell is wrong, nothing is imported and every "
    "problem is listed as Sheet!A12: message (`--errors COPY.xlsx` writes a copy with those cells highlighted).",
    "IDs are your own keys: importing a row whose ID exists updates that record, so you can correct a file and "
    "import it again without creating duplicates; importing the same file twice changes nothing.",
    "An empty cell clears that value; a column you leave out keeps the values already recorded.",
    "Reason (on Milestones, and accepted as an extra column on any sheet) explains a change in the audit trail: "
    "write 'category: explanation', the category being one of: " + ", ".join(REASON_CATEGORIES) + ".",
    "Never record a victim's or survivor's identity: cases are referred to by an anonymised case reference only.",
)


def describe(f: Field) -> str:
    """What a column takes, in words."""
    values = vocabulary(f)
    if f.kind == "county":
        return ("in a Kenyan partnership, one of Kenya's 47 counties (drop-down list; 'Nairobi City' is Nairobi); "
                "elsewhere, the district, province or county as written")
    if values:
        return "one of: " + ", ".join(values) + " (drop-down list)"
    if f.kind == "date":
        return "date (YYYY-MM-DD, between 2000-01-01 and 2100-12-31)"
    if f.kind == "period":
        return "quarter, YYYY-Qn (e.g. 2025-Q3)"
    if f.kind == "currency":
        return "three-letter currency code (e.g. USD, KES)"
    if f.kind in ("decimal", "int"):
        rng = []
        if f.minimum is not None:
            rng.append(f"at least {f.minimum}")
        if f.maximum is not None:
            rng.append(f"at most {f.maximum:,}")
        if f.kind == "decimal":
            rng.append(f"up to {f.scale} decimal places" + ("; more are rounded half-up, with a note"
                                                             if f.round_excess else ""))
        return "number" + (f" ({', '.join(rng)})" if rng else "")
    return f"text (up to {f.max_len:,} characters)"


def build_template(path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.properties.creator = "mou-tracker"
    wb.properties.title = "MoU tracker import workbook"
    wb.properties.created = wb.properties.modified = BUILT
    info = wb.active
    info.title = "Instructions"
    lists = _lists_sheet(wb)
    bold = Font(bold=True)
    for spec in SHEETS:
        ws = wb.create_sheet(spec.name)
        for ci, f in enumerate(spec.columns):
            cell = ws.cell(row=1, column=ci + 1, value=f.label)
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor=REQUIRED_FILL if f.required else HEADER_FILL)
            cell.alignment = Alignment(vertical="center")
            note = ("Required. " if f.required else "") + describe(f)[0].upper() + describe(f)[1:] + "."
            comment = Comment(note, "mou-tracker")
            comment.width, comment.height = 260, 90
            cell.comment = comment
            letter = column_letter(ci)
            ws.column_dimensions[letter].width = max(12, min(40, len(f.label) + 6))
            if f.kind == "date":
                ws.column_dimensions[letter].number_format = DATE_FORMAT
            _validate(ws, f, letter, lists, DataValidation)
        ws.freeze_panes = "A2"
    _instructions(info, bold, Font(bold=True, size=14), Alignment(wrap_text=True, vertical="top"))
    wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames))
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _lists_sheet(wb: Any) -> dict[tuple[str, ...], str]:
    """The hidden sheet holding each drop-down list; returns its values -> its range (two columns of one label,
    such as the Status of a milestone and of a commitment, have lists of their own)."""
    ws = wb.create_sheet(LISTS_SHEET)
    ws.sheet_state = "hidden"
    ranges: dict[tuple[str, ...], str] = {}
    column = 0
    for spec in SHEETS:
        for f in spec.columns:
            values = vocabulary(f)
            if not values or values in ranges:
                continue
            letter = column_letter(column)
            ws.cell(row=1, column=column + 1, value=f.label)
            for r, value in enumerate(values, start=2):
                ws.cell(row=r, column=column + 1, value=value)
            ranges[values] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
            column += 1
    return ranges


def _validate(ws: Any, f: Field, letter: str, lists: dict[tuple[str, ...], str],
              DataValidation: Any) -> None:  # noqa: N803
    target = f"{letter}2:{letter}{LAST_ROW}"
    dv = None
    values = vocabulary(f)
    if values:
        dv = DataValidation(type="list", formula1=lists[values], allow_blank=True)
        dv.error = f"{f.label}: {describe(f)}"
    elif f.kind == "date":
        dv = DataValidation(type="date", operator="between", allow_blank=True,
                            formula1=f"DATE({EARLIEST.year},{EARLIEST.month},{EARLIEST.day})",
                            formula2=f"DATE({LATEST.year},{LATEST.month},{LATEST.day})")
        dv.error = f"{f.label}: a date between {EARLIEST} and {LATEST} (YYYY-MM-DD)"
    elif f.kind == "decimal" and f.minimum is not None:
        if f.maximum is not None:
            dv = DataValidation(type="decimal", operator="between", allow_blank=True, formula1=str(f.minimum),
                                formula2=str(f.maximum))
        else:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", allow_blank=True,
                                formula1=str(f.minimum))
        dv.error = f"{f.label}: {describe(f)}"
    if dv is None:
        return
    dv.errorTitle = f"Check {f.label}"
    dv.showErrorMessage = True
    if f.kind == "county":
        # a warning, not a stop: a Uganda or South Africa partnership writes its own places (the import checks
        # the county against the partnership's country, docs/reference/import-format.md)
        dv.errorStyle = "warning"
    dv.prompt = describe(f)
    dv.promptTitle = f.label
    dv.showInputMessage = True
    ws.add_data_validation(dv)
    dv.add(target)


def _instructions(ws: Any, bold: Any, title: Any, wrap: Any) -> None:
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 10
    ws.column_dimensions["D"].width = 90
    ws.cell(row=1, column=1, value="MoU tracker: import workbook").font = title
    row = 3
    ws.cell(row=row, column=1, value=GENERAL[0]).font = bold
    for text in GENERAL[1:]:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        cell = ws.cell(row=row, column=1, value="- " + text)
        cell.alignment = wrap
        ws.row_dimensions[row].height = 32
    row += 2
    for ci, head in enumerate(("Sheet", "Column", "Required", "What to enter"), start=1):
        ws.cell(row=row, column=ci, value=head).font = bold
    ws.freeze_panes = None
    for spec in SHEETS:
        row += 1
        ws.cell(row=row, column=1, value=spec.name).font = bold
        cell = ws.cell(row=row, column=4, value=SHEET_NOTES[spec.name])
        cell.alignment = wrap
        ws.row_dimensions[row].height = 45
        for f in _documented(spec):
            row += 1
            ws.cell(row=row, column=2, value=f.label)
            ws.cell(row=row, column=3, value="*" if f.required and f in spec.columns else "")
            text = describe(f)
            if f not in spec.columns:
                text = "optional extra column: " + text
            ws.cell(row=row, column=4, value=text).alignment = wrap


def _documented(spec: SheetSpec) -> tuple[Field, ...]:
    return spec.columns + tuple(f for f in spec.optional if f.attr != "reason")


def template_path() -> Path:
    return templates_dir() / TEMPLATE_NAME


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else template_path()
    print(f"Import template written to {build_template(out)}")


if __name__ == "__main__":
    main()
