"""What goes in each sheet: placeholder values, the rows of every table, the charts and status colours.

Everything here reads ``ReportData``; nothing queries the database or recomputes an indicator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mou_tracker.read.views import BaselineView, ReportData, quarter_of
from mou_tracker.reports.fill import Fmt, Placed, Typed, chart_size, text_of
from mou_tracker.reports.layout import (
    DECIMAL_FORMATS,
    DEFAULT_FORMATS,
    MONEY,
    PCT,
    STATUS,
    STATUS_LABELS,
    Section,
)
from mou_tracker.services.finance import SF425_DRAFT, GrantFigures
from mou_tracker.services.indicators import PERCENT_RULES, Figures

Row = Sequence[Any]
PCT_FMT = DEFAULT_FORMATS[PCT]
MONEY_FMT = DEFAULT_FORMATS[MONEY]
DATE_FMT = DEFAULT_FORMATS["date"]
#: status colours when the template has no legend cell for a status (fill, font)
DEFAULT_STATUS_COLOURS = {
    "on_track": ("C6EFCE", "006100"),
    "below_target": ("FFC7CE", "9C0006"),
    "above_target": ("BDD7EE", "1F4E78"),
    "no_target": ("EDEDED", "595959"),
    "no_data": ("FFEB9C", "9C5700"),
}
FIGURE_FIELDS = ("period_target", "period_actual", "cumulative_target", "cumulative_actual", "life_target",
                 "period_numerator", "period_denominator", "cumulative_numerator", "cumulative_denominator")
FINANCE_MONEY = ("award", "disbursed", "spent", "remaining", "cash_on_hand", "burn_rate", "planned_to_date",
                 "variance", "cost_per_person_trained", "cost_per_case_mentored")


def display_decimals(f: Figures) -> int:
    """How many decimals an indicator's figures show: its own, or one for a computed mean or share."""
    return f.decimals if f.kind == "sum" or f.rule == "manual" else 1


def figure_format(f: Figures) -> str:
    return DECIMAL_FORMATS.get(display_decimals(f), DECIMAL_FORMATS[2])


def fraction(pct: Decimal | None) -> Decimal | None:
    """A percentage (98.0) as the fraction Excel's % format shows (0.98)."""
    return None if pct is None else pct / 100


def fmt(value: Any, number_format: str) -> Any:
    return None if value is None else Fmt(value, number_format)


