"""The indicator engine: every indicator of docs/reference/indicators.md for any quarter, cumulatively and for life.

Each rule is one aggregate SQL query: its records are grouped by attribution date, and those few rows per
date regrouped by calendar quarter, still in SQL (``_per_quarter``); one row per quarter comes back, never one
per record or per day. The same figures feed `progress`, the UI, the portfolio and the reports, so they
always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, cast, extract, func, select
from sqlalchemy.orm import Session

from mou_tracker.db.models import (
    Attendance,
    Engagement,
    Expenditure,
    Grant,
    Indicator,
    Milestone,
    Narrative,
    Participant,
    Result,
    Target,
    Training,
)
from mou_tracker.domain import codes
from mou_tracker.domain.money import round_1dp
from mou_tracker.domain.periods import Quarter
from mou_tracker.domain.status import status_for

D0 = Decimal(0)


@dataclass
class Agg:
    """A quarter's aggregate: ``value`` for sum rules; ``total``/``count`` (mean = total/count) for levels."""

    value: Decimal = D0
    total: Decimal = D0
    count: int = 0

    def add(self, other: Agg) -> None:
        self.value += other.value
        self.total += other.total
        self.count += other.count


Series = dict[Quarter, Agg]


def _per_quarter(per_date: Any) -> Any:
    """Regroup an aggregate query by calendar quarter, in SQL.

    ``per_date`` selects a date and additive aggregates (counts, sums) grouped by that date; the result selects
    the quarter, as one integer year * 4 + (month - 1) // 3, and the sum of each aggregate over its dates. The
    date functions run once per distinct date, not per record. (PostgreSQL's EXTRACT is cast to an integer
    first, so both backends divide integers exactly.)"""
    sub = per_date.subquery()
    day, *aggregates = sub.c
    year = cast(extract("year", day), Integer)
    month = cast(extract("month", day), Integer)
    quarter = year * 4 + (month - 1) // 3
    return select(quarter, *(func.sum(a) for a in aggregates)).where(day.is_not(None)).group_by(quarter)


