"""Printing the tracking table: one fiscal year per page width, never shrunk below 8 pt.

Fitting the whole table to one page width (``fitToWidth=1``) shrinks a table of many quarters to an unreadable
size. Instead the sheet is printed at a fixed scale, with manual column breaks: the columns before the quarters
(code, indicator, unit, baseline) make the first page, each fiscal year's quarters the next ones, then the
cumulative, status and computation columns as many as fit a page. The print-title columns (code and indicator
in the packaged templates) and header rows repeat on every page. The scale is the largest that fits the
widest of those pages, but never below the one that keeps the table's smallest font at 8 pt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.pagebreak import Break, ColBreak
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.reports.fill import style_at

MIN_FONT_PT = 8.0
DEFAULT_FONT_PT = 11.0
#: paper (short side, long side) in inches by the sheet's paperSize code (1 Letter, 5 Legal, 8 A3, 9 A4)
PAPER_INCHES = {1: (8.5, 11.0), 5: (8.5, 14.0), 8: (11.69, 16.54), 9: (8.27, 11.69)}
#: room kept free on each page for what spreadsheet programs round differently (cell padding, gridlines)
SLACK = 0.96
MAX_ROW = 1048575
#: pixels per character of column width (see ``column_points``)
CHAR_PX = 8.75


@dataclass(frozen=True)
class PrintPlan:
    scale: int
    #: the last column (1-based) of each page but the last
    breaks: tuple[int, ...]
    #: the smallest font size of the table, and as printed at ``scale``
    font_pt: float
    printed_font_pt: float


def column_points(ws: Worksheet, col: int, *, hidden_too: bool = False) -> float:
    """A column's printed width in points (0 when hidden, unless ``hidden_too``). The width is in characters
    of the default font plus 5 pixels of padding, at 96 pixels an inch: Excel draws a character 7 pixels wide,
    LibreOffice (measured on its PDF pages) about 8.75, so the wider one is taken: what fits LibreOffice's
    page fits Excel's."""
    dim = ws.column_dimensions.get(get_column_letter(col))
    if dim is not None and dim.hidden and not hidden_too:
        return 0.0
    chars = dim.width if dim is not None and dim.width else 8.43
    return (chars * CHAR_PX + 5) * 72 / 96


def printable_points(ws: Worksheet) -> float:
    setup = ws.page_setup
    short, long = PAPER_INCHES.get(int(setup.paperSize or 1), PAPER_INCHES[1])
    width = long if (setup.orientation or "portrait") == "landscape" else short
    margins = ws.page_margins
    return (width - float(margins.left or 0.7) - float(margins.right or 0.7)) * 72 * SLACK


def smallest_font(ws: Worksheet, first_row: int, last_row: int, first_col: int, last_col: int) -> float:
    """The smallest font size in the rows given. Every data row of a table copies its styled row's fonts, so
    the first few rows (band, header, the first data rows) tell: a long table is not read cell by cell."""
    fonts = ws.parent._fonts
    ids = set()
    for row in range(first_row, min(last_row, first_row + 4) + 1):
        for col in range(first_col, last_col + 1):
            style = style_at(ws, row, col)
            if style is not None:
                ids.add(style.fontId)
    return min((float(fonts[i].sz or DEFAULT_FONT_PT) for i in ids), default=DEFAULT_FONT_PT)


def title_columns(ws: Worksheet, default: str) -> tuple[int, int]:
    if not ws.print_title_cols:
        ws.print_title_cols = default
    first, _, last = str(ws.print_title_cols).replace("$", "").partition(":")
    return column_index_from_string(first), column_index_from_string(last or first)


def plan_pages(pages: Sequence[float], titles: float, page: float, font_pt: float) -> tuple[int, float]:
    """The print scale (%) for pages of these widths (points; each but the first also carries the title
    columns): the largest that fits the widest, at most 100, never below the one keeping ``font_pt`` at 8 pt.
    Returns the scale and the printed size of ``font_pt``."""
    needs = [w + (titles if n else 0) for n, w in enumerate(pages) if w]
    fit = min((page / w for w in needs), default=1.0)
    scale = max(min(100, math.floor(fit * 100)), math.ceil(MIN_FONT_PT / font_pt * 100))
    return scale, round(font_pt * scale / 100, 2)