# Placeholders ----------------------------------------------------------------------------------------------
class Placeholders:
    """Resolves ``{{name}}`` for the template (see the README's report section for the list)."""

    def __init__(self, data: ReportData, *, generated_at: datetime, include_personal_data: bool) -> None:
        self.data = data
        self.generated_at = generated_at
        self.include_personal_data = include_personal_data
        self.contents: list[str] = []

    def currencies(self) -> str:
        return ", ".join(sorted({g.currency for g in self.data.grants})) or "-"

    def simple(self) -> dict[str, Any]:
        d = self.data
        p = d.period
        head_at = d.chain.at.replace(tzinfo=None) if d.chain.at else None
        as_of_text = (f"as of the end of {d.as_of.isoformat()}, rebuilt from the audit trail" if d.as_of
                      else "latest records")
        party = d.party
        return {
            "partnership_name": d.partnership_name,
            "partnership_code": d.partnership_code,
            "country": d.country,
            "partnership_start": d.partnership_start,
            "partnership_end": d.partnership_end,
            "party_name": party.name,
            "party_code": party.code.upper(),
            "parties": "; ".join(f"{x.name} ({x.code.upper()})" for x in d.parties),
            "period": str(p),
            "period_label": party.label(p),
            "period_start": Typed(p.start, p.start.isoformat(), DATE_FMT),
            "period_end": Typed(p.end, p.end.isoformat(), DATE_FMT),
            "period_progress": self.period_progress(),
            "fiscal_calendar": f"{party.code.upper()}: {party.calendar}",
            "as_of": Typed(d.as_of, d.as_of.isoformat(), DATE_FMT) if d.as_of else "none: latest records",
            "as_of_text": as_of_text,
            "generated_at": Typed(self.generated_at, text_of(self.generated_at), DEFAULT_FORMATS["datetime"]),
            "chain_events": d.chain.events,
            "chain_head_seq": Typed(d.chain.seq, str(d.chain.seq)),
            "chain_head": d.chain.hash,
            "chain_head_at": Typed(head_at, text_of(d.chain.at), DEFAULT_FORMATS["datetime"]) if head_at else "-",
            "currency": self.currencies(),
            "party_currency": party.currency,
            "currency_note": (f"All amounts are in the grant currency ({self.currencies()}), converted at each "
                              f"transaction's own rate; {party.code.upper()}'s own currency is {party.currency}."),
            "personal_data": ("INCLUDED: participant names are on the Participants sheet (personal data under "
                              "the Kenya Data Protection Act 2019; share only with those entitled to it)"
                              if self.include_personal_data else
                              "not included: participants appear only as counts"),
            "contents": ", ".join(self.contents),
            "signoff_summary": self.signoff_summary(),
            "sf425_title": (f"DRAFT SF-425 lines, award start to {p.end.isoformat()}: for the grantee's "
                            "financial officer"),
            "sf425_draft": f"{SF425_DRAFT}; cumulative from each award's start to {p.end.isoformat()}.",
            "lock_summary": self.lock_summary(),
        }

    def period_progress(self) -> str:
        """Whether the quarter had ended on the report's day (its as-of day, else the day it is generated):
        empty when it had, else what a reader must know of its figures (a partner reading "below target" on
        a quarter half over would otherwise take it for the quarter's result)."""
        p = self.data.period
        day = self.data.as_of or self.generated_at.astimezone(UTC).date()
        if day >= p.end:
            return ""
        if day < p.start:
            return f" (not begun on {day.isoformat()}: no figure of it is recorded yet)"
        return f" (in progress on {day.isoformat()}: figures to that day; the quarter ends {p.end.isoformat()})"

    def signoff_summary(self) -> str:
        d = self.data
        signed = sorted({s.party.upper() for s in d.signoffs})
        if not signed:
            return f"No party has signed off {d.period} yet."
        missing = sorted({x.code.upper() for x in d.parties} - set(signed))
        text = f"{d.period} signed off by {' and '.join(signed)}"
        return text + (f"; awaiting {' and '.join(missing)}." if missing else ".")

    def lock_summary(self) -> str:
        lock = self.data.lock
        if lock is None:
            return f"{self.data.period} is not locked."
        text = f"{self.data.period} locked on {text_of(lock.locked_at)} by {lock.actor}"
        return text + (f": {lock.reason}" if lock.reason else ".")

    def __call__(self, key: str) -> Any:
        simple = self.simple()
        if key in simple:
            return simple[key]
        kind, _, rest = key.partition(":")
        if kind == "ind":
            code, _, name = rest.rpartition(":")
            return self.indicator(code, name)
        if kind == "fin":
            return self.finance(rest)
        if kind in ("status_count", "cum_status_count"):
            if rest != "all" and rest not in STATUS_LABELS:
                raise KeyError(key)
            attr = "status" if kind == "status_count" else "cumulative_status"
            figures = self.data.progress[self.data.period].indicators
            return sum(1 for f in figures if rest == "all" or getattr(f, attr) == rest)
        if kind == "legend" and rest in STATUS_LABELS:
            return STATUS_LABELS[rest]
        if kind == "chart" and rest in CHARTS:
            return None
        raise KeyError(key)

    def indicator(self, code: str, name: str) -> Any:
        f = self.data.figures.get(code)
        if name not in (*FIGURE_FIELDS, "period_pct", "cumulative_pct", "status", "cumulative_status", "name",
                        "unit", "narrative"):
            raise KeyError(f"ind:{code}:{name}")
        if f is None:
            return "n/a"
        if name in ("status", "cumulative_status"):
            return STATUS_LABELS[getattr(f, name)]
        if name in ("period_pct", "cumulative_pct"):
            value = getattr(f, name)
            return Typed(fraction(value), f"{value} %" if value is not None else "-", PCT_FMT)
        value = getattr(f, name)
        if name in FIGURE_FIELDS:
            return Typed(value, text_of(value) if value is not None else "-", figure_format(f))
        return value

    def finance(self, name: str) -> Any:
        grants = self.data.grants
        if name == "warnings":
            lines = [(f"{g.code}: {w}" if len(grants) > 1 else w) for g in grants for w in g.warnings]
            return "; ".join(lines) if lines else "none"
        if name not in (*FINANCE_MONEY, "pct_utilised", "code", "funder", "currency"):
            raise KeyError(f"fin:{name}")
        if not grants:
            return "no grant recorded"
        if len(grants) > 1:
            return "several grants: see the Finance sheet"
        g = grants[0]
        value = getattr(g, name)
        if name == "pct_utilised":
            return Typed(fraction(value), f"{value} %" if value is not None else "-", PCT_FMT)
        if name in FINANCE_MONEY:
            return Typed(value, f"{g.currency} {value:,.2f}" if value is not None else "-", MONEY_FMT)
        return value


