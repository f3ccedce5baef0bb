"""Saving a report workbook faster than ``Workbook.save``, with the same XML.

openpyxl writes each cell through lxml's incremental writer, a few Python calls per cell; for a report of
100,000 cells that is most of the time spent saving. Here each worksheet's ``<sheetData>`` is built as one
string (the same elements and attributes, in the same order, as ``openpyxl.cell._writer``) and put in place of
a marker in the sheet's XML that openpyxl wrote; everything else (styles, tables, charts, drawings,
relationships) is openpyxl's own writer. A sheet holding anything this writer does not handle (a formula, rich
text, a comment, a hyperlink, a character XML cannot hold) is written by openpyxl's cell writer instead. A test
checks that both give the same XML (canonical form) for whole reports.
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
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import Element

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

    def write_rows(self) -> None:
        try:
            self.data: str | None = sheet_data(self.ws)
        except _NotHandled:
            self.data = None
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
    """The ``<sheetData>`` element of ``ws`` as openpyxl would write it (``_NotHandled`` when it cannot)."""
    wb = ws.parent
    cell_styles = wb._cell_styles
    iso_dates, epoch = wb.iso_dates, wb.epoch
    # style attribute by StyleArray object (cells share them); the arrays are kept so that ids stay unique
    style_attr: dict[int, str] = {}
    kept: list[Any] = []
    letters: dict[int, str] = {}
    by_row: dict[int, list[tuple[int, Any]]] = {}
    for (row, col), cell in ws._cells.items():
        by_row.setdefault(row, []).append((col, cell))
    dims = ws.row_dimensions
    out = ["<sheetData>"]
    append = out.append
    for r in sorted(set(by_row) | set(dims.keys())):
        attrs = "".join(f' {k}="{_attr(v)}"' for k, v in dims[r]) if r in dims else ""
        cells = by_row.get(r)
        if not cells:
            append(f'<row r="{r}"{attrs}/>')
            continue
        append(f'<row r="{r}"{attrs}>')
        cells.sort(key=_first)
        for col, cell in cells:
            if cell._comment is not None or getattr(cell, "_hyperlink", None) is not None:
                raise _NotHandled
            style = cell._style
            s_attr = style_attr.get(id(style))
            if s_attr is None:
                styled = style is not None and any(style)
                s_attr = style_attr[id(style)] = f' s="{cell_styles.add(style)}"' if styled else ""
                kept.append(style)
            value = cell._value
            if value is None and not s_attr:
                continue
            letter = letters.get(col)
            if letter is None:
                letter = letters[col] = get_column_letter(col)
            kind = cell.data_type
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
                continue
            if kind == "n" and value is not None:
                append(f'<c r="{letter}{r}"{s_attr} t="n"><v>{safe_string(value)}</v></c>')
                continue
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
        append("</row>")
    append("</sheetData>")
    xml = "".join(out)
    if ILLEGAL_CHARACTERS_RE.search(xml):
        raise _NotHandled  # openpyxl's writer says which (never expected: the report escapes them)
    return xml


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
