"""How figures, dates and statuses read on screen. Pure formatting: nothing here computes a figure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mou_tracker.domain.periods import Quarter, fiscal_label
from mou_tracker.services.indicators import Figures

#: status -> (label, theme colour variable); the same words as `progress` prints
STATUS_STYLE = {
    "on_track": ("on track", "$success"),
    "below_target": ("below target", "$error"),
    "above_target": ("above target", "$accent"),
    "no_target": ("no target", "$text-muted"),
    "no_data": ("no data", "$text-muted"),
}


def status_label(status: str) -> str:
    return STATUS_STYLE.get(status, (status.replace("_", " "), ""))[0]


def status_colour(status: str) -> str:
    return STATUS_STYLE.get(status, ("", "$foreground"))[1]


def number(value: Decimal | int | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}"


def money(value: Decimal | None) -> str:
    return number(value, 2)


def pct(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.1f}%"


def figure_decimals(f: Figures) -> int:
    """Sums and manual values keep the indicator's decimals; computed means and shares show one place."""
    return f.decimals if f.kind == "sum" or f.rule == "manual" else 1


def fig(f: Figures, value: Decimal | None) -> str:
    return number(value, figure_decimals(f))


def compact(f: Figures, value: Decimal | None) -> str:
    """A figure in few characters for the dashboard bars: 516.6k, 1.20M."""
    if value is None:
        return "–"
    if abs(value) >= Decimal("999_950"):
        return f"{value / 1_000_000:.2f}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.1f}k"
    return fig(f, value)


def stamp(value: datetime | None) -> str:
    """A UTC time stamp to the minute."""
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def text(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, Decimal):
        if value.is_finite() and int(value.as_tuple().exponent) < -2:  # a rate: as entered, never 1E-10
            return f"{value.normalize():,f}"
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def days(n: int) -> str:
    if n == 0:
        return "0 days"
    sign = "+" if n > 0 else "−"
    return f"{sign}{count(abs(n), 'day')}"


def quarter_span(q: Quarter, parties: Any = ()) -> str:
    """What a quarter is in days and in each party's fiscal year: '1 Jul–30 Sep 2025 · ODPP FY2025/26 Q1 ·
    HTI FY2025 Q4' (the quarter's own name is shown beside it)."""
    span = f"{q.start.day} {q.start:%b}–{q.end.day} {q.end:%b %Y}"
    labels = [f"{p.code.upper()} {fiscal_label(q, p.fiscal_start_month, p.fiscal_label_style)}" for p in parties]
    return " · ".join([span, *labels])


#: nouns whose plural is not the noun + "s"
PLURALS = {"activity": "activities", "person": "people", "is": "are", "was": "were"}


def plural(n: int, noun: str) -> str:
    """The noun for ``n`` of it: 1 participant, 2 participants, 0 activities."""
    return noun if n == 1 else PLURALS.get(noun, noun + "s")


def count(n: int, noun: str) -> str:
    """'1 participant', '1,204 participants'."""
    return f"{n:,} {plural(n, noun)}"


def input_value(value: Any) -> str:
    """A stored value as a form input shows it."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text_ = format(value, "f")
        if "." in text_:
            text_ = text_.rstrip("0").rstrip(".")
        return text_
    return str(value)


def bar(share: float | None, width: int) -> tuple[str, str]:
    """A bar of ``width`` cells for a share (0..1, capped): the filled part and the empty part."""
    if width <= 0:
        return "", ""
    if share is None:
        return "", "╌" * width
    share = max(0.0, min(1.0, share))
    filled = round(share * width)
    return "━" * filled, "─" * (width - filled)
