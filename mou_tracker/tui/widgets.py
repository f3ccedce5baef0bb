"""Widgets shared by the screens: the navigation bar, the title line, the SQL-paged table and the
dashboard's indicator bars."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from mou_tracker.read.views import ListRequest, Page
from mou_tracker.services.indicators import Progress
from mou_tracker.tui import format as fmt

R = TypeVar("R")

LOADING_DELAY = 0.3  # seconds before a slow load shows its loading indicator
COUNT_DELAY = 0.15  # seconds after a page is shown before its matches are counted

#: a table cell with a style: (text, style), where the style may name theme colours ("bold $error")
Styled = tuple[str, str]


def rich_style(app: App[Any], style: str) -> str:
    """A Rich style for a style naming theme colours, for widgets that draw Rich text (the table cells)."""
    parts = []
    for token in style.split():
        if token == "$text-muted":
            parts.append("dim")
        elif token.startswith("$"):
            try:
                parts.append(Color.parse(app.theme_variables.get(token[1:], "")).hex)
            except ColorParseError:
                continue
        else:
            parts.append(token)
    return " ".join(parts)


class NavBar(Static):
    """Every screen with its key, the current one highlighted; a click on a name posts ``Picked``. When the
    full names do not fit the width, the longest ones are shortened first (to their short forms)."""

    class Picked(Message):
        """A screen's name was clicked: the app opens that screen."""

        def __init__(self, mode: str) -> None:
            super().__init__()
            self.mode = mode

    def __init__(self, tabs: Sequence[tuple[str, str, str, str]], current: str) -> None:
        """``tabs``: (mode, key, title, short title or "") of every screen shown, in order."""
        super().__init__()
        self.tabs = tuple(tabs)
        self.current = current
        self._spans: list[tuple[int, int, str]] = []

    def names(self, width: int) -> list[str]:
        """Each tab's name as shown in ``width`` columns: full, or short for the longest ones if need be."""
        names = [title for _mode, _key, title, _short in self.tabs]

        def used() -> int:
            return sum(len(key) + len(name) + 1 for (_m, key, _t, _s), name in zip(self.tabs, names, strict=True))

        while used() > width:
            longer = [(len(names[i]), -i) for i, tab in enumerate(self.tabs) if tab[3] and names[i] != tab[3]]
            if not longer:
                break
            i = -max(longer)[1]
            names[i] = self.tabs[i][3]
        return names

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        parts: list[str | tuple[str, str]] = []
        self._spans = []
        x = 0
        for (mode, key, _title, _short), name in zip(self.tabs, self.names(self.size.width or 80), strict=True):
            active = mode == self.current
            parts += [(key, "bold $accent on $primary-muted" if active else "bold $accent"),
                      (name, "bold $text-primary on $primary-muted" if active else "$text-muted"), " "]
            self._spans.append((x, x + len(key) + len(name), mode))
            x += len(key) + len(name) + 1
        self.update(Content.assemble(*parts))

    def on_click(self, event: events.Click) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                event.stop()
                self.post_message(self.Picked(mode))
                return


@dataclass(frozen=True)
class Session:
    """What the title line says about the session: who is working, and how."""

    actor: str
    read_only: bool = False
    as_of: date | None = None
    #: the partnership's code (shown when the database holds several, or always when given)
    partnership: str = ""