# Table rows --------------------------------------------------------------------------------------------------
def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " "))


def tracking_rows(d: ReportData) -> Iterator[Row]:
    baselines = {i.code: i.baseline for i in d.definitions}
    for f in d.progress[d.period].indicators:
        number = figure_format(f)
        num_fmt = DECIMAL_FORMATS[0] if f.rule in PERCENT_RULES else DECIMAL_FORMATS[2]
        b = baselines.get(f.code)
        row: list[Any] = [f.code, f.name, f.unit, *_baseline(b, number)[:3]]
        for q in d.quarters:
            fq = d.figures_at(f.code, q) or f
            row += [fmt(fq.period_target, number), fmt(fq.period_actual, number), fraction(fq.period_pct)]
        row += [fmt(f.cumulative_target, number), fmt(f.cumulative_actual, number), fraction(f.cumulative_pct),
                fmt(f.life_target, number), _status_label(f.status), _status_label(f.cumulative_status),
                fmt(f.period_numerator, num_fmt), f.period_denominator, fmt(f.cumulative_numerator, num_fmt),
                f.cumulative_denominator, f.narrative]
        yield row


def _baseline(b: BaselineView | None, number_format: str) -> list[Any]:
    """Value, date, source and comment of a baseline (the source says when there is none)."""
    if b is None:
        return [None, None, "no baseline recorded", None]
    return [fmt(b.value, number_format), b.date, b.source, b.comment]


def chart_target_rows(d: ReportData) -> Iterator[Row]:
    for f in d.progress[d.period].indicators:
        yield [f.code, f.name, fraction(f.period_pct), fraction(f.cumulative_pct), Decimal(1)]


def _per_quarter(d: ReportData, code: str) -> Iterator[Row]:
    for q in d.quarters:
        f = d.figures_at(code, q)
        if f is not None:
            yield [str(q), d.party.label(q), f.period_actual, f.cumulative_actual, f.cumulative_target]


def _quarter(d: ReportData, day: date) -> list[str]:
    q = quarter_of(day)
    return [str(q), d.party.label(q)]


def training_rows(d: ReportData) -> Iterator[Row]:
    for t in d.trainings:
        yield [t.code, t.title, t.topic, t.start_date, t.end_date, *_quarter(d, t.end_date), t.county, t.venue,
               t.delivery, t.lead, t.participants, t.women, t.men, *t.by_agency, t.scored, t.cost, t.currency]


def newly_trained_rows(d: ReportData) -> Iterator[Row]:
    for a in d.newly_trained:
        yield [a.agency, a.women_period, a.men_period, a.women_period + a.men_period, a.women_to_date,
               a.men_to_date, a.women_to_date + a.men_to_date]
    f = d.figures.get("1.2")
    if f is not None:
        # "Total": the caption names the indicator ("Total (indicator 1.2)" was cut at the column's edge)
        yield ["Total", sum(a.women_period for a in d.newly_trained), sum(a.men_period for a in d.newly_trained),
               f.period_actual, sum(a.women_to_date for a in d.newly_trained),
               sum(a.men_to_date for a in d.newly_trained), f.cumulative_actual]


def engagement_rows(d: ReportData) -> Iterator[Row]:
    for e in d.engagements:
        yield [e.code, e.date, *_quarter(d, e.date), e.type, e.county, e.case_ref, e.hours, e.hti_advisor,
               e.odpp_counterpart, e.summary]


def engagement_type_rows(d: ReportData) -> Iterator[Row]:
    for t in d.engagement_types:
        yield [t.type, t.count_period, t.hours_period, t.count_to_date, t.hours_to_date]
    count, hours = d.figures.get("2.1"), d.figures.get("2.3")
    if count is not None and hours is not None:
        yield ["Total", count.period_actual, hours.period_actual, count.cumulative_actual,
               hours.cumulative_actual]


def milestone_rows(d: ReportData) -> Iterator[Row]:
    after = d.period.end + timedelta(days=1)
    for m in d.milestones:
        yield [m.code, m.title, m.workstream, m.owner, m.original_due_date, m.due_date, m.slippage_days, m.status,
               m.completed_on, m.completed_vs_original_days, "Yes" if m.overdue_at(after) else "No", m.evidence,
               m.evidence_sha256]


