"""Portfolio: every partnership of the database side by side for one quarter, with the roll-up of the
indicators they share (``Reader.portfolio``; docs/reference/indicators.md, "Several partnerships"). Each
partnership's column is its own progress; the total adds (or pools) only where code, unit and kind agree,
and the indicators that do not are shown per partnership with no total, and named."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Select, Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import ListRequest, Page, Portfolio
from mou_tracker.services.indicators import Figures
from mou_tracker.tui import format as fmt
from mou_tracker.tui.screens.base import QuarterScreen
from mou_tracker.tui.widgets import Col, PagedTable

PERIOD, CUMULATIVE = "period", "cumulative"


@dataclass(frozen=True)
class PortfolioRow:
    """One indicator's line: each partnership's own figures (by code) and the total (None when not added)."""

    code: str
    name: str
    unit: str
    figures: dict[str, Figures]
    period_total: Decimal | None
    cumulative_total: Decimal | None
    rolled_up: bool

    def shown(self, which: str, partnership: str) -> str:
        f = self.figures.get(partnership)
        if f is None:
            return ""  # no such indicator there
        return fmt.fig(f, f.period_actual if which == PERIOD else f.cumulative_actual)

    def total(self, which: str) -> str:
        if not self.rolled_up or not self.figures:
            return "not added"
        first = next(iter(self.figures.values()))
        return fmt.fig(first, self.period_total if which == PERIOD else self.cumulative_total)


def portfolio_rows(portfolio: Portfolio) -> list[PortfolioRow]:
    """Every indicator of any partnership, in the order the roll-up gives (rolled-up first, then the others
    in the first partnership's order)."""
    rows = [PortfolioRow(line.code, line.name, line.unit, dict(line.figures), line.period_actual,
                         line.cumulative_actual, True) for line in portfolio.lines]
    for code in portfolio.not_rolled_up:
        figures = {p.info.code: f for p in portfolio.partnerships for f in p.progress.indicators if f.code == code}
        first = next(iter(figures.values()))
        units = sorted({f.unit for f in figures.values()})
        rows.append(PortfolioRow(code, first.name, " / ".join(units), figures, None, None, False))
    return rows


def portfolio_columns(portfolio: Portfolio, which: str) -> list[Col[PortfolioRow]]:
    when = str(portfolio.period) if which == PERIOD else f"to {portfolio.period}"
    cols: list[Col[PortfolioRow]] = [Col("", "Code", lambda r: r.code, id="code"),
                                     Col("", "Indicator", lambda r: r.name, width=24, id="name")]
    # the total first, so that it is in view beside the frozen names even when the partnerships scroll
    cols.append(Col("", f"Total\n{when}", lambda r: (r.total(which), "bold" if r.rolled_up else "$text-muted"),
                    right=True, id="total"))
    for p in portfolio.partnerships:
        code = p.info.code
        cols.append(Col("", f"{code}\n{when}", lambda r, c=code: r.shown(which, c), right=True, id=f"p|{code}"))
    cols.append(Col("", "Unit", lambda r: r.unit, width=10, id="unit"))
    return cols


class PortfolioScreen(QuarterScreen):
    MODE = "portfolio"
    TABLE = "portfolio"
    BINDINGS = [
        Binding("left_square_bracket", "quarter(-1)", "Prev quarter", priority=True,
                tooltip="Show the previous quarter"),
        Binding("right_square_bracket", "quarter(1)", "Next quarter", priority=True, tooltip="Show the next quarter"),
        Binding("c", "current_quarter", "This quarter", show=False, tooltip="Back to the current quarter"),
        Binding("t", "toggle_cumulative", "To date",
                tooltip="Show the cumulative figures to the quarter's end, or (again) the quarter's own"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.which = PERIOD
        self.portfolio: Portfolio | None = None
        self.rows: list[PortfolioRow] = []
        self._shape: tuple[Any, ...] = ()

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="portfolio-top"):
            yield Select([], id="portfolio-quarter", allow_blank=True, prompt="quarter", compact=True)
            yield Static(id="portfolio-period")
        yield PagedTable([], None, lambda r: r.code, noun="indicator", page_size=500, fixed_columns=2,
                         header_height=2, id="portfolio")
        yield Static(id="portfolio-note", classes="summary")

    def refresh_data(self) -> None:
        quarter = self.quarter
        self.load(lambda: self.ctx.reader.portfolio(quarter), self._show, cover=self.table)

    def action_toggle_cumulative(self) -> None:
        self.which = CUMULATIVE if self.which == PERIOD else PERIOD
        if self.portfolio is not None:
            self._show(self.portfolio)

    @on(Select.Changed, "#portfolio-quarter")
    def _picked(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or str(event.value) == str(self.quarter):
            return
        self.quarter = Quarter.parse(str(event.value))
        self.refresh_data()

    def _quarters(self, portfolio: Portfolio) -> list[Quarter]:
        infos = [p.info for p in portfolio.partnerships]
        if not infos:
            return [self.quarter]
        first = Quarter.of(min(i.start_date for i in infos))
        last = max([Quarter.of(i.end_date) for i in infos if i.end_date] + [Quarter.of(self.ctx.reference_day)])
        out, q = [], first
        while q <= last:
            out.append(q)
            q = q.next()
        return out

    def _show(self, portfolio: Portfolio) -> None:
        if portfolio.period != self.quarter:
            return  # a newer quarter was asked for meanwhile
        self.portfolio = portfolio
        self.rows = portfolio_rows(portfolio)
        table = self.table
        shape = (portfolio.period, self.which, tuple(p.info.code for p in portfolio.partnerships))
        if shape != self._shape:
            self._shape = shape
            table.set_columns(portfolio_columns(portfolio, self.which))
        table.fetch = self._fetch
        table.reload()
        n = len(portfolio.partnerships)
        self.set_heading(Content.assemble(("Portfolio", "bold"), f" · {fmt.count(n, 'partnership')} · "
                                          f"{'the quarter' if self.which == PERIOD else 'to date'}"))
        self.query_one("#portfolio-period", Static).update(
            f"{portfolio.period}: {portfolio.period.start:%d %b %Y} – {portfolio.period.end:%d %b %Y}"
            + (f" · as of {portfolio.as_of}" if portfolio.as_of else ""))
        select = self.query_one("#portfolio-quarter", Select)
        with self.prevent(Select.Changed):
            quarters = self._quarters(portfolio)
            select.set_options([(str(q), str(q)) for q in reversed(quarters)])
            select.value = str(portfolio.period) if portfolio.period in quarters else Select.NULL
        left = portfolio.not_rolled_up
        note = ("Totals add sums and pool means and shares across the partnerships. " if n > 1 else "")
        if left:
            note += f"Not added up (unit, kind or currency differ): {', '.join(left)}."
        self.query_one("#portfolio-note", Static).update(Content.styled(note.strip(), "$text-muted"))

    def _fetch(self, req: ListRequest) -> Page[PortfolioRow]:
        rows = self.rows
        text = req.text.strip().casefold()
        if text:
            rows = [r for r in rows if text in f"{r.code} {r.name} {r.unit}".casefold()]
        return Page(tuple(rows[req.offset:req.offset + req.limit]), len(rows), req.offset, req.limit)