class TitleBar(Horizontal):
    """The screen's heading on the left; who is working, and how, on the right (given, not looked up)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(id="heading")
        yield Static(id="badges")

    def on_mount(self) -> None:
        session = self.session
        parts: list[str | tuple[str, str]] = []
        if session.as_of is not None:
            parts += [(f" as of {session.as_of.isoformat()} ", "bold $text-warning on $warning-muted"), " "]
        if session.read_only:
            parts += [(" read-only ", "bold $text-warning on $warning-muted"), " "]
        if session.partnership:
            parts += [(session.partnership, "bold $text-accent"), " "]
        parts.append((session.actor, "$text-muted"))
        self.query_one("#badges", Static).update(Content.assemble(*parts))

    def set_heading(self, heading: str | Content) -> None:
        self.query_one("#heading", Static).update(heading)


# The paged table -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col(Generic[R]):
    """A column: ``key`` is the sort key the query knows (empty when the column cannot sort); ``id`` names
    a column that does not sort (its key in the table).

    Widths: a figure (``right``) or a column without ``width`` is always as wide as what it shows, so no
    value is ever cut. A text column with a ``width`` may be narrowed to that width when the terminal is
    short of room, and is widened to show its text whole when there is room; the ``grow`` column (else the
    widest text column) takes what room is left, so the table fills the terminal's width."""

    key: str
    label: str
    get: Callable[[R], Any]
    width: int | None = None
    right: bool = False
    id: str = ""
    grow: bool = False

    @property
    def shrinks(self) -> bool:
        return self.width is not None and not self.right

    @property
    def column_key(self) -> str:
        return self.id or self.key or self.label


class Cell:
    """One line of text in a table cell, cut to the column with an ellipsis. Far cheaper to draw than Rich
    ``Text`` (no wrapping machinery), which matters when a filter keystroke redraws a whole page."""

    __slots__ = ("text", "style", "right", "width")

    def __init__(self, text: str, style: str = "", right: bool = False) -> None:
        self.text = " ".join(text.split()) if "\n" in text else text
        self.style = Style.parse(style) if style else Style.null()
        self.right = right
        self.width = cell_len(self.text)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        width = options.max_width
        text = self.text
        if self.width > width:
            text = set_cell_size(text, max(width - 1, 0)) + "…" if width else ""
        pad = " " * (width - cell_len(text))
        yield Segment(pad + text if self.right else text + pad, self.style)

    def __str__(self) -> str:
        return self.text


class PageTable(DataTable[Any]):
    """A DataTable that asks for the next or previous page when the cursor runs off its edge."""

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        # When every column has a fixed width (and every row is one line high), DataTable's measuring of
        # each new cell (some 700 per page) only costs time on every filter keystroke: skip it, and size
        # the table as DataTable does (Textual 8.2.8, pinned).
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header_height)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        # A column that the sideways scroll shows only in part is drawn blank: "95,000.00" must never read
        # "00.00". The column under the cursor is always scrolled whole into view.
        strip = super()._render_line(y, x1, x2, base_style)
        if not x1 and self.virtual_size.width <= self.size.width:
            return strip  # the whole table is in view: nothing to hide (the usual case, kept cheap)
        cuts = self.cut_spans(x1)
        for start, end in cuts:
            hidden = Strip([Segment(" " * seg.cell_length, seg.style) for seg in strip.crop(start, end)])
            strip = Strip.join([strip.crop(0, start), hidden, strip.crop(end, strip.cell_length)])
        return strip

    def cut_spans(self, scroll_x: int) -> list[tuple[int, int]]:
        """The screen spans (start, end) of the columns that the view shows only in part, at ``scroll_x``.
        A column wider than the whole scrolling part of the view is shown in part rather than not at all."""
        columns = self.ordered_columns
        widths = [c.get_render_width(self) for c in columns]
        fixed = sum(widths[: self.fixed_columns])
        view = self.size.width
        lo, hi = scroll_x + fixed, scroll_x + view  # the visible span of the scrolling columns
        spans: list[tuple[int, int]] = []
        start = 0
        for width in widths:
            end = start + width
            if width <= view - fixed and (start < lo < end or start < hi < end):
                spans.append((max(start - scroll_x, fixed), min(end - scroll_x, view)))
            start = end
        return spans

    class Edge(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.Edge(+1))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.Edge(-1))
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.Edge(+1))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.Edge(-1))
            return
        super().action_page_up()


class _RowMessage(Message):
    def __init__(self, table: PagedTable[Any], row: Any, column: str | None = None) -> None:
        super().__init__()
        self.table = table
        self.row = row
        self.column = column

    @property
    def control(self) -> PagedTable[Any]:
        return self.table