def _any_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return Fmt(value, DEFAULT_FORMATS["datetime"])
    if isinstance(value, date):
        return Fmt(value, DATE_FMT)
    return value


#: the Field column of a history line standing for a whole record
WHOLE_RECORD = {"create": "(created)", "delete": "(deleted)"}


def history_rows(d: ReportData) -> Iterator[Row]:
    """One line per creation (its values in one cell), then one per changed field; a deletion is one line."""
    for e in d.history:
        head = [e.occurred_at, e.seq, e.entity_ref, e.action]
        tail = [e.who, e.reason_category, e.reason_text]
        whole = WHOLE_RECORD.get(e.action)
        if whole is not None:
            values = "; ".join(e.change_text(c) for c in e.visible) or None
            yield [*head, whole, values if e.action == "delete" else None,
                   values if e.action == "create" else None, *tail]
            continue
        for c in e.visible:
            yield [*head, c.label, _any_value(c.old), _any_value(c.new), *tail]


def _grant_rows(g: GrantFigures) -> Iterator[Row]:
    c = g.currency

    def money(label: str, value: Decimal | None, unit: str = c) -> Row:
        return [g.code, label, fmt(value, MONEY_FMT), unit if value is not None else "not available"]

    yield [g.code, "Funder", g.funder, None]
    yield [g.code, "Grant starts", Fmt(g.start_date, DATE_FMT), None]
    yield [g.code, "Grant ends", Fmt(g.end_date, DATE_FMT), None]
    yield money("Award", g.award)
    yield money("Disbursed to date", g.disbursed)
    yield money("Spent to date", g.spent)
    yield money("Remaining", g.remaining)
    yield [g.code, "Share of the award spent", fmt(fraction(g.pct_utilised), PCT_FMT), "%"]
    yield money("Cash on hand (disbursed - spent)", g.cash_on_hand)
    yield money("Burn rate (mean monthly spend, last 3 months)", g.burn_rate, f"{c} per month")
    yield money("Planned spend to date (indicator 4.1 targets)", g.planned_to_date)
    yield money("Variance against plan (spent - planned)", g.variance)
    yield money("Cost per person newly trained (training lines)", g.cost_per_person_trained, f"{c} per person")
    yield money("Cost per case mentored (technical-support lines)", g.cost_per_case_mentored, f"{c} per case")
    for w in g.warnings:
        yield [g.code, "Warning", w, None]


def grant_rows(d: ReportData) -> Iterator[Row]:
    for g in d.grants:
        yield from _grant_rows(g)


def budget_rows(d: ReportData) -> Iterator[Row]:
    for g in d.grants:
        for ln in g.lines:
            yield [g.code, ln.name, ln.code, ln.category, ln.budget, ln.spent, ln.remaining, fraction(ln.pct_utilised)]


def disbursement_rows(d: ReportData) -> Iterator[Row]:
    for x in d.disbursements:
        yield [x.grant, x.reference, x.date, x.currency, x.amount, x.rate, x.amount_grant]


def definition_rows(d: ReportData) -> Iterator[Row]:
    figures = d.figures
    for i in d.definitions:
        f = figures.get(i.code)
        yield [i.code, i.name, i.unit, i.kind, "Manual value per quarter" if i.manual else "Computed from records",
               "Higher is better" if i.higher_is_better else "Lower is better", i.band_low, i.band_high,
               i.definition, i.data_source, i.how_computed, i.disaggregations,
               *_baseline(i.baseline, figure_format(f) if f is not None else DECIMAL_FORMATS[2])]


def development_rows(d: ReportData) -> Iterator[Row]:
    for x in d.developments:
        yield [x.date, *_quarter(d, x.date), x.category, x.text, x.reference]


def commitment_rows(d: ReportData) -> Iterator[Row]:
    for c in d.commitments:
        yield [c.grant, c.code, c.date, c.line_code, c.status, c.currency, c.amount, c.description, c.rate,
               c.amount_grant]
    if not d.commitments:
        return
    for g in d.grants:
        total = sum((c.amount_grant for c in d.commitments if c.grant == g.code and c.status == "Open"), Decimal(0))
        yield [g.code, "Open total", None, None, "Open", g.currency, None, "Commitments still Open (SF-425 line 10f)",
               None, total]


RATE_PCT_FMT = "0.00##"


