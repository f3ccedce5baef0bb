"""Saving a report workbook faster than ``Workbook.save``, with the same XML.

openpyxl writes each cell through lxml's incremental writer, a few Python calls per cell; for a report of
100,000 cells that is most of the time spent saving. Here each worksheet's ``<sheetData>`` is built as one
string (the same elements and attributes, in the same order, as ``openpyxl.cell._writer``) and put in place of
a marker in the sheet's XML that openpyxl wrote; everything else (styles, tables, charts, drawings,
relationships) is openpyxl's own writer. The rows ``fill`` kept as values (``fill.BulkRows``: a list's data
rows) are written from those values, as the cells ``fill.materialize`` would make of them. A sheet holding
anything this writer does not handle (a formula, rich text, a comment, a hyperlink, a character XML cannot
hold) is written by openpyxl's cell writer instead, its kept rows made cells first. A test checks that both
give the same XML (canonical form) for whole reports.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel, to_ISO8601
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import Element

from mou_tracker.reports.fill import BulkRows, bulk_rows, materialize

_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


class _NotHandled(Exception):
    """A cell this writer leaves to openpyxl's."""


def _text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        for raw, escaped in _TEXT_ESCAPES:
            value = value.replace(raw, escaped)
    return value


def _attr(value: Any) -> str:
    return _text(str(value)).replace('"', "&quot;")


class FastWorksheetWriter(WorksheetWriter):
    """``WorksheetWriter`` whose ``write_rows`` leaves a marker where the sheet data goes; ``splice`` then puts
    the data, built as one string, in its place in the written file."""

    def write_dimensions(self) -> None:
        self.xf.send(SheetDimension(dimension(self.ws)).to_tree())

    def write_rows(self) -> None:
        try:
            self.data: str | None = sheet_data(self.ws)
        except _NotHandled:
            self.data = None
            materialize(self.ws)
            super().write_rows()
            return
        xf = self.xf.send(True)
        xf.write(Element("sheetData"))
        self.xf.send(None)  # return control to the generator, as openpyxl's own write_rows does

    def splice(self) -> None:
        if self.data is None:
            return
        path = Path(self.out)
        xml = path.read_bytes()
        head, marker, tail = xml.partition(b"<sheetData/>")
        if not marker:  # pragma: no cover - openpyxl wrote the marker itself just now
            raise RuntimeError(f"no sheet data marker in {path}")
        path.write_bytes(head + self.data.encode("utf-8") + tail)


def sheet_data(ws: Any) -> str:
    """The ``<sheetData>`` element of ``ws`` as openpyxl would write it (``_NotHandled`` when it cannot), its
    ``BulkRows`` as the cells ``materialize`` would make of them."""
    wb = ws.parent
    cell_styles = wb._cell_styles
    iso_dates, epoch = wb.iso_dates, wb.epoch
    # style attribute by StyleArray object (cells share them); the arrays are kept so that ids stay unique
    style_attr: dict[int, str] = {}
    kept: list[Any] = []

    def s_attr_of(style: Any) -> str:
        found = style_attr.get(id(style))
        if found is None:
            styled = style is not None and any(style)
            found = style_attr[id(style)] = f' s="{cell_styles.add(style)}"' if styled else ""
            kept.append(style)
        return found

    letters: dict[int, str] = {}

    def letter_of(col: int) -> str:
        found = letters.get(col)
        if found is None:
            found = letters[col] = get_column_letter(col)
        return found

    by_row: dict[int, list[tuple[int, Any]]] = {}
    for (row, col), cell in ws._cells.items():
        by_row.setdefault(row, []).append((col, cell))
    bulk: dict[int, tuple[BulkRows, int]] = {}
    for block in bulk_rows(ws):
        for k in range(len(block.rows)):
            bulk[block.first_row + k] = (block, k)
    if bulk and not bulk.keys().isdisjoint(by_row):  # never expected: a list's rows hold only its values
        materialize(ws)
        return sheet_data(ws)
    dims = ws.row_dimensions
    out = ["<sheetData>"]
    append = out.append
    for r in sorted(set(by_row) | set(dims.keys()) | set(bulk)):
        attrs = "".join(f' {k}="{_attr(v)}"' for k, v in dims[r]) if r in dims else ""
        if r in bulk:
            block, k = bulk[r]
            parts: list[str] = []
            for col, value, kind, style in block.cells(k):
                _cell(parts.append, letter_of(col), r, s_attr_of(style), value, kind, iso_dates, epoch)
            if parts:
                append(f'<row r="{r}"{attrs}>{"".join(parts)}</row>')
            elif r in dims:
                append(f'<row r="{r}"{attrs}/>')
            continue
        cells = by_row.get(r)
        if not cells:
            append(f'<row r="{r}"{attrs}/>')
            continue
        append(f'<row r="{r}"{attrs}>')
        cells.sort(key=_first)
        for col, cell in cells:
            if cell._comment is not None or getattr(cell, "_hyperlink", None) is not None:
                raise _NotHandled
            s_attr = s_attr_of(cell._style)
            value = cell._value
            if value is None and not s_attr:
                continue
            _cell(append, letter_of(col), r, s_attr, value, cell.data_type, iso_dates, epoch)
        append("</row>")
    append("</sheetData>")
    xml = "".join(out)
    if ILLEGAL_CHARACTERS_RE.search(xml):
        raise _NotHandled  # openpyxl's writer says which (never expected: the report escapes them)
    return xml


