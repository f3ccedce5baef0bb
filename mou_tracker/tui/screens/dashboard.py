"""Dashboard: the quarter at a glance (progress against targets, milestones due, money, trainings)."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Select, Sparkline, Static

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import Dashboard, MilestoneAlerts, MilestoneRow
from mou_tracker.services.finance import GrantFigures
from mou_tracker.tui import format as fmt
from mou_tracker.tui.screens.base import QuarterScreen
from mou_tracker.tui.widgets import IndicatorBars


class DashboardScreen(QuarterScreen):
    MODE = "dashboard"
    AUTO_FOCUS = "#dash-body"
    BINDINGS = [
        Binding("left_square_bracket", "quarter(-1)", "Prev quarter", tooltip="Show the previous quarter"),
        Binding("right_square_bracket", "quarter(1)", "Next quarter", tooltip="Show the next quarter"),
        Binding("c", "current_quarter", "This quarter", tooltip="Back to the current quarter"),
        Binding("ctrl+r", "reload", "Reload", show=False, tooltip="Recompute the dashboard"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: Dashboard | None = None
        self._options: tuple[Quarter, ...] = ()

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dash-top"):
            yield Select([], id="quarter-select", allow_blank=True, prompt="quarter", compact=True)
            yield Static(id="dash-period")
        with VerticalScroll(id="dash-body"):
            yield IndicatorBars(id="bars")
            yield Static(id="dash-milestones", classes="panel")
            yield Static(id="dash-grant", classes="panel")
            yield Label(id="spark-label", classes="panel-title")
            yield Sparkline([], id="spark")

    def refresh_data(self) -> None:
        quarter, today = self.quarter, self.ctx.reference_day
        first = self.mou.first_dashboard()

        def compute() -> Dashboard:
            if first is not None and quarter == Quarter.of(today):
                return first.result()  # computed while the app started
            return self.ctx.reader.dashboard(quarter, today)

        self.load(compute, self._show, cover=self.query_one("#dash-body"))

    def action_reload(self) -> None:
        self.refresh_data()

    @on(Select.Changed, "#quarter-select")
    def _picked(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or str(event.value) == str(self.quarter):
            return
        self.quarter = Quarter.parse(str(event.value))
        self.refresh_data()

    def _show(self, data: Dashboard) -> None:
        if data.quarter != self.quarter:
            return  # a newer quarter was asked for meanwhile
        if self.data is None:
            self.mou.warm_up()
        self.data = data
        info = data.info
        self.set_heading(Content.assemble(("Dashboard", "bold"), f" · {info.name}"))
        self.query_one("#dash-period", Static).update(fmt.quarter_span(data.quarter, info.parties))
        select = self.query_one("#quarter-select", Select)
        if data.quarters != self._options:
            self._options = data.quarters
            with self.prevent(Select.Changed):
                select.set_options([(str(q), str(q)) for q in reversed(data.quarters)])
        if str(select.value) != str(data.quarter):
            with self.prevent(Select.Changed):
                select.value = str(data.quarter) if data.quarter in data.quarters else Select.NULL
        self.query_one(IndicatorBars).progress = data.progress
        self.query_one("#dash-milestones", Static).update(milestone_panel(data.alerts))
        self.query_one("#dash-grant", Static).update(grant_panel(data.grants))
        counts = [m.count for m in data.months]
        self.query_one(Sparkline).data = counts
        if data.months:
            first, last = data.months[0].month, data.months[-1].month
            label = (f"Trainings per month, {first:%b %Y}–{last:%b %Y}: {fmt.count(sum(counts), 'training')} in "
                     f"all, at most {max(counts)} in a month")
        else:
            label = "Trainings per month: none yet"
        self.query_one("#spark-label", Label).update(label)


def _milestone_line(m: MilestoneRow, day: date, overdue: bool) -> Content:
    delta = (m.due_date - day).days
    when = f"{fmt.count(-delta, 'day')} late" if overdue else ("due today" if delta == 0
                                                               else f"in {fmt.count(delta, 'day')}")
    title = m.title if len(m.title) <= 31 else m.title[:30] + "…"
    return Content.assemble(("▲ " if overdue else "● ", "$error" if overdue else "$warning"),
                            (f"{m.code:<5}", "bold"), f"{title:<32}", f"{m.due_date.isoformat()} ",
                            (f"({when})", "$error" if overdue else "$text-muted"), f" {m.status}")


def milestone_panel(alerts: MilestoneAlerts) -> Content:
    lines = [Content.assemble(("Milestones", "bold"), f" on {alerts.day.isoformat()}: ",
                              (f"{alerts.overdue_total} overdue", "$error" if alerts.overdue_total else ""),
                              f", {alerts.upcoming_total} due in the next {fmt.count(alerts.window_days, 'day')}")]
    lines += [_milestone_line(m, alerts.day, True) for m in alerts.overdue]
    if alerts.overdue_total > len(alerts.overdue):
        lines.append(Content(f"    … and {alerts.overdue_total - len(alerts.overdue)} more overdue"))
    lines += [_milestone_line(m, alerts.day, False) for m in alerts.upcoming]
    if alerts.upcoming_total > len(alerts.upcoming):
        lines.append(Content(f"    … and {alerts.upcoming_total - len(alerts.upcoming)} more due soon"))
    return Content("\n").join(lines)


def grant_panel(grants: tuple[GrantFigures, ...]) -> Content:
    if not grants:
        return Content.assemble(("Grant", "bold"), ": none recorded yet (add it on the Grant screen, key 6)")
    lines: list[Content] = []
    for g in grants:
        share = None if g.pct_utilised is None else float(g.pct_utilised) / 100
        filled, empty = fmt.bar(share, 16)
        lines.append(Content.assemble(("Grant ", "bold"), (g.code, "bold"),
                                      f" ({g.funder}) as at {g.as_at.isoformat()}"))
        lines.append(Content.assemble(
            "  Spent ", f"{g.currency} {fmt.money(g.spent)} of {fmt.money(g.award)} ",
            (f"({fmt.pct(g.pct_utilised)})", "bold"), " ", (filled, "$primary"), (empty, "$text-muted")))
        cash_style = "$error" if g.cash_on_hand < 0 else ""
        lines.append(Content.assemble(
            f"  Remaining {fmt.money(g.remaining)} · cash on hand ", (fmt.money(g.cash_on_hand), cash_style),
            f" · burn rate {fmt.money(g.burn_rate)}/month"))
        if g.variance is not None:
            lines.append(Content(f"  Planned to date {fmt.money(g.planned_to_date)} · variance "
                                 f"{'+' if g.variance > 0 else ''}{fmt.money(g.variance)}"))
        for warning in g.warnings:
            lines.append(Content.assemble(("  ⚠ " + warning, "bold $warning")))
    return Content("\n").join(lines)