def sf425_rows(d: ReportData) -> Iterator[Row]:
    for r in d.sf425:
        for ln in r.lines:
            rate = base = None
            if ln.line == "11":
                rate = fmt(r.indirect.rate, RATE_PCT_FMT)
                base = r.indirect.base
            yield [r.grant_code, ln.label, ln.line, ln.amount, rate, base, ln.how, r.currency]
        for note in r.notes:
            yield [r.grant_code, "Note", None, None, None, None, note, None]


def signoff_rows(d: ReportData) -> Iterator[Row]:
    for s in d.signoffs:
        yield [s.period, s.party.upper(), s.actor, s.signed_at, s.comment, s.chain_seq, s.chain_head,
               s.key_fingerprint, s.verdict]


def restatement_rows(d: ReportData) -> Iterator[Row]:
    for r in d.restatements:
        yield [r.period, r.indicator_code, r.reported_value, r.restated_value, r.reason_text, r.at, r.actor,
               r.reason_category]


def participant_rows(d: ReportData) -> Iterator[Row]:
    for p in d.participants or ():
        yield [p.training, p.training_end, str(quarter_of(p.training_end)), p.name, p.sex, p.agency, p.role,
               p.staff_number, p.pre_score, p.post_score]


ROWS: dict[str, Callable[[ReportData], Iterator[Row]]] = {
    "ChartTargets": chart_target_rows,
    "ChartTrained": lambda d: _per_quarter(d, "1.2"),
    "ChartBurn": lambda d: _per_quarter(d, "4.1"),
    "TrackingTable": tracking_rows,
    "Trainings": training_rows,
    "NewlyTrained": newly_trained_rows,
    "Engagements": engagement_rows,
    "EngagementsByType": engagement_type_rows,
    "Milestones": milestone_rows,
    "MilestoneHistory": history_rows,
    "GrantFigures": grant_rows,
    "BudgetLines": budget_rows,
    "Disbursements": disbursement_rows,
    "Commitments": commitment_rows,
    "SF425": sf425_rows,
    "Developments": development_rows,
    "Definitions": definition_rows,
    "Signoffs": signoff_rows,
    "Restatements": restatement_rows,
    "Participants": participant_rows,
}


def empty_text(d: ReportData, spec: Section) -> str:
    end = d.period.end.isoformat()
    return {
        "Trainings": f"No training ended by {end}.",
        "Engagements": f"No technical-support engagement by {end}.",
        "Milestones": "No milestone recorded.",
        "MilestoneHistory": "No milestone change recorded.",
        "GrantFigures": "No grant recorded.",
        "BudgetLines": "No budget line recorded.",
        "Disbursements": f"No disbursement received by {end}.",
        "Commitments": f"No commitment recorded by {end}.",
        "SF425": "No grant recorded.",
        "Developments": f"None recorded: no significant development is dated in {d.period} "
                        f"({d.party.label(d.period)}).",
        "Signoffs": f"No party has signed off {d.period} yet.",
        "Restatements": "No restatement.",
        "Participants": f"No participant in trainings ended by {end}.",
        "ChartTrained": "Indicator 1.2 is not in this partnership's framework.",
        "ChartBurn": "Indicator 4.1 is not in this partnership's framework.",
    }.get(spec.table, "Nothing to show.")


# Status colours ----------------------------------------------------------------------------------------------
def _rgb(colour: Any) -> str | None:
    rgb = getattr(colour, "rgb", None) if colour is not None else None
    if isinstance(rgb, str) and len(rgb) in (6, 8):
        return rgb[-6:]
    return None


@dataclass(frozen=True)
class LegendStyle:
    fill: str | None
    font: str | None
    bold: bool


def legend_style(cell: Any) -> LegendStyle:
    fill = _rgb(cell.fill.fgColor) if cell.fill is not None and cell.fill.fill_type == "solid" else None
    return LegendStyle(fill, _rgb(cell.font.color), bool(cell.font.b))


def colour_statuses(ws: Worksheet, placed: Placed, legend: dict[str, LegendStyle]) -> None:
    """Conditional formatting on the status columns: each status coloured like its legend cell."""
    if placed.empty:
        return
    cols = [placed.min_col + i for i in range(placed.max_col - placed.min_col + 1)
            if _kind_at(placed, i) == STATUS]
    if not cols:
        return
    ranges = " ".join(f"{get_column_letter(c)}{placed.first_row}:{get_column_letter(c)}{placed.last_row}"
                      for c in cols)
    for status, label in STATUS_LABELS.items():
        fill_rgb, font_rgb = DEFAULT_STATUS_COLOURS[status]
        style = legend.get(f"legend:{status}", LegendStyle(None, None, False))
        fill_rgb, font_rgb = style.fill or fill_rgb, style.font or font_rgb
        ws.conditional_formatting.add(ranges, CellIsRule(
            operator="equal", formula=[f'"{label}"'],
            fill=PatternFill(fill_type="solid", start_color=fill_rgb, end_color=fill_rgb),
            font=Font(color=font_rgb, bold=style.bold)))