def _cell(append: Any, letter: str, r: int, s_attr: str, value: Any, kind: str, iso_dates: bool, epoch: Any) -> None:
    """One ``<c>`` element, as ``openpyxl.cell._writer`` writes it."""
    if kind == "s":
        if value is None or value == "":
            append(f'<c r="{letter}{r}"{s_attr} t="inlineStr"/>')
        elif type(value) is not str:
            raise _NotHandled  # rich text
        elif value[:1].isspace() or value[-1:].isspace():
            append(f'<c r="{letter}{r}"{s_attr} t="inlineStr"><is><t xml:space="preserve">{_text(value)}'
                   "</t></is></c>")
        else:
            append(f'<c r="{letter}{r}"{s_attr} t="inlineStr"><is><t>{_text(value)}</t></is></c>')
        return
    if kind == "n" and value is not None:
        append(f'<c r="{letter}{r}"{s_attr} t="n"><v>{safe_string(value)}</v></c>')
        return
    if kind == "f":
        raise _NotHandled
    if kind == "d" and value is not None:
        if getattr(value, "tzinfo", None) is not None:
            raise _NotHandled  # openpyxl refuses it with its own message
        if iso_dates and not isinstance(value, datetime.timedelta):
            value = to_ISO8601(value)
        else:
            kind = "n"
            value = to_excel(value, epoch)
    if value is None or value == "":
        append(f'<c r="{letter}{r}"{s_attr} t="{kind}"/>')
    else:
        append(f'<c r="{letter}{r}"{s_attr} t="{kind}"><v>{_text(safe_string(value))}</v></c>')


def dimension(ws: Any) -> str:
    """``ws.calculate_dimension()``, counting the cells its ``BulkRows`` stand for."""
    rows: set[int] = set()
    cols: set[int] = set()
    for row, col in ws._cells:
        rows.add(row)
        cols.add(col)
    for block in bulk_rows(ws):
        blanks = block.blanks
        for k, values in enumerate(block.rows):
            # the columns ``BulkRows.cells`` yields, without typing the values
            present = [i for i, value in enumerate(values) if value is not None or blanks[i]]
            if present:
                rows.add(block.first_row + k)
                cols.add(block.col0 + present[0])
                cols.add(block.col0 + present[-1])
    if not rows:
        return "A1:A1"
    return f"{get_column_letter(min(cols))}{min(rows)}:{get_column_letter(max(cols))}{max(rows)}"


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


class _FastExcelWriter(ExcelWriter):
    def write_worksheet(self, ws: Any) -> None:
        if self.workbook.write_only:  # pragma: no cover - reports are never write-only workbooks
            super().write_worksheet(ws)
            return
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = FastWorksheetWriter(ws)
        writer.write()
        writer.splice()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


def save(wb: Workbook, path: Path | str) -> None:
    """``wb.save(path)``, with the worksheets' cells written by ``FastWorksheetWriter``."""
    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True)
    wb.properties.modified = datetime.datetime.now(tz=datetime.UTC).replace(tzinfo=None)
    _FastExcelWriter(wb, archive).save()
