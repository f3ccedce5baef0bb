"""Filling a report template: placeholders, tables that grow, typed and formula-proof cells.

What openpyxl keeps when it loads a template, and so what a template may rely on: cell values and styles
(fonts, fills, borders, number formats, alignment), column widths, row heights, merged cells, freeze panes,
print setup, Excel tables, conditional formatting and data validation on the cells they were put on. What it
drops: shapes and text boxes, and pictures unless Pillow is installed. ``insert_rows`` moves no table, chart,
merged cell or formula, so this module never inserts rows: it snapshots every row from a sheet's first table
down, then writes the blocks back at their new places (captions, headers, the data rows styled like the
template's styled row, and whatever followed the last table).

Placeholders ``{{name}}`` may appear in any cell. A cell holding exactly one placeholder receives the typed
value (a date, a number) and keeps its own number format; a placeholder inside longer text is replaced by
its text form. ``{{chart:NAME}}`` marks where a chart goes (sized to the merged range it heads, if any).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.escape import unescape
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.errors import MouError
from mou_tracker.reports.layout import DATE, DATETIME, DEFAULT_FORMATS, Section

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.:\- ]*?)\s*\}\}")
#: text starting with one of these could be taken for a formula by a spreadsheet program
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_TEXT = 32767
# OOXML cannot hold most control characters raw; it escapes them as _xHHHH_ (and a literal "_xHHHH_" as
# "_x005F_xHHHH_"). Carriage returns are escaped too: an XML reader would turn a raw one into a line feed.
_OOXML_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f]")


class TemplateError(MouError):
    """A report template that is missing, unreadable or not shaped as the report needs."""


@dataclass(frozen=True)
class Fmt:
    """A value with its own number format (e.g. an indicator's decimals), overriding the column's."""

    value: Any
    number_format: str


@dataclass(frozen=True)
class Typed:
    """A placeholder value: what a cell holding only the placeholder gets, and its text inside longer text."""

    value: Any
    text: str
    number_format: str | None = None


def ooxml_text(text: str) -> str:
    if len(text) <= MAX_CELL_TEXT and _OOXML_ESCAPE.search(text) is None:
        return text
    text = _OOXML_ESCAPE.sub(lambda m: "_x005F_" if m.group(0) == "_" else f"_x{ord(m.group(0)):04X}_", text)
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "\u2026"
    return text


def text_of(value: Any) -> str:
    """The text form of a value inside a sentence."""
    if isinstance(value, Typed):
        return value.text
    if isinstance(value, Fmt):
        return text_of(value.value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Styles:
    """Style arrays derived from template cells, cached: a number format or quote prefix added to a style."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self._cache: dict[tuple[tuple[int, ...], str | None, bool], StyleArray] = {}

    def derive(self, base: StyleArray, number_format: str | None = None, quote: bool = False) -> StyleArray:
        """``base`` with a number format and/or the quote prefix (cached: equal styles share one array)."""
        key = (tuple(base), number_format, quote)
        found = self._cache.get(key)
        if found is None:
            probe = Cell(self.ws, row=1, column=1, style_array=base)
            if number_format is not None:
                probe.number_format = number_format
            if quote:
                probe._style.quotePrefix = 1
            found = self._cache[key] = probe._style
        return found

    def number_format(self, base: StyleArray) -> str:
        return Cell(self.ws, row=1, column=1, style_array=base).number_format


def new_cell(ws: Worksheet, row: int, col: int, style: StyleArray, value: Any = None, data_type: str = "n") -> Cell:
    """A cell sharing ``style`` (nothing here changes a cell's style in place once written), built without the
    checks of ``Cell.value``: callers pass values already typed."""
    cell = Cell.__new__(Cell)
    cell.parent = ws
    cell.row = row
    cell.column = col
    cell._value = value
    cell.data_type = data_type
    cell._hyperlink = None
    cell._comment = None
    cell._style = style
    ws._cells[(row, col)] = cell
    return cell


def shows_when_empty(style: StyleArray) -> bool:
    """Whether an empty cell with this style looks any different from no cell (a fill or a border)."""
    return bool(style.fillId or style.borderId)


_NUMBERS = (int, Decimal, float)


class Writer:
    """Writes typed cells straight into a worksheet: text is always text, never a formula."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.styles = Styles(ws)
        self._date_ok: dict[int, tuple[StyleArray, bool]] = {}

    def put(self, row: int, col: int, value: Any, style: StyleArray) -> None:
        value, kind, style = self.typed(value, style)
        new_cell(self.ws, row, col, style, value, kind)

    def typed(self, value: Any, style: StyleArray) -> tuple[Any, str, StyleArray]:
        """The cell ``value`` becomes: its stored value, data type and style."""
        kind = type(value)
        if kind is str:
            if value.startswith(FORMULA_TRIGGERS):
                style = self.styles.derive(style, quote=True)
            return ooxml_text(value), "s", style
        if kind in _NUMBERS or value is None:
            return value, "n", style
        return self._typed_other(value, style)

    def _typed_other(self, value: Any, style: StyleArray) -> tuple[Any, str, StyleArray]:
        number_format = None
        if isinstance(value, Fmt):
            value, number_format = value.value, value.number_format
        elif isinstance(value, Typed):
            value, number_format = value.value, value.number_format
            if number_format and self.styles.number_format(style) != "General":
                number_format = None  # the template's own format wins
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, datetime | date):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # every stamp here is UTC; the header says so
            if number_format is None and not self._is_date_style(style):
                number_format = DEFAULT_FORMATS[DATETIME if isinstance(value, datetime) else DATE]
            return value, "d", self.styles.derive(style, number_format)
        if value is not None and not isinstance(value, str | int | Decimal | float):
            value = str(value)
        return self.typed(value, self.styles.derive(style, number_format) if number_format else style)

    def _is_date_style(self, style: StyleArray) -> bool:
        # keyed by identity: column styles are shared by every cell of their column (and kept alive here)
        found = self._date_ok.get(id(style))
        if found is None:
            found = self._date_ok[id(style)] = (style, is_date_format(self.styles.number_format(style)))
        return found[1]


@dataclass
class BulkRows:
    """A list table's data rows, kept as the values they show until the sheet is saved: ``fastsave`` writes
    them straight to XML, each value typed by ``writer`` exactly as a cell would be. A report's lists are most
    of its cells, and building a cell object per value, then walking them to save, was most of the time spent
    filling and saving. ``materialize`` turns them into cells for any other use (openpyxl's own writer)."""

    writer: Writer
    first_row: int
    col0: int
    styles: list[StyleArray]
    blanks: list[bool]
    rows: list[Sequence[Any]]

    def cells(self, k: int) -> Iterator[tuple[int, Any, str, StyleArray]]:
        """The cells row ``first_row + k`` stands for, left to right: (column, value, data type, style) as
        ``Writer.put`` would make them; an empty value is a cell only where its style shows (a fill, a border)."""
        typed, styles, blanks, col0 = self.writer.typed, self.styles, self.blanks, self.col0
        for i, value in enumerate(self.rows[k]):
            if value is not None:
                yield (col0 + i, *typed(value, styles[i]))
            elif blanks[i]:
                yield col0 + i, None, "n", styles[i]

    def cell(self, row: int, col: int) -> tuple[Any, str, StyleArray] | None:
        """What the cell at (row, col) holds, as ``Writer.typed`` gives it; None where no cell would be."""
        k = row - self.first_row
        if 0 <= k < len(self.rows):
            for c, value, kind, style in self.cells(k):
                if c == col:
                    return value, kind, style
        return None


def bulk_rows(ws: Worksheet) -> list[BulkRows]:
    """The worksheet's rows kept as values (see ``BulkRows``), in the order written."""
    found: list[BulkRows] | None = ws.__dict__.get("_mou_bulk_rows")
    if found is None:
        found = ws.__dict__["_mou_bulk_rows"] = []
    return found


def style_at(ws: Worksheet, row: int, col: int) -> StyleArray | None:
    """The style of the cell at (row, col), whether a cell object or a value kept in ``BulkRows``."""
    cell = ws._cells.get((row, col))
    if cell is not None:
        return cell._style
    for bulk in bulk_rows(ws):
        found = bulk.cell(row, col)
        if found is not None:
            return found[2]
    return None


def materialize(ws: Worksheet) -> None:
    """Turn the worksheet's ``BulkRows`` into cells, as ``Writer.put`` writes them."""
    for bulk in bulk_rows(ws):
        for k in range(len(bulk.rows)):
            for col, value, kind, style in bulk.cells(k):
                new_cell(ws, bulk.first_row + k, col, style, value, kind)
    bulk_rows(ws).clear()


# Placeholders ----------------------------------------------------------------------------------------------
Resolver = Callable[[str], Any]


def substitute(text: str, resolve: Resolver, where: str) -> Any:
    """The value for a template cell's text: typed when the cell is one placeholder, else text."""
    whole = PLACEHOLDER.fullmatch(text.strip())
    if whole:
        return _resolve(resolve, whole.group(1), where)
    return PLACEHOLDER.sub(lambda m: text_of(_resolve(resolve, m.group(1), where)), text)


def _resolve(resolve: Resolver, key: str, where: str) -> Any:
    try:
        return resolve(key)
    except KeyError:
        raise TemplateError(f"{where}: unknown placeholder {{{{{key}}}}}") from None


def fill_placeholders(ws: Worksheet, resolve: Resolver, where: str, writer: Writer) -> dict[str, tuple[int, int]]:
    """Replace every placeholder of a sheet. Returns the cells of ``chart:`` and ``legend:`` markers."""
    markers: dict[str, tuple[int, int]] = {}
    for (row, col), cell in list(ws._cells.items()):
        value = cell._value
        if not isinstance(value, str) or "{{" not in value or isinstance(cell, MergedCell):
            continue
        value = unescape(value)  # openpyxl hands template text over still OOXML-escaped
        keys = [m.group(1) for m in PLACEHOLDER.finditer(value)]
        if len(keys) == 1 and keys[0].startswith(("chart:", "legend:")):
            markers[keys[0]] = (row, col)
        new = substitute(value, resolve, f"{where}!{cell.coordinate}")
        writer.put(row, col, new, cell._style)
    return markers


# Tables that grow ------------------------------------------------------------------------------------------
@dataclass
class TemplateTable:
    spec: Section
    table: Table
    min_col: int
    max_col: int
    header_row: int

    @property
    def style_row(self) -> int:
        return self.header_row + 1


@dataclass
class Placed:
    """Where a section landed in the report."""

    spec: Section
    min_col: int
    max_col: int
    header_row: int
    first_row: int
    last_row: int
    empty: bool

    @property
    def ref(self) -> str:
        return f"{get_column_letter(self.min_col)}{self.header_row}:{get_column_letter(self.max_col)}{self.last_row}"


def find_tables(ws: Worksheet, sections: Sequence[Section], where: str, widths: dict[str, int] | None = None,
                notes: list[str] | None = None) -> list[TemplateTable]:
    found = []
    for spec in sections:
        table = ws.tables.get(spec.table)
        if table is None and spec.optional and notes is not None:
            notes.append(f"{where}, sheet '{ws.title}' has no table '{spec.table}', so the report leaves it out "
                         "(python -m mou_tracker.reports.make_templates builds templates that have it)")
            continue
        if table is None:
            raise TemplateError(f"{where}, sheet '{ws.title}': no Excel table named '{spec.table}' "
                                f"(tables there: {', '.join(ws.tables) or 'none'})")
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if max_row < min_row + 1:
            raise TemplateError(f"{where}, sheet '{ws.title}': table '{spec.table}' needs its header row and one "
                                "styled row below it")
        expected = (widths or {}).get(spec.table, len(spec.columns))
        if max_col - min_col + 1 != expected:
            raise TemplateError(f"{where}, sheet '{ws.title}': table '{spec.table}' has {max_col - min_col + 1} "
                                f"columns; the report writes {expected} "
                                f"({', '.join(c.header for c in spec.columns)})")
        found.append(TemplateTable(spec, table, min_col, max_col, min_row))
    found.sort(key=lambda t: t.header_row)
    for a, b in zip(found, found[1:], strict=False):
        if b.header_row <= a.style_row:
            raise TemplateError(f"{where}, sheet '{ws.title}': tables '{a.spec.table}' and '{b.spec.table}' "
                                "overlap; keep each table below the previous one")
    return found


@dataclass
class _Snapshot:
    cells: dict[int, list[tuple[int, Any, str, StyleArray]]] = field(default_factory=dict)
    heights: dict[int, tuple[float | None, bool]] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


def _take_rows(ws: Worksheet, first: int) -> _Snapshot:
    """Lift every row from ``first`` down out of the sheet (cells, heights, merged ranges)."""
    snap = _Snapshot()
    for mcr in list(ws.merged_cells.ranges):
        if mcr.max_row >= first:
            if mcr.min_row >= first:
                snap.merges.append((mcr.min_col, mcr.min_row, mcr.max_col, mcr.max_row))
            ws.unmerge_cells(mcr.coord)
    for (row, col) in sorted(k for k in ws._cells if k[0] >= first):
        cell = ws._cells.pop((row, col))
        snap.cells.setdefault(row, []).append((col, cell._value, cell.data_type, cell._style))
    for row in [r for r in ws.row_dimensions if r >= first]:
        dim = ws.row_dimensions.pop(row)
        snap.heights[row] = (dim.ht, bool(dim.hidden))
    return snap


def _put_rows(ws: Worksheet, snap: _Snapshot, first: int, last: int, delta: int) -> None:
    """Write template rows first..last back, ``delta`` rows further down."""
    for row in range(first, last + 1):
        for col, value, data_type, style in snap.cells.get(row, ()):
            cell = Cell(ws, row=row + delta, column=col, style_array=style)
            cell._value = value
            cell.data_type = data_type
            ws._cells[(row + delta, col)] = cell
        if row in snap.heights:
            height, hidden = snap.heights[row]
            ws.row_dimensions[row + delta] = RowDimension(ws, index=row + delta, ht=height, hidden=hidden)
    for min_col, min_row, max_col, max_row in snap.merges:
        if first <= min_row and max_row <= last:
            ws.merge_cells(start_row=min_row + delta, start_column=min_col, end_row=max_row + delta,
                           end_column=max_col)


def column_styles(ws: Worksheet, row: int, min_col: int, max_col: int) -> list[StyleArray]:
    out = []
    for col in range(min_col, max_col + 1):
        cell = ws._cells.get((row, col))
        out.append(copy(cell._style) if cell is not None else StyleArray())
    return out


@dataclass
class Moves:
    """Where template rows went: (first, last, rows moved down) per block."""

    blocks: list[tuple[int, int, int]] = field(default_factory=list)

    def __call__(self, row: int) -> int:
        for first, last, delta in self.blocks:
            if first <= row <= last:
                return row + delta
        return row


def layout_sections(ws: Worksheet, writer: Writer, tables: list[TemplateTable],
                    rows_of: Callable[[Section], Iterable[Sequence[Any]]],
                    empty_text: Callable[[Section], str]) -> tuple[list[Placed], Moves]:
    """Write each table's rows, moving whatever follows it (captions, later tables, notes) down."""
    moves = Moves()
    if not tables:
        return [], moves
    first = tables[0].header_row
    styles = {t.spec.table: column_styles(ws, t.style_row, t.min_col, t.max_col) for t in tables}
    snap = _take_rows(ws, first)
    placed = []
    cursor = first
    block_start = first
    for t in tables:
        delta = cursor - block_start
        _put_rows(ws, snap, block_start, t.header_row, delta)
        moves.blocks.append((block_start, t.header_row, delta))
        header = t.header_row + delta
        col_styles = styles[t.spec.table]
        row = header
        col0 = t.min_col
        put = writer.put
        blanks = [shows_when_empty(st) for st in col_styles]
        wrapped = wrapped_columns(ws, col_styles, col0)
        heights: dict[int, float] = {}
        # a list's rows are kept as values, written out when the sheet is saved; the tracking table's
        # (repeated quarter blocks) are cells: they are coloured by status and laid out for print after
        kept: list[Sequence[Any]] | None = [] if t.spec.block is None else None
        for values in rows_of(t.spec):
            row += 1
            if kept is not None:
                kept.append(values)
            else:
                for i, value in enumerate(values):
                    if value is not None:
                        put(row, col0 + i, value, col_styles[i])
                    elif blanks[i]:
                        new_cell(ws, row, col0 + i, col_styles[i])
            if wrapped:
                height = wrapped_height(values, wrapped)
                if height:
                    heights[row] = height
        if kept:
            bulk_rows(ws).append(BulkRows(writer, header + 1, col0, col_styles, blanks, kept))
        empty = row == header
        if empty:
            row += 1
            writer.put(row, col0, empty_text(t.spec), col_styles[0])
            for i in range(1, len(col_styles)):
                new_cell(ws, row, col0 + i, col_styles[i])
        if t.style_row in snap.heights:
            height, _hidden = snap.heights[t.style_row]
            if height:
                for r in range(header + 1, row + 1):
                    ws.row_dimensions[r] = RowDimension(ws, index=r, ht=height)
        for r, height in heights.items():  # rows of wrapped text (Excel and LibreOffice keep a set height)
            dim = ws.row_dimensions.get(r)
            if dim is None or not dim.ht or dim.ht < height:
                ws.row_dimensions[r] = RowDimension(ws, index=r, ht=height)
        placed.append(Placed(t.spec, t.min_col, t.max_col, header, header + 1, row, empty))
        _retable(ws, t.table, placed[-1])
        cursor = row + 1
        block_start = t.style_row + 1
    last_template_row = max([*snap.cells, *snap.heights, block_start - 1])
    _put_rows(ws, snap, block_start, last_template_row, cursor - block_start)
    moves.blocks.append((block_start, last_template_row, cursor - block_start))
    return placed, moves


#: points per line of wrapped text, per point of font size (Calibri's line height, with some air)
LINE_HEIGHT = 1.3
#: at most this many lines make a row taller (a very long text is cut, not made a page high)
MAX_LINES = 12


def wrapped_columns(ws: Worksheet, styles: Sequence[StyleArray], col0: int) -> list[tuple[int, float, float]]:
    """The (offset, characters per line, line height) of the table's columns whose styled cell wraps text."""
    wb = ws.parent
    out = []
    for i, st in enumerate(styles):
        if st.alignmentId and wb._alignments[st.alignmentId].wrap_text:
            dim = ws.column_dimensions.get(get_column_letter(col0 + i))
            chars = dim.width if dim is not None and dim.width else 8.43
            size = float(wb._fonts[st.fontId].sz or 11)
            # a character of text is about as wide as 11/size of the width unit (the default font's digit)
            out.append((i, max(1.0, chars * 11 / size - 1), size * LINE_HEIGHT))
    return out


def wrapped_height(values: Sequence[Any], wrapped: Sequence[tuple[int, float, float]]) -> float | None:
    """The height a row needs for its wrapped texts, when more than one line."""
    best = 0.0
    for i, per_line, line in wrapped:
        value = values[i] if i < len(values) else None
        if type(value) is str and len(value) > per_line:
            lines = sum(max(1, -(-len(part) // int(per_line))) for part in value.split("\n"))
            best = max(best, min(lines, MAX_LINES) * line + 2)
    return best or None


def _retable(ws: Worksheet, table: Table, placed: Placed) -> None:
    """Point a table at its new range; its column names follow the header cells (unique, as Excel needs)."""
    table.ref = placed.ref
    table.autoFilter = AutoFilter(ref=placed.ref)
    table.totalsRowCount = None
    table.totalsRowShown = None
    seen: set[str] = set()
    columns = []
    for i, col in enumerate(range(placed.min_col, placed.max_col + 1), 1):
        cell = ws._cells.get((placed.header_row, col))
        name = " ".join(str(cell._value).split()) if cell is not None and cell._value is not None else ""
        name = name or f"Column{i}"
        base, n = name, 2
        while name.casefold() in seen:
            name = f"{base} {n}"
            n += 1
        seen.add(name.casefold())
        header = Cell(ws, row=placed.header_row, column=col, style_array=cell._style if cell is not None else None)
        header._value = name
        header.data_type = "s"
        ws._cells[(placed.header_row, col)] = header
        columns.append(TableColumn(id=i, name=name))
    table.tableColumns = columns


# Columns repeated per quarter (the tracking table) ---------------------------------------------------------
def explode_column_dimensions(ws: Worksheet) -> None:
    """One ColumnDimension per column (Excel groups equal neighbours as min..max ranges)."""
    for key, dim in list(ws.column_dimensions.items()):
        lo, hi = dim.min, dim.max
        if lo and hi and hi > lo:
            for col in range(lo, hi + 1):
                letter = get_column_letter(col)
                new = copy(dim)
                new.index = letter
                new.min = new.max = col
                ws.column_dimensions[letter] = new
            if key != get_column_letter(lo):
                del ws.column_dimensions[key]


def repeat_block(ws: Worksheet, table: TemplateTable, block: tuple[int, int], times: int,
                 label: Callable[[int, str], str]) -> None:
    """Repeat the table's block columns ``times`` times (in its header, styled row and the band row above),
    shifting the columns after it right. ``label(k, text)`` fills the k-th copy's placeholders."""
    b0 = table.min_col + block[0]
    width = block[1] - block[0]
    b1 = b0 + width - 1
    shift = (times - 1) * width
    rows = [r for r in (table.header_row - 1, table.header_row, table.style_row) if r >= 1]
    explode_column_dimensions(ws)
    merges = []
    for mcr in list(ws.merged_cells.ranges):
        if mcr.min_row in rows and mcr.max_row in rows and mcr.max_col >= b0:
            merges.append((mcr.min_col, mcr.min_row, mcr.max_col, mcr.max_row))
            ws.unmerge_cells(mcr.coord)
    lifted = {k: ws._cells.pop(k) for k in [k for k in ws._cells if k[0] in rows and k[1] >= b0]}
    widths = {}
    for letter, dim in list(ws.column_dimensions.items()):
        if column_index_from_string(letter) >= b0:
            widths[column_index_from_string(letter)] = dim
            del ws.column_dimensions[letter]

    def place(src: Cell, row: int, col: int, value: Any) -> None:
        cell = Cell(ws, row=row, column=col, style_array=src._style)
        cell._value = value
        cell.data_type = src.data_type if not isinstance(value, str) else "s"
        ws._cells[(row, col)] = cell

    def put_width(src_col: int, col: int) -> None:
        dim = widths.get(src_col)
        if dim is not None:
            new = copy(dim)
            new.index = get_column_letter(col)
            new.min = new.max = col
            ws.column_dimensions[new.index] = new

    for (row, col), src in lifted.items():
        if col > b1:
            place(src, row, col + shift, src._value)
        else:
            for k in range(times):
                value = label(k, src._value) if isinstance(src._value, str) else src._value
                place(src, row, col + k * width, value)
    for col in widths:
        if col > b1:
            put_width(col, col + shift)
        else:
            for k in range(times):
                put_width(col, col + k * width)
    for min_col, min_row, max_col, max_row in merges:
        if min_col > b1:
            ws.merge_cells(start_row=min_row, start_column=min_col + shift, end_row=max_row,
                           end_column=max_col + shift)
        elif min_col >= b0 and max_col <= b1:
            for k in range(times):
                ws.merge_cells(start_row=min_row, start_column=min_col + k * width, end_row=max_row,
                               end_column=max_col + k * width)
    table.max_col += shift
    table.table.ref = (f"{get_column_letter(table.min_col)}{table.header_row}:"
                       f"{get_column_letter(table.max_col)}{table.style_row}")


def fold_columns(ws: Worksheet, first: int, last: int) -> None:
    """Hide columns first..last in a collapsed outline group (a click on + shows them; printing skips them)."""
    for col in range(first, last + 1):
        dim = ws.column_dimensions[get_column_letter(col)]
        dim.hidden = True
        dim.outlineLevel = 1
    ws.column_dimensions[get_column_letter(last + 1)].collapsed = True
    ws.sheet_format.outlineLevelCol = 1


def chart_size(ws: Worksheet, row: int, col: int) -> tuple[float, float] | None:
    """Width and height (cm) of the merged range headed by (row, col), if it is one."""
    for mcr in ws.merged_cells.ranges:
        if mcr.min_row == row and mcr.min_col == col:
            px_w = 0.0
            for c in range(mcr.min_col, mcr.max_col + 1):
                dim = ws.column_dimensions.get(get_column_letter(c))
                chars = dim.width if dim is not None and dim.width else 8.43
                px_w += chars * 7 + 5
            px_h = 0.0
            for r in range(mcr.min_row, mcr.max_row + 1):
                dim = ws.row_dimensions.get(r)
                points = dim.ht if dim is not None and dim.ht else 15
                px_h += points * 96 / 72
            return px_w / 37.8, px_h / 37.8
    return None