def _kind_at(placed: Placed, i: int) -> str:
    """The column kind at offset ``i`` of a placed table (the tracking table's block repeats)."""
    cols = placed.spec.columns
    block = placed.spec.block
    if block is None:
        return cols[i].kind
    width = block[1] - block[0]
    repeats = (placed.max_col - placed.min_col + 1 - len(cols)) // width + 1
    if i < block[0]:
        return cols[i].kind
    if i < block[0] + repeats * width:
        return cols[block[0] + (i - block[0]) % width].kind
    return cols[i - (repeats - 1) * width].kind


# Charts ----------------------------------------------------------------------------------------------------
def _header_colour(ws: Worksheet, placed: Placed, col: int) -> str | None:
    cell = ws._cells.get((placed.header_row, col))
    if cell is not None and cell.fill is not None and cell.fill.fill_type == "solid":
        return _rgb(cell.fill.fgColor)
    return None


def _combo(ws: Worksheet, placed: Placed, spec: ChartSpec) -> BarChart:
    """A column chart of some columns with lines for others, sharing the axes."""
    cats = Reference(ws, min_col=placed.min_col + spec.categories, min_row=placed.first_row,
                     max_row=placed.last_row)
    bar = BarChart()
    bar.type = "col"
    bar.grouping = "clustered"
    bar.title = spec.title
    bar.y_axis.title = spec.y_title
    bar.y_axis.number_format = spec.y_format
    bars, lines = spec.bars, spec.lines
    for offset in bars:
        col = placed.min_col + offset
        bar.add_data(Reference(ws, min_col=col, min_row=placed.header_row, max_row=placed.last_row),
                     titles_from_data=True)
        colour = _header_colour(ws, placed, col)
        if colour:
            bar.series[-1].graphicalProperties = GraphicalProperties(solidFill=colour)
    bar.set_categories(cats)
    if lines:
        line = LineChart()
        for offset in lines:
            col = placed.min_col + offset
            line.add_data(Reference(ws, min_col=col, min_row=placed.header_row, max_row=placed.last_row),
                          titles_from_data=True)
            series = line.series[-1]
            series.smooth = False
            colour = _header_colour(ws, placed, col)
            series.graphicalProperties = GraphicalProperties(ln=LineProperties(solidFill=colour, w=28575)
                                                             if colour else LineProperties(w=28575))
        line.set_categories(cats)
        bar += line
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    return bar


@dataclass(frozen=True)
class ChartSpec:
    """A chart drawn from one Summary table: column offsets of its categories, bars and lines."""

    table: str
    title: str
    categories: int
    bars: tuple[int, ...]
    lines: tuple[int, ...]
    y_format: str
    y_title: str


CHARTS = {
    "targets": ChartSpec("ChartTargets", "Achievement against target, per indicator", 0, (2, 3), (4,), "0%",
                         "% of target"),
    "trained": ChartSpec("ChartTrained", "People newly trained per quarter, and to date", 1, (2,), (3, 4), "#,##0",
                         "people"),
    "burn": ChartSpec("ChartBurn", "Grant expenditure per quarter, and to date against plan", 1, (2,), (3, 4),
                      "#,##0", "grant currency"),
}


def add_charts(markers: dict[str, tuple[Worksheet, int, int]], placed: dict[str, tuple[Worksheet, Placed]],
               note: Callable[[str], None]) -> None:
    for key, (ws, row, col) in markers.items():
        if not key.startswith("chart:"):
            continue
        name = key.partition(":")[2]
        spec = CHARTS[name]
        if spec.table not in placed:
            note(f"chart '{name}' left out: its data table '{spec.table}' is not in the report")
            continue
        data_ws, where = placed[spec.table]
        if where.empty:
            ws.cell(row=row, column=col).value = f"{spec.title}: no data yet."
            continue
        chart = _combo(data_ws, where, spec)
        size = chart_size(ws, row, col)
        chart.width, chart.height = size if size else (18.0, 9.0)
        ws.add_chart(chart, f"{get_column_letter(col)}{row}")