class PagedTable(Vertical, Generic[R]):
    """A table fed one page at a time by a query that filters, sorts and pages in SQL.

    ``noun`` is what one row is ("training"); the status line counts them in the right number.
    ``fetch(request)`` runs in a thread worker (a stale load is dropped when a newer one starts), so typing
    in the filter never blocks the UI. Rows are keyed by ``key(row)``; Enter posts ``Opened``.
    """

    BINDINGS = [
        Binding("slash", "start_filter", "Filter", tooltip="Filter the rows (matches any column)"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "cycle_sort", "Sort", show=False, tooltip="Sort by the next column (again: reverse)"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
        Binding("left_square_bracket", "page(-1)", "Previous page", show=False),
    ]

    class Opened(_RowMessage):
        """Enter (or a click on the selected row) on a row; ``column`` is the column key in cell mode."""

    class Highlighted(_RowMessage):
        """The cursor moved to a row (or a cell)."""

    class LoadFailed(Message):
        """A page could not be read; the table keeps its last page. The screen decides what to tell."""

        def __init__(self, table: PagedTable[Any], error: Exception) -> None:
            super().__init__()
            self.table = table
            self.error = error

        @property
        def control(self) -> PagedTable[Any]:
            return self.table

    filtering: reactive[bool] = reactive(False)

    def __init__(self, columns: Sequence[Col[R]], fetch: Callable[[ListRequest], Page[R]] | None,
                 key: Callable[[R], str], *, noun: str = "row", page_size: int = 100,
                 cursor_type: str = "row", fixed_columns: int = 0, header_height: int = 1,
                 id: str | None = None) -> None:
        super().__init__(id=id, classes="paged")
        self.columns = list(columns)
        self.fetch = fetch
        self.key = key
        self.noun = noun
        self.request = ListRequest(limit=page_size)
        self.page: Page[R] | None = None
        #: the request whose page is on screen (``request`` may be newer, still loading)
        self.shown: ListRequest | None = None
        #: seconds from the last request to its rows being in the table (for benchmarks and the curious)
        self.last_latency: float | None = None
        self._asked_at = 0.0
        self.rows: dict[str, R] = {}
        self._cursor_type = cursor_type
        self._fixed_columns = fixed_columns
        self._header_height = header_height
        self._cursor_hint: str | None = None
        self._loading_timer: Timer | None = None
        #: how wide each column's label and widest cell on the page are (its width when there is room)
        self._natural: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"Filter {fmt.plural(2, self.noun)}: type to narrow · Enter keeps it · Esc clears",
                    classes="filter", compact=True)
        yield PageTable(cursor_type=self._cursor_type, zebra_stripes=True,  # type: ignore[arg-type]
                        fixed_columns=self._fixed_columns, header_height=self._header_height)
        yield Static(classes="table-status")

    @property
    def table(self) -> PageTable:
        return self.query_one(PageTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("Input.filter", Input)

    def on_mount(self) -> None:
        self._add_columns()
        self.watch(self.app, "theme", self._redraw, init=False)
        if self.fetch is not None:
            self.reload()

    def _redraw(self) -> None:
        """Draw the current page again (the theme changed: cell colours follow it)."""
        if self.page is not None:
            self._show(self.request, self.page)

    def focus(self, scroll_visible: bool = True) -> PagedTable[R]:
        self.table.focus(scroll_visible)
        return self

    def set_columns(self, columns: Sequence[Col[R]]) -> None:
        self.columns = list(columns)
        self.table.clear(columns=True)
        self._add_columns()

    def _add_columns(self) -> None:
        self._natural = {}
        for col in self.columns:
            label = self._label(col)
            self._natural[col.column_key] = max((cell_len(line) for line in label.plain.split("\n")), default=0)
            self.table.add_column(label, width=self._natural[col.column_key], key=col.column_key)
        self._fit_columns()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_columns)

    def _measure(self, cells: Sequence[Sequence[Cell]]) -> None:
        """Note how wide each column's widest cell (and label) is on the page shown."""
        for i, col in enumerate(self.columns):
            label = self._label(col)
            widest = max((cell_len(line) for line in label.plain.split("\n")), default=0)
            self._natural[col.column_key] = max([widest, *(row[i].width for row in cells)])

    def _fit_columns(self) -> None:
        """Share the table's width among its columns (see ``Col``): figures whole, names whole where there
        is room, the whole width used; when even the narrowed columns do not fit, the table scrolls
        sideways with its frozen columns (the code) kept in view."""
        table = self.table
        if not self.columns or not table.columns or not table.size.width:
            return
        pad = 2 * table.cell_padding
        room = table.size.width
        if table.row_count + (table.header_height if table.show_header else 0) > table.size.height:
            room -= table.styles.scrollbar_size_vertical
        natural = [self._natural.get(c.column_key, 0) for c in self.columns]
        widths = [min(n, c.width or n) if c.shrinks else n for c, n in zip(self.columns, natural, strict=True)]
        spare = room - sum(w + pad for w in widths)
        # first the narrowed text columns, towards their whole text: those that lack least first, so that
        # as many as possible are shown whole (a long free text takes what remains)
        lacking = [n - w for n, w in zip(natural, widths, strict=True)]
        if spare > 0 and any(lacking):
            for i in sorted((i for i, lack in enumerate(lacking) if lack), key=lambda i: lacking[i]):
                given = min(spare, lacking[i])
                widths[i] += given
                spare -= given
                if not spare:
                    break
        elif spare < 0 and self._fixed_columns:
            # the table scrolls sideways anyway: its frozen text (an indicator's name) is widened towards
            # whole while the scrolling part keeps at least half the room
            # (a frozen figure, e.g. a baseline, is not counted against the text)
            budget = room // 2 - sum(w + pad for c, w in zip(self.columns[: self._fixed_columns],
                                                             widths[: self._fixed_columns], strict=True)
                                     if not c.right)
            for i in range(self._fixed_columns):
                extra = max(0, min(budget, natural[i] - widths[i]))
                widths[i] += extra
                budget -= extra
        # then the rest to the growing column, so the table spans the terminal
        if spare > 0:
            texts = [i for i, c in enumerate(self.columns) if not c.right]
            grow = next((i for i, c in enumerate(self.columns) if c.grow), None)
            if grow is None and texts:
                grow = max(texts, key=lambda i: (self.columns[i].shrinks, natural[i]))
            if grow is not None:
                widths[grow] += spare
        changed = False
        for col, width in zip(self.columns, widths, strict=True):
            column = table.columns.get(col.column_key)  # type: ignore[call-overload]
            if column is not None and (column.width != width or column.auto_width):
                column.width, column.auto_width = width, False
                changed = True
        if changed:
            table._clear_caches()
            table._require_update_dimensions = True
            table.refresh()
            # new widths can bring or take away the sideways scrollbar, and with it a row of height (and so
            # the vertical scrollbar's column): fit once more after that layout, so the result never depends
            # on which refresh came first
            self._refits = getattr(self, "_refits", 0) + 1
            if self._refits <= 2:
                self.call_after_refresh(self._fit_columns)
        else:
            if getattr(self, "_refits", 0):  # settled: the cursor's cell back in view at the final widths
                self.call_after_refresh(lambda: table._scroll_cursor_into_view(animate=False))
            self._refits = 0

    def _label(self, col: Col[R]) -> Text:
        label = col.label
        if col.key and col.key == self.request.sort:
            label += " ↓" if self.request.descending else " ↑"
        return Text(label, justify="right" if col.right else "left")

    # Loading ------------------------------------------------------------------------------------------------
    def reload(self, *, cursor: str | None = None) -> None:
        """Fetch the current page again (after a change, a filter or a page move)."""
        if self.fetch is None:
            return
        self._cursor_hint = cursor
        self._asked_at = time.perf_counter()
        if self._loading_timer is None:
            self._loading_timer = self.set_timer(LOADING_DELAY, self._show_loading)
        self._load(self.request)

    def _show_loading(self) -> None:
        # a timer stopped after its event was already queued still calls this: cover the table only while a
        # page is still awaited (a late call once the page is shown left the table covered, and a covered
        # table cannot hold the focus: every key went dead)
        if self._loading_timer is None:
            return
        self.table.loading = True
        self.query_one(".table-status", Static).update(f"Loading {fmt.plural(2, self.noun)}…")

    @work(thread=True, exclusive=True, exit_on_error=False, group="page")
    def _load(self, request: ListRequest) -> None:
        """The page first (drawn at once), then the count of every match (the status line follows)."""
        worker = get_current_worker()
        assert self.fetch is not None
        try:
            page = self.fetch(replace(request, want="rows"))
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._show, request, page)
            if page.total is None:
                # count once the typing pauses: a keystroke meanwhile cancels this worker, and the page is
                # painted without the count competing for the processor
                time.sleep(COUNT_DELAY)
                if worker.is_cancelled:
                    return
                counted = self.fetch(replace(request, want="count"))
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._counted, request, counted.total)
        except Exception as exc:  # shown to the user; the table keeps its last page
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, request, exc)

    def _stop_loading(self) -> None:
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        self.table.loading = False

    def _failed(self, request: ListRequest, exc: Exception) -> None:
        if request != self.request:
            return
        self._stop_loading()
        self.post_message(self.LoadFailed(self, exc))
        self._update_status()

    def _show(self, request: ListRequest, page: Page[R]) -> None:
        if request != self.request:  # a newer request is on its way
            return
        if not page.rows and page.offset > 0:  # the list shrank below this page: back to the first
            self.request = replace(request, offset=0)
            self.reload(cursor="first")
            return
        self._stop_loading()
        table = self.table
        previous_key = self._current_key()
        previous_row = table.cursor_row
        previous_col = table.cursor_column
        self.page = page
        self.shown = request
        self.rows = {self.key(r): r for r in page.rows}
        cells = [[self._cell(c, row) for c in self.columns] for row in page.rows]
        self._measure(cells)
        with self.app.batch_update():
            table.clear()
            for row, row_cells in zip(page.rows, cells, strict=True):
                table.add_row(*row_cells, key=self.key(row))
            self._fit_columns()
            if table.row_count:
                if self._cursor_hint == "first":
                    target = 0
                elif self._cursor_hint == "last":
                    target = table.row_count - 1
                elif previous_key is not None and previous_key in self.rows:
                    target = table.get_row_index(previous_key)
                else:
                    target = min(max(previous_row, 0), table.row_count - 1)
                table.move_cursor(row=target, column=previous_col, animate=False)
        self._cursor_hint = None
        self._update_status()
        self.last_latency = time.perf_counter() - self._asked_at

    def _counted(self, request: ListRequest, total: int | None) -> None:
        if request != self.shown or self.page is None:
            return
        self.page = replace(self.page, total=total)
        self._update_status()

    def _cell(self, col: Col[R], row: R) -> Cell:
        value = col.get(row)
        style = ""
        if isinstance(value, tuple):
            value, style = value
            style = rich_style(self.app, style)
        return Cell(value if isinstance(value, str) else fmt.text(value), style, col.right)

    def redraw_column(self, column_key: str) -> None:
        """Draw one column's cells of the page again, for a column whose text depends on more than its row
        (the Indicators screen's marks follow the quarter under the cursor); its width stays as it is."""
        col = next((c for c in self.columns if c.column_key == column_key), None)
        if col is None or column_key not in self.table.columns:  # type: ignore[operator]
            return
        for key, row in self.rows.items():
            self.table.update_cell(key, column_key, self._cell(col, row))

    def _current_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # the cursor is off the rows (an emptied table)
            return None

    def _update_status(self) -> None:
        page = self.page
        status = self.query_one(".table-status", Static)
        if page is None:
            status.update("")
            return
        text = self.request.text.strip()
        if not page.rows and page.offset == 0:
            many = fmt.plural(2, self.noun)
            status.update(f"No {many} match '{text}'." if text else f"No {many} recorded yet.")
            return
        of = "…" if page.total is None else f"{page.total:,}"
        noun = fmt.plural(2 if page.total is None else page.total, self.noun)
        parts = [f"1 {noun}" if page.total == 1 else f"Showing {page.first:,}–{page.last:,} of {of} {noun}"]
        if text:
            parts.append(f"filter '{text}'")
        if self.request.sort:
            col = next((c for c in self.columns if c.key == self.request.sort), None)
            if col is not None:
                parts.append(f"sorted by {col.label} {'↓' if self.request.descending else '↑'}")
        if page.has_next or page.has_prev:
            parts.append("[ ] pages")
        status.update(" · ".join(parts))

    @property
    def current(self) -> R | None:
        key = self._current_key()
        return None if key is None else self.rows.get(key)

    @property
    def current_column(self) -> str | None:
        table = self.table
        if not table.columns or not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).column_key.value)

    # Events ---------------------------------------------------------------------------------------------------
    @on(PageTable.Edge)
    def _edge(self, event: PageTable.Edge) -> None:
        event.stop()
        self.action_page(event.step)

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None or (step > 0 and not page.has_next) or (step < 0 and not page.has_prev):
            return
        offset = max(0, page.offset + step * page.limit)
        self.request = replace(self.request, offset=offset)
        self.reload(cursor="first" if step > 0 else "last")

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Opened(self, row))

    @on(DataTable.CellSelected)
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        row = self.rows.get(str(event.cell_key.row_key.value))
        if row is not None:
            self.post_message(self.Opened(self, row, str(event.cell_key.column_key.value)))

    @on(DataTable.RowHighlighted)
    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted | DataTable.CellHighlighted) -> None:
        event.stop()
        if isinstance(event, DataTable.CellHighlighted):
            row_key, column = event.cell_key.row_key, str(event.cell_key.column_key.value)
        else:
            row_key, column = event.row_key, None
        row = self.rows.get(str(row_key.value))
        if row is not None:
            self.post_message(self.Highlighted(self, row, column))

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        if any(c.key == key for c in self.columns):
            self._sort_by(key, not self.request.descending if self.request.sort == key else False)

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in self.columns if c.key]
        if not keys:
            return
        if self.request.sort in keys and not self.request.descending:
            self._sort_by(self.request.sort, True)
            return
        nxt = keys[(keys.index(self.request.sort) + 1) % len(keys)] if self.request.sort in keys else keys[0]
        self._sort_by(nxt, False)

    def _sort_by(self, key: str, descending: bool) -> None:
        self.request = replace(self.request, sort=key, descending=descending, offset=0)
        for col in self.columns:
            column = self.table.columns.get(col.column_key)  # type: ignore[call-overload]
            if column is not None:
                column.label = self._label(col)
        self.table.refresh()
        self.reload(cursor="first")

    def action_start_filter(self) -> None:
        self.filtering = True
        self.filter_input.focus()

    def watch_filtering(self, filtering: bool) -> None:
        self.set_class(filtering, "-filtering")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.filtering
        return True

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.filtering = False
        self.table.focus()

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self.request.text:
            return
        before, shown = self.request.text.strip(), self.shown == self.request and self.page
        self.request = replace(self.request, text=event.value, offset=0)
        if shown and not shown.rows and shown.offset == 0 and before and event.value.strip().startswith(before):
            # nothing contained the shorter text, so nothing contains this one: no need to read every row again
            self._asked_at = time.perf_counter()
            self._show(self.request, Page((), 0, 0, self.request.limit))
            return
        self.reload(cursor="first")

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.filtering = bool(event.value.strip())
        self.table.focus()


