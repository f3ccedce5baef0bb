"""The portfolio: every partnership's progress for one quarter, and the roll-up of the indicators they share.

An indicator is rolled up only across partnerships whose indicator of that code has the same unit and kind
(docs/reference/indicators.md, "Several partnerships"); for money ("grant currency") the partnerships' grant
currencies must agree too, since USD and UGX do not add. A partnership without a grant has spent nothing, so
it joins the roll-up of any currency. Anything else is shown per partnership only, and named in
``Portfolio.not_rolled_up``.

How each indicator rolls up:
- ``sum`` (sessions, people, cases, hours, money): the partnerships' actuals add up; None only when every
  partnership's actual is None;
- a computed ``level`` (a mean such as 1.4, a share such as 3.2): pooled from each partnership's numerator and
  denominator, as if one programme had run them all (the mean of the partnerships' means would give a
  partnership of 5 people the weight of one of 500); None when no partnership has anything to average;
- a manual ``level`` (a user's own indicator reported as a single value): there is nothing to pool, so it is
  shown per partnership only.

Each partnership's figures are read by its own ``Reader`` exactly as `progress` reads them, so they equal its
own `progress --format json` by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from mou_tracker.domain.periods import Quarter
from mou_tracker.read.views import PartnershipProgress, Portfolio, PortfolioLine

if TYPE_CHECKING:
    from mou_tracker.services.indicators import Figures

MONEY_UNIT = "grant currency"


def roll_up(period: Quarter, as_of: date | None, members: Iterable[PartnershipProgress]) -> Portfolio:
    """The portfolio of ``members`` (each a partnership's own progress), in the order given."""
    from mou_tracker.services.indicators import PERCENT_RULES

    members = tuple(members)
    by_code: dict[str, list[tuple[PartnershipProgress, Figures]]] = defaultdict(list)
    order: list[str] = []
    for m in members:
        for f in m.progress.indicators:
            if f.code not in by_code:
                order.append(f.code)
            by_code[f.code].append((m, f))
    lines: list[PortfolioLine] = []
    left: list[str] = []
    for code in order:
        entries = by_code[code]
        first = entries[0][1]
        kinds = {(f.unit, f.kind, f.rule if f.kind == "level" else "") for _m, f in entries}
        currencies = {m.currency for m, f in entries if f.unit == MONEY_UNIT and m.currency is not None}
        manual_level = first.kind == "level" and first.rule == "manual"
        if len(kinds) > 1 or len(currencies) > 1 or "mixed" in currencies or manual_level:
            left.append(code)
            continue
        unit = first.unit
        if unit == MONEY_UNIT and currencies:
            unit = next(iter(currencies))
        figures = tuple((m.info.code, f) for m, f in entries)
        if first.kind == "sum":
            period_actual = _add(f.period_actual for _c, f in figures)
            cumulative_actual = _add(f.cumulative_actual for _c, f in figures)
        else:
            factor = Decimal(100) if first.rule in PERCENT_RULES else Decimal(1)
            period_actual = _pool(((f.period_numerator, f.period_denominator) for _c, f in figures), factor)
            cumulative_actual = _pool(((f.cumulative_numerator, f.cumulative_denominator)
                                       for _c, f in figures), factor)
        lines.append(PortfolioLine(code, first.name, unit, first.kind, first.decimals,
                                   period_actual, cumulative_actual, figures))
    return Portfolio(period, as_of, members, tuple(lines), tuple(left))


def _add(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _pool(pairs: Iterable[tuple[Decimal | None, int | None]], factor: Decimal) -> Decimal | None:
    """The pooled mean or share (one decimal, half-up, as the engine rounds a computed level)."""
    total, count = Decimal(0), 0
    for numerator, denominator in pairs:
        if numerator is not None and denominator:
            total += numerator
            count += denominator
    if not count:
        return None
    return (total * factor / count).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