def _bucket(rows: Iterable[Any], fill: Callable[[Agg, Any], None]) -> Series:
    """Rows of (quarter key of ``_per_quarter``, aggregates...) into a series."""
    out: Series = {}
    for row in rows:
        key = int(row[0])
        fill(out.setdefault(Quarter(key // 4, key % 4 + 1), Agg()), row)
    return out


def _count(agg: Agg, row: Any) -> None:
    agg.value += Decimal(row[1])


def _sum(agg: Agg, row: Any) -> None:
    agg.value += row[1] if row[1] is not None else D0


class _Rules:
    """One query per computed rule, all scoped to one partnership."""

    def __init__(self, session: Session, pid: int) -> None:
        self.s = session
        self.pid = pid
        self._trained: tuple[Series, Series] | None = None
        self._milestones: list[Any] | None = None

    def _rows(self, stmt: Any) -> list[Any]:
        """The rows of a per-date aggregate query, regrouped by quarter in SQL."""
        return list(self.s.execute(_per_quarter(stmt)))

    def trainings_held(self) -> Series:
        stmt = (select(Training.end_date, func.count())
                .where(Training.partnership_id == self.pid).group_by(Training.end_date))
        return _bucket(self._rows(stmt), _count)

    def _newly_trained(self) -> tuple[Series, Series]:
        """Indicators 1.2 and 1.3 from one query: each participant's first training end (over the partnership's
        trainings), then per date the people counted and those of them whose agency is ODPP."""
        if self._trained is None:
            first = (select(Attendance.participant_id.label("pid"), func.min(Training.end_date).label("first_end"))
                     .join(Training, Training.id == Attendance.training_id)
                     .where(Training.partnership_id == self.pid)
                     .group_by(Attendance.participant_id).subquery())
            odpp = func.sum(case((Participant.agency == "ODPP", 1), else_=0), type_=Integer)
            stmt = (select(first.c.first_end, func.count(), odpp)
                    .join(Participant, Participant.id == first.c.pid).group_by(first.c.first_end))
            rows = self._rows(stmt)
            self._trained = (_bucket(rows, _count), _bucket(rows, lambda agg, row: _count(agg, (None, row[2]))))
        return self._trained

    def people_trained(self) -> Series:
        return self._newly_trained()[0]

    def odpp_trained(self) -> Series:
        return self._newly_trained()[1]

    def knowledge_gain(self) -> Series:
        stmt = (select(Training.end_date, func.sum(Attendance.post_score), func.sum(Attendance.pre_score),
                       func.count())
                .join(Training, Training.id == Attendance.training_id)
                .where(Training.partnership_id == self.pid, Attendance.pre_score.is_not(None),
                       Attendance.post_score.is_not(None))
                .group_by(Training.end_date))

        def fill(agg: Agg, row: Any) -> None:
            agg.total += row[1] - row[2]
            agg.count += row[3]

        return _bucket(self._rows(stmt), fill)

    def engagements(self) -> Series:
        stmt = (select(Engagement.date, func.count())
                .where(Engagement.partnership_id == self.pid).group_by(Engagement.date))
        return _bucket(self._rows(stmt), _count)

    def cases_mentored(self) -> Series:
        sub = (select(Engagement.case_key, func.min(Engagement.date).label("first_date"))
               .where(Engagement.partnership_id == self.pid, Engagement.type == codes.CASE_MENTORING,
                      Engagement.case_key.is_not(None))
               .group_by(Engagement.case_key).subquery())
        stmt = select(sub.c.first_date, func.count()).group_by(sub.c.first_date)
        return _bucket(self._rows(stmt), _count)

    def support_hours(self) -> Series:
        stmt = (select(Engagement.date, func.sum(Engagement.hours))
                .where(Engagement.partnership_id == self.pid).group_by(Engagement.date))
        return _bucket(self._rows(stmt), _sum)

    def _completed(self) -> list[Any]:
        on_time = func.sum(case((Milestone.completed_on <= Milestone.original_due_date, 1), else_=0), type_=Integer)
        stmt = (select(Milestone.completed_on, func.count(), on_time)
                .where(Milestone.partnership_id == self.pid, Milestone.status == codes.COMPLETED,
                       Milestone.completed_on.is_not(None))
                .group_by(Milestone.completed_on))
        if self._milestones is None:  # 3.1 and 3.2 share it
            self._milestones = self._rows(stmt)
        return self._milestones

    def milestones_completed(self) -> Series:
        return _bucket(self._completed(), _count)

    def milestones_on_time(self) -> Series:
        def fill(agg: Agg, row: Any) -> None:
            agg.total += Decimal(int(row[2] or 0))
            agg.count += int(row[1])

        return _bucket(self._completed(), fill)

    def expenditure(self) -> Series:
        stmt = (select(Expenditure.date, func.sum(Expenditure.amount_grant))
                .join(Grant, Grant.id == Expenditure.grant_id)
                .where(Grant.partnership_id == self.pid).group_by(Expenditure.date))
        return _bucket(self._rows(stmt), _sum)


#: rule -> the _Rules method computing it; "manual" reads the Result table
RULES = ("trainings_held", "people_trained", "odpp_trained", "knowledge_gain", "engagements", "cases_mentored",
         "support_hours", "milestones_completed", "milestones_on_time", "expenditure")
PERCENT_RULES = {"milestones_on_time"}


@dataclass(frozen=True)
class Figures:
    """One indicator's figures for one quarter, cumulatively to its end, and for life."""

    code: str
    name: str
    unit: str
    kind: str
    rule: str
    decimals: int
    period_target: Decimal | None
    period_actual: Decimal | None
    cumulative_target: Decimal | None
    cumulative_actual: Decimal | None
    life_target: Decimal | None
    status: str
    cumulative_status: str
    #: for a mean or a share: what it was computed from (knowledge-gain total / attendances; on time / completed)
    period_numerator: Decimal | None = None
    period_denominator: int | None = None
    cumulative_numerator: Decimal | None = None
    cumulative_denominator: int | None = None
    narrative: str | None = None

    @property
    def period_pct(self) -> Decimal | None:
        return _pct(self.period_actual, self.period_target)

    @property
    def cumulative_pct(self) -> Decimal | None:
        return _pct(self.cumulative_actual, self.cumulative_target)

    def as_json(self) -> dict[str, Any]:
        """Exactly the keys of docs/reference/cli.md."""
        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "period_target": json_number(self.period_target),
            "period_actual": json_number(self.period_actual),
            "cumulative_target": json_number(self.cumulative_target),
            "cumulative_actual": json_number(self.cumulative_actual),
            "life_target": json_number(self.life_target),
            "status": self.status,
            "cumulative_status": self.cumulative_status,
        }


def _pct(actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    if actual is None or not target:
        return None
    return round_1dp(actual * 100 / target)


def shown_places(ind: Indicator) -> int:
    """The decimal places an indicator's figures are kept and shown to: one for a computed mean or share,
    else its own ``decimals``."""
    return 1 if ind.kind == "level" and ind.rule != "manual" else ind.decimals or 0


def json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Progress:
    period: Quarter
    as_of: date | None
    indicators: list[Figures] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": str(self.period),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "indicators": [f.as_json() for f in self.indicators],
        }

    def by_code(self) -> dict[str, Figures]:
        return {f.code: f for f in self.indicators}


@dataclass(frozen=True)
class IndicatorSeries:
    """Everything needed for any quarter of one indicator: per-quarter aggregates and targets."""

    indicator: Indicator
    actuals: Series
    targets: dict[Quarter, Decimal]
    narratives: dict[Quarter, str]

    def _round(self, value: Decimal) -> Decimal:
        quantum = Decimal(1).scaleb(-shown_places(self.indicator))
        return value.quantize(quantum, rounding="ROUND_HALF_UP")

    def _actual(self, aggs: list[Agg]) -> tuple[Decimal | None, Decimal | None, int | None]:
        """(actual, numerator, denominator) over the given quarters."""
        total = Agg()
        for a in aggs:
            total.add(a)
        ind = self.indicator
        if ind.rule == "manual" or ind.kind == "sum":
            if ind.kind == "level" and ind.rule == "manual":
                return (self._round(aggs[-1].value) if aggs and aggs[-1].count else None), None, None
            return self._round(total.value), None, None
        if total.count == 0:
            return None, total.total, 0
        factor = Decimal(100) if ind.rule in PERCENT_RULES else Decimal(1)
        return self._round(total.total * factor / total.count), total.total, total.count

    def figures(self, q: Quarter) -> Figures:
        ind = self.indicator
        upto = sorted(x for x in set(self.actuals) | {q} if x <= q)
        level = ind.kind == "level"
        if level and ind.rule == "manual":
            # a manual level indicator: the period value is that quarter's; cumulative is the latest reported
            period_aggs = [self.actuals[q]] if q in self.actuals else []
            reported = [self.actuals[x] for x in upto if x in self.actuals]
            cum_aggs = reported[-1:]
        else:
            period_aggs = [self.actuals.get(q, Agg())]
            cum_aggs = [self.actuals[x] for x in upto if x in self.actuals]
        p_actual, p_num, p_den = self._actual(period_aggs)
        c_actual, c_num, c_den = self._actual(cum_aggs)

        past_targets = [(x, v) for x, v in sorted(self.targets.items()) if x <= q]
        p_target = self.targets.get(q)
        if level:
            c_target = past_targets[-1][1] if past_targets else None
            life = self.targets[max(self.targets)] if self.targets else None
        else:
            c_target = sum((v for _, v in past_targets), D0) if past_targets else None
            life = sum(self.targets.values(), D0) if self.targets else None

        def status(actual: Decimal | None, target: Decimal | None) -> str:
            return status_for(actual, target, low_pct=ind.band_low, high_pct=ind.band_high,
                              higher_is_better=ind.higher_is_better)

        return Figures(
            code=ind.code, name=ind.name, unit=ind.unit, kind=ind.kind, rule=ind.rule, decimals=ind.decimals,
            period_target=p_target, period_actual=p_actual, cumulative_target=c_target, cumulative_actual=c_actual,
            life_target=life, status=status(p_actual, p_target), cumulative_status=status(c_actual, c_target),
            period_numerator=p_num, period_denominator=p_den, cumulative_numerator=c_num,
            cumulative_denominator=c_den, narrative=self.narratives.get(q),
        )


class IndicatorEngine:
    """Computes indicator figures for one partnership from whatever session it is given (the live database,
    or a state rebuilt from the audit trail for an as-of date)."""

    def __init__(self, session: Session, partnership_id: int) -> None:
        self.session = session
        self.partnership_id = partnership_id
        self._series: list[IndicatorSeries] | None = None

    def indicators(self) -> list[Indicator]:
        return list(self.session.execute(select(Indicator).where(Indicator.partnership_id == self.partnership_id)
                                         .order_by(Indicator.position, Indicator.id)).scalars())

    def series(self) -> list[IndicatorSeries]:
        if self._series is not None:
            return self._series
        indicators = self.indicators()
        ids = [i.id for i in indicators]
        targets: dict[int, dict[Quarter, Decimal]] = defaultdict(dict)
        for iid, period, value in self.session.execute(select(Target.indicator_id, Target.period, Target.value)
                                                       .where(Target.indicator_id.in_(ids))):
            targets[iid][Quarter.parse(period)] = value
        manual: dict[int, Series] = defaultdict(dict)
        for iid, period, value in self.session.execute(select(Result.indicator_id, Result.period, Result.value)
                                                       .where(Result.indicator_id.in_(ids))):
            manual[iid][Quarter.parse(period)] = Agg(value=value, count=1)
        narratives: dict[int, dict[Quarter, str]] = defaultdict(dict)
        narrative_rows = select(Narrative.indicator_id, Narrative.period, Narrative.text).where(
            Narrative.indicator_id.in_(ids))
        for iid, period, text in self.session.execute(narrative_rows):
            narratives[iid][Quarter.parse(period)] = text
        rules = _Rules(self.session, self.partnership_id)
        computed: dict[str, Series] = {}
        out = []
        for ind in indicators:
            if ind.rule == "manual":
                actual = manual.get(ind.id, {})
            else:
                if ind.rule not in computed:
                    computed[ind.rule] = getattr(rules, ind.rule)()
                actual = computed[ind.rule]
            out.append(IndicatorSeries(ind, actual, targets.get(ind.id, {}), narratives.get(ind.id, {})))
        self._series = out
        return out

    def progress(self, period: Quarter, as_of: date | None = None) -> Progress:
        return Progress(period, as_of, [s.figures(period) for s in self.series()])

    def quarters_with_data(self) -> list[Quarter]:
        found: set[Quarter] = set()
        for s in self.series():
            found |= set(s.actuals) | set(s.targets)
        return sorted(found)

