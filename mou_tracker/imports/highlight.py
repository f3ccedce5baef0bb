"""``--errors FILE.xlsx``: a copy of the imported file with every problem cell highlighted and commented, and
an "Import problems" sheet in front listing them all, so that a partner can fix the file where they see it.

A file of ordinary size is copied whole with openpyxl (formatting and drop-down lists kept). A very large
one would take openpyxl minutes and gigabytes to load, so its copy is streamed instead: the same sheets and
values, the problem cells highlighted, without the original formatting.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from mou_tracker.imports.outcome import ImportProblem
from mou_tracker.outputs import OutputRefused, atomic_output, check_output

PROBLEM_SHEET = "Import problems"
#: worksheet XML (unpacked) above which the copy is streamed instead of loaded whole
STREAM_ABOVE_BYTES = 16 << 20
AUTHOR = "mou-tracker import"
_FILL = {"fill_type": "solid", "fgColor": "FFFFC7CE"}
_FONT = {"color": "FF9C0006", "bold": True}


def write_highlighted_copy(source: Path, target: Path, problems: list[ImportProblem],
                           db_file: Path | None = None) -> tuple[Path | None, str]:
    """Write the copy (through a temporary file, never over ``source`` nor the database ``db_file``); returns
    (where it was written or None, a note for the user or "")."""
    try:
        check_output(target, suffix=".xlsx", db_file=db_file, inputs=[source])
    except OutputRefused as exc:
        return None, f"No highlighted copy was written: {exc}."
    try:
        streamed = _sheet_xml_bytes(source) > STREAM_ABOVE_BYTES
        with atomic_output(target, suffix=".xlsx", db_file=db_file, inputs=[source]) as tmp:
            (_streamed_copy if streamed else _full_copy)(source, tmp, problems)
        if streamed:
            return target, ("The highlighted copy keeps the values but not the formatting of the original "
                            "(the file is large).")
        return target, ""
    except OSError as exc:
        return None, f"No highlighted copy was written: {target} could not be written ({exc.strerror or exc})."
    except Exception as exc:  # an unusual file openpyxl cannot load: the problems are listed all the same
        return None, f"No highlighted copy was written: the file could not be copied ({type(exc).__name__})."


def _sheet_xml_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))


def _by_cell(problems: list[ImportProblem]) -> dict[tuple[str, int, int], list[str]]:
    cells: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for p in problems:
        if p.sheet is not None and p.row is not None and p.column is not None:
            cells[(p.sheet, p.row, p.column)].append(p.message)
    return cells


def _problem_rows(problems: list[ImportProblem]) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in problems]


def _full_copy(source: Path, target: Path, problems: list[ImportProblem]) -> None:
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    with source.open("rb") as fh:  # a file object: openpyxl refuses an .xlsx by its name when it is not .xlsx
        wb = load_workbook(fh)
    if PROBLEM_SHEET in wb.sheetnames:
        del wb[PROBLEM_SHEET]
    fill, font = PatternFill(**_FILL), Font(**_FONT)
    for (sheet, row, column), messages in _by_cell(problems).items():
        if sheet not in wb.sheetnames:
            continue
        cell = wb[sheet].cell(row=row, column=column + 1)
        cell.fill = fill
        cell.font = font
        comment = Comment("\n".join(messages), AUTHOR)
        comment.width, comment.height = 320, 40 + 40 * len(messages)
        cell.comment = comment
    ws = wb.create_sheet(PROBLEM_SHEET, 0)
    ws.append(("Cell", "Problem"))
    for cell_text in ws[1]:
        cell_text.font = Font(bold=True)
    for n, (where, message) in enumerate(_problem_rows(problems), start=2):
        for column, text in ((1, where), (2, message)):
            cell = ws.cell(row=n, column=column, value=_text(text))
            cell.data_type = "s"
        if "!" in where:
            ws.cell(row=n, column=1).hyperlink = f"#{where}"
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 110
    ws.freeze_panes = "A2"
    wb.active = 0
    wb.save(target)


def _streamed_copy(source: Path, target: Path, problems: list[ImportProblem]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from python_calamine import CalamineWorkbook

    fill, font = PatternFill(**_FILL), Font(**_FONT)
    marked = _by_cell(problems)
    out = Workbook(write_only=True)
    listing = out.create_sheet(PROBLEM_SHEET)
    listing.append(("Cell", "Problem"))
    for where, message in _problem_rows(problems):
        listing.append([_text_cell(listing, where), _text_cell(listing, message)])
    with CalamineWorkbook.from_path(str(source)) as book:
        for meta in book.sheets_metadata:
            if meta.name == PROBLEM_SHEET:
                continue
            ws = out.create_sheet(meta.name)
            try:
                rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            except Exception:
                continue  # a chart sheet: nothing to copy
            for r, values in enumerate(rows, start=1):
                cells = []
                for c, value in enumerate(values):
                    cell = _text_cell(ws, value) if isinstance(value, str) else WriteOnlyCell(ws, _cell_value(value))
                    if isinstance(value, date | datetime):
                        cell.number_format = "yyyy-mm-dd"
                    messages = marked.get((meta.name, r, c))
                    if messages:
                        cell.fill, cell.font = fill, font
                        cell.comment = Comment("\n".join(messages), AUTHOR)
                    cells.append(cell)
                ws.append(cells)
    out.save(target)


def _cell_value(value: Any) -> Any:
    if isinstance(value, timedelta | time):
        return str(value)
    return value


def _text(value: str) -> str:
    """Within Excel's limit of characters per cell."""
    return value[:32_000]


def _text_cell(ws: Any, value: str) -> Any:
    """A write-only cell holding text as text (openpyxl would make "=..." a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=_text(value) or None)
    if value:
        cell.data_type = "s"
    return cell