# Dashboard widgets ----------------------------------------------------------------------------------------------------
STATUS_MARK = {"on_track": "●", "below_target": "▼", "above_target": "▲", "no_target": "·", "no_data": "·"}


class IndicatorBars(Widget):
    """One line per indicator: the quarter's and the cumulative actual against target, coloured by status.
    The figures are the indicator engine's; this widget only draws them."""

    DEFAULT_CSS = """
    IndicatorBars { height: auto; text-wrap: nowrap; text-overflow: clip; }
    """

    progress: reactive[Progress | None] = reactive(None, layout=True)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        # a header, one line per indicator and the legend; lines never wrap (they are cut to the width)
        return 0 if self.progress is None else len(self.progress.indicators) + 2

    CODE_W = 5
    PCT_W = 4  # "105%", ">999%" is cut to 4 with the mark after it
    MIN_NAME_W, MIN_BAR_W, MAX_BAR_W = 12, 5, 20
    EASY_NAME_W, EASY_BAR_W = 24, 10

    def render(self) -> Content:
        progress = self.progress
        if progress is None:
            return Content("")
        width = max(self.size.width, 60)
        rows = [(f, self._figures(f, f.period_actual, f.period_target),
                 self._figures(f, f.cumulative_actual, f.cumulative_target)) for f in progress.indicators]
        # the figures are as wide as the widest of them (never cut); the name gets the room next, then the bars
        fig_w = max([9, *(max(len(a), len(b)) for _f, a, b in rows)])
        part = 1 + fig_w + 1 + self.PCT_W + 1  # space, figures, space, percentage, mark (after the bar)
        fixed = self.CODE_W + 1 + 2 * part + 2  # code, space after the name, the gap between the two bars
        longest = max((len(f.name) for f in progress.indicators), default=0)
        room = width - fixed  # for the name and the two bars
        bar_w = max(self.MIN_BAR_W, min(self.MAX_BAR_W, (room - max(longest, self.MIN_NAME_W)) // 2))
        if bar_w < self.EASY_BAR_W and room - 2 * self.EASY_BAR_W >= self.EASY_NAME_W:
            bar_w = self.EASY_BAR_W  # bars that read easily, while a name still shows its first words
        name_w = max(self.MIN_NAME_W, room - 2 * bar_w)
        head = Content.assemble(
            (f"{'Code':<{self.CODE_W}}", "bold"), (f"{'Indicator':<{name_w}} ", "bold"),
            (f"{'Quarter ' + str(progress.period):<{bar_w + part + 2}}", "bold"), ("Cumulative", "bold"))
        lines = [head]
        for f, period_figures, cumulative_figures in rows:
            name = f.name if len(f.name) <= name_w else f.name[: name_w - 1] + "…"
            parts: list[str | tuple[str, str]] = [(f"{f.code:<{self.CODE_W}}", "bold"), f"{name:<{name_w}} "]
            parts += self._bar(period_figures, f.period_pct, f.status, bar_w, fig_w)
            parts.append("  ")
            parts += self._bar(cumulative_figures, f.cumulative_pct, f.cumulative_status, bar_w, fig_w)
            lines.append(Content.assemble(*parts))
        legend = Content.assemble(*[
            part for status in ("on_track", "below_target", "above_target", "no_target")
            for part in ((f"{STATUS_MARK[status]} {fmt.status_label(status)}", fmt.status_colour(status)), "  ")])
        lines.append(legend)
        return Content("\n").join(lines)

    @staticmethod
    def _figures(f: Any, actual: Any, target: Any) -> str:
        return f"{fmt.compact(f, actual)}/{fmt.compact(f, target)}"

    @classmethod
    def _bar(cls, figures: str, pct: Any, status: str, bar_w: int, fig_w: int) -> list[str | tuple[str, str]]:
        colour = fmt.status_colour(status)
        share = None if pct is None else float(pct) / 100
        filled, empty = fmt.bar(share, bar_w)
        pct_text = "" if pct is None else (f"{pct:.0f}%" if pct < 1000 else ">999")
        return [(filled, colour), (empty, "$text-muted"), " ", (f"{figures:>{fig_w}} ", ""),
                (f"{pct_text:>{cls.PCT_W}}", colour), (STATUS_MARK.get(status, "·"), colour)]
