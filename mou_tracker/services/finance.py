"""Grant tracking figures (docs/reference/grant.md): spent, remaining, utilisation, variance, burn, cash, warnings
and cost per result; and the funder's SF-425 lines (``sf425``). Read-side only; the UI and the reports both
take their finance figures from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mou_tracker.db.models import BudgetLine, Commitment, Disbursement, Expenditure, Grant
from mou_tracker.domain.money import round_1dp, round_money
from mou_tracker.domain.periods import Quarter
from mou_tracker.services.indicators import IndicatorEngine

D0 = Decimal(0)
UNSPENT_WARNING_SHARE = Decimal("0.20")


@dataclass(frozen=True)
class LineFigures:
    code: str
    name: str
    category: str | None
    budget: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def pct_utilised(self) -> Decimal | None:
        return round_1dp(self.spent * 100 / self.budget) if self.budget else None


@dataclass(frozen=True)
class GrantFigures:
    code: str
    funder: str
    currency: str
    award: Decimal
    start_date: date
    end_date: date
    as_at: date
    disbursed: Decimal
    spent: Decimal
    burn_rate: Decimal
    planned_to_date: Decimal | None
    cost_per_person_trained: Decimal | None
    cost_per_case_mentored: Decimal | None
    lines: list[LineFigures] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.award - self.spent

    @property
    def pct_utilised(self) -> Decimal | None:
        return round_1dp(self.spent * 100 / self.award) if self.award else None

    @property
    def cash_on_hand(self) -> Decimal:
        return self.disbursed - self.spent

    @property
    def variance(self) -> Decimal | None:
        """Spent minus planned spend to date (the cumulative 4.1 targets); positive = overspending."""
        return None if self.planned_to_date is None else self.spent - self.planned_to_date


def _months_between(start: date, end: date) -> int:
    """Whole months from the end of ``start``'s month to the end of ``end``'s month."""
    return (end.year - start.year) * 12 + end.month - start.month


def _minus_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, 1)


def grant_figures(session: Session, partnership_id: int, as_at: date,
                  engine: IndicatorEngine | None = None) -> list[GrantFigures]:
    """Every grant of the partnership, with spending and receipts up to and including ``as_at``."""
    engine = engine or IndicatorEngine(session, partnership_id)
    progress = engine.progress(Quarter.of(as_at)).by_code()
    trained = progress["1.2"].cumulative_actual if "1.2" in progress else None
    cases = progress["2.2"].cumulative_actual if "2.2" in progress else None
    planned = progress["4.1"].cumulative_target if "4.1" in progress else None

    grants = session.execute(select(Grant).where(Grant.partnership_id == partnership_id)
                             .order_by(Grant.start_date, Grant.code)).scalars().all()
    out = []
    for g in grants:
        spent_by_line = dict(session.execute(
            select(Expenditure.budget_line_id, func.sum(Expenditure.amount_grant))
            .where(Expenditure.grant_id == g.id, Expenditure.date <= as_at)
            .group_by(Expenditure.budget_line_id)).all())
        lines = [LineFigures(b.code, b.name, b.category, b.amount, spent_by_line.get(b.id) or D0)
                 for b in session.execute(select(BudgetLine).where(BudgetLine.grant_id == g.id)
                                          .order_by(BudgetLine.code)).scalars()]
        spent = sum((ln.spent for ln in lines), D0)
        disbursed = session.execute(select(func.sum(Disbursement.amount_grant))
                                    .where(Disbursement.grant_id == g.id, Disbursement.date <= as_at)).scalar() or D0
        window_start = _minus_months(as_at, 2)  # the last three calendar months, as_at's month included
        recent = session.execute(select(func.sum(Expenditure.amount_grant))
                                 .where(Expenditure.grant_id == g.id, Expenditure.date >= window_start,
                                        Expenditure.date <= as_at)).scalar() or D0
        burn = round_money(recent / 3)

        def per(result: Decimal | None, category: str, lines: list[LineFigures] = lines) -> Decimal | None:
            cost = sum((ln.spent for ln in lines if (ln.category or "").casefold() == category.casefold()), D0)
            return round_money(cost / result) if result else None

        figures = GrantFigures(
            code=g.code, funder=g.funder, currency=g.currency, award=g.amount, start_date=g.start_date,
            end_date=g.end_date, as_at=as_at, disbursed=disbursed, spent=spent, burn_rate=burn,
            planned_to_date=planned if len(grants) == 1 else None,
            cost_per_person_trained=per(trained, "Training"),
            cost_per_case_mentored=per(cases, "Technical support"), lines=lines,
        )
        figures.warnings.extend(_warnings(figures))
        out.append(figures)
    return out


def _warnings(g: GrantFigures) -> list[str]:
    """A warning when the burn rate would exhaust the award before the grant ends, or leave > 20 % unspent."""
    if g.as_at >= g.end_date or g.as_at < g.start_date or not g.award:
        return []
    out = []
    months_left = _months_between(g.as_at, g.end_date)
    projected = g.burn_rate * months_left
    remaining = g.remaining
    if remaining < 0:
        out.append(f"spending exceeds the award by {g.currency} {-remaining:,.2f}")
    elif g.burn_rate > 0 and projected > remaining:
        months_to_empty = int(remaining / g.burn_rate)
        y, m = divmod(g.as_at.year * 12 + g.as_at.month - 1 + months_to_empty, 12)
        out.append(f"at {g.currency} {g.burn_rate:,.2f}/month the award runs out about {y}-{m + 1:02d}, "
                   f"before the grant ends on {g.end_date.isoformat()}")
    else:
        unspent = remaining - projected
        if unspent > g.award * UNSPENT_WARNING_SHARE:
            share = round_1dp(unspent * 100 / g.award)
            out.append(f"at {g.currency} {g.burn_rate:,.2f}/month {g.currency} {unspent:,.2f} ({share} %) "
                       f"would be left unspent when the grant ends on {g.end_date.isoformat()}")
    return out


# The funder's financial summary: the SF-425 lines (docs/reference/grant.md) ------------------------------------
SF425_DRAFT = ("Draft computed from the records, for the grantee's financial officer to review before filing "
               "the Federal Financial Report (SF-425)")


@dataclass(frozen=True)
class SF425Line:
    line: str  # "10a" ... "10h", "11"
    label: str
    amount: Decimal
    #: how the figure was computed, naming the records it adds up
    how: str


@dataclass(frozen=True)
class IndirectExpense:
    """Line 11: the rate (None when the grant has none), the base it applies to and the amount charged."""

    rate: Decimal | None
    base: Decimal
    amount_charged: Decimal
    base_lines: tuple[str, ...]
    how: str


@dataclass(frozen=True)
class SF425:
    grant_code: str
    funder: str
    currency: str
    award_start: date
    as_at: date
    lines: tuple[SF425Line, ...]
    indirect: IndirectExpense
    notes: tuple[str, ...] = ()
    draft: str = SF425_DRAFT

    def line(self, code: str) -> SF425Line:
        return next(x for x in self.lines if x.line == code)

    def amount(self, code: str) -> Decimal:
        return self.line(code).amount


def _money_sum(session: Session, column: Any, *where: Any) -> tuple[Decimal, int]:
    total, count = session.execute(select(func.sum(column), func.count()).where(*where)).one()
    return total or D0, count


def _records(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def sf425(session: Session, partnership_id: int, as_at: date) -> list[SF425]:
    """The SF-425 lines of every grant of the partnership, cumulative from the award start to ``as_at``
    (records dated on or before it; any dated before the award start are included, and said so)."""
    grants = session.execute(select(Grant).where(Grant.partnership_id == partnership_id)
                             .order_by(Grant.start_date, Grant.code)).scalars().all()
    return [_sf425(session, g, as_at) for g in grants]


def _sf425(session: Session, g: Grant, as_at: date) -> SF425:
    cur = g.currency
    span = f"dated {g.start_date.isoformat()} (award start) to {as_at.isoformat()}"
    converted = f"each in {cur} as recorded (amount x rate, rounded half-up to cents once)"
    receipts, n_disb = _money_sum(session, Disbursement.amount_grant, Disbursement.grant_id == g.id,
                                  Disbursement.date <= as_at)
    direct, n_exp = _money_sum(session, Expenditure.amount_grant, Expenditure.grant_id == g.id,
                               Expenditure.date <= as_at)
    base_lines = session.execute(select(BudgetLine).where(BudgetLine.grant_id == g.id,
                                                          BudgetLine.indirect_base.is_(True))
                                 .order_by(BudgetLine.code)).scalars().all()
    base, n_base = _money_sum(session, Expenditure.amount_grant, Expenditure.grant_id == g.id,
                              Expenditure.date <= as_at,
                              Expenditure.budget_line_id.in_([b.id for b in base_lines]))
    rate = g.indirect_rate
    charged = round_money(base * rate / 100) if rate else D0
    codes = tuple(b.code for b in base_lines)
    if rate:
        how11 = (f"{rate.normalize():f} % of the base: {_records(n_base, 'expenditure')} {span} on the base "
                 f"line(s) {', '.join(codes) or 'none marked'} ({cur} {base:,.2f}), rounded half-up to cents once")
    else:
        how11 = f"grant {g.code} has no indirect-cost rate: nothing is charged"
    indirect = IndirectExpense(rate, base, charged, codes, how11)
    open_obl, n_open = _money_sum(session, Commitment.amount_grant, Commitment.grant_id == g.id,
                                  Commitment.date <= as_at, Commitment.status == "Open")
    disbursed = direct + charged
    plus_indirect = f" plus the indirect cost charged on line 11 ({cur} {charged:,.2f})" if rate else ""
    lines = (
        SF425Line("10a", "Cash receipts", receipts,
                  f"Sum of {_records(n_disb, 'disbursement')} received {span}, {converted}"),
        SF425Line("10b", "Cash disbursements", disbursed,
                  f"Sum of {_records(n_exp, 'expenditure')} {span}, {converted}{plus_indirect}"),
        SF425Line("10c", "Cash on hand (10a - 10b)", receipts - disbursed, "10a minus 10b"),
        SF425Line("10d", "Total federal funds authorised", g.amount, f"The award amount of grant {g.code}"),
        SF425Line("10e", "Federal share of expenditures", disbursed,
                  "As 10b: every expenditure recorded is charged to the grant (no recipient share is recorded)"),
        SF425Line("10f", "Federal share of unliquidated obligations", open_obl,
                  f"Sum of {_records(n_open, 'commitment')} with status Open {span}, {converted}"),
        SF425Line("10g", "Total federal share (10e + 10f)", disbursed + open_obl, "10e plus 10f"),
        SF425Line("10h", "Unobligated balance of federal funds (10d - 10g)", g.amount - disbursed - open_obl,
                  "10d minus 10g"),
        SF425Line("11", "Indirect expense charged", charged, how11),
    )
    notes = []
    early = [_records(n, what) for n, what in (
        (session.execute(select(func.count()).where(Disbursement.grant_id == g.id,
                                                    Disbursement.date < g.start_date)).scalar_one(), "disbursement"),
        (session.execute(select(func.count()).where(Expenditure.grant_id == g.id,
                                                    Expenditure.date < g.start_date)).scalar_one(), "expenditure"),
    ) if n]
    if early:
        notes.append(f"{' and '.join(early)} dated before the award start {g.start_date.isoformat()} are included "
                     "(pre-award costs)")
    return SF425(g.code, g.funder, cur, g.start_date, as_at, lines, indirect, tuple(notes))