def wrapped_lines(text: str, per_line: int) -> int:
    """How many lines ``text`` takes when wrapped word by word at ``per_line`` characters."""
    lines = 0
    for paragraph in text.splitlines() or [""]:
        lines += 1
        used = 0
        for word in paragraph.split():
            need = len(word) if used == 0 else used + 1 + len(word)
            if need <= per_line or used == 0:
                used = need
            else:
                lines += 1 + (len(word) - 1) // per_line
                used = len(word) % per_line or per_line
    return lines


def wrap_titles(ws: Worksheet, last_row: int, first_col: int, last_col: int) -> None:
    """Fold the sheet's title lines (rows 1 to ``last_row`` holding a text in ``first_col`` only) into the
    print-title columns: merged across them, wrapped, and as tall as their lines. A title left to overflow
    into the next columns would be cut where the repeated columns end on every page but the first."""
    from openpyxl.styles import Alignment

    width = sum(column_points(ws, c) for c in range(first_col, last_col + 1))
    merged = {str(r) for r in ws.merged_cells.ranges}
    fonts = ws.parent._fonts
    for row in range(1, last_row + 1):
        cell = ws._cells.get((row, first_col))
        if cell is None or not isinstance(cell.value, str) or not cell.value.strip():
            continue
        others = [c for (r, col), c in ws._cells.items() if r == row and col != first_col and c.value not in (None, "")]
        span = f"{get_column_letter(first_col)}{row}:{get_column_letter(last_col)}{row}"
        if others or span in merged or last_col == first_col:
            continue
        font = fonts[cell._style.fontId]
        size = float(font.sz or DEFAULT_FONT_PT)
        # an average character is about 0.55 em wide, a bold one 0.62; a word never splits across lines
        per_line = max(1, int((width - 6) / (size * (0.62 if font.b else 0.55))))
        lines = wrapped_lines(cell.value, per_line)
        ws.merge_cells(span)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = round(lines * size * 1.3, 1)


def print_tracking_table(ws: Worksheet, *, groups: Sequence[Sequence[int]], band_row: int, last_row: int
                         ) -> PrintPlan:
    """Print each group of columns (the identity and baseline columns, each fiscal year's quarters, the
    cumulative and status columns, the computation and narrative columns) on its own page width; set the scale,
    the column breaks and the print titles (code and indicator unless the template names others)."""
    first_col, last_col = groups[0][0], groups[-1][-1]
    t_first, t_last = title_columns(ws, f"{get_column_letter(first_col)}:{get_column_letter(first_col + 1)}")
    titles = sum(column_points(ws, c) for c in range(t_first, t_last + 1))
    # folded (hidden) fiscal years count: the scale must still fit them when someone unfolds them to print
    pages = [sum(column_points(ws, c, hidden_too=True) for c in g) for g in groups]
    font = smallest_font(ws, band_row, last_row, first_col, last_col)
    scale, printed = plan_pages(pages, titles, printable_points(ws), font)
    breaks = tuple(g[-1] for g in groups[:-1] if g)
    if breaks:
        wrap_titles(ws, 1, t_first, t_last)  # the title; the notes below it keep to the first page
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.fitToWidth = None
    ws.page_setup.fitToHeight = None
    ws.page_setup.scale = scale
    ws.col_breaks = ColBreak()
    for c in breaks:
        ws.col_breaks.append(Break(id=c, max=MAX_ROW))
    return PrintPlan(scale, breaks, font, printed)


def readable_width(ws: Worksheet, first_row: int, last_row: int, last_col: int) -> None:
    """A list sheet prints fitted to one page width only while that keeps its smallest font at 8 pt or more;
    otherwise at the scale that does, over as many pages as it takes, the first column repeated on each, and
    the pages ordered across then down: the rest of a row's columns is on the next page, not after every row
    of the sheet (a printed register of 50 trainings over three page widths read page 1, then the other rows'
    IDs, and the counts of the first rows only on page 3)."""
    setup = ws.page_setup
    if not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage \
            or setup.fitToWidth not in (1, "1") or setup.fitToHeight not in (0, "0", None):
        return  # the template prints another way: leave it
    width = sum(column_points(ws, c) for c in range(1, last_col + 1))
    font = smallest_font(ws, first_row, last_row, 1, last_col)
    if width * MIN_FONT_PT / font <= printable_points(ws):
        return  # fitted to the page width, the font stays at 8 pt or more
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    setup.fitToWidth = None
    setup.fitToHeight = None
    setup.scale = math.ceil(MIN_FONT_PT / font * 100)
    setup.pageOrder = "overThenDown"
    if not ws.print_title_cols:
        ws.print_title_cols = "A:A"
