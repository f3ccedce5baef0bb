"""Calendar quarters (``YYYY-Qn``) and fiscal-year labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


# Every date the product accepts (records, --as-of, --period) lies in this range: outside it is a typo.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)


class PeriodError(ValueError):
    """A period string that is not a calendar quarter."""


class OutOfRange(PeriodError):
    """A well-formed date or quarter outside 2000-01-01..2100-12-31: refused as bad data, not as bad syntax."""


def check_date_range(value: date, what: str = "date") -> date:
    """``value`` itself, or a ``PeriodError`` saying plainly that it lies outside 2000-01-01..2100-12-31."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise OutOfRange(f"{what} {value.isoformat()} is outside the accepted range "
                          f"{MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}")
    return value


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4:
            raise PeriodError(f"quarter must be 1-4, not {self.q}")
        if not 1900 <= self.year <= 9999:
            raise PeriodError(f"year {self.year} is out of range")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER_RE.match(str(text))
        if not m:
            shown = str(text) if len(str(text)) <= 40 else str(text)[:39] + "…"
            raise PeriodError(f"'{shown}' is not a quarter; write it as YYYY-Qn, e.g. 2025-Q3")
        year = int(m.group(1))
        if not MIN_DATE.year <= year <= MAX_DATE.year:  # the accepted 2000-2100 range (docs/reference/cli.md)
            raise OutOfRange(f"period {m.group(0).strip()} is outside the accepted range "
                              f"{MIN_DATE.year}-Q1 to {MAX_DATE.year}-Q4")
        return cls(year, int(m.group(2)))

    @classmethod
    def of(cls, d: date) -> Quarter:
        return cls(d.year, (d.month - 1) // 3 + 1)

    @classmethod
    def latest_ended(cls, today: date) -> Quarter:
        """The latest quarter whose last day is before ``today``... or is today itself."""
        current = cls.of(today)
        return current if today == current.end else current.prev()

    def __str__(self) -> str:
        return f"{self.year}-Q{self.q}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def prev(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def index(self) -> int:
        """A running number: consecutive quarters differ by one."""
        return self.year * 4 + self.q - 1

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    out: list[Quarter] = []
    q = first
    while q <= last:
        out.append(q)
        q = q.next()
    return out


# Fiscal labels -------------------------------------------------------------------------------------------
#: "split" names the fiscal year by both calendar years it spans (Kenya: FY2025/26);
#: "end_year" names it by the calendar year it ends in (US federal style: FY2025).
FISCAL_LABEL_STYLES = ("split", "end_year")


#: the months a fiscal year may start in: the first month of a calendar quarter
FISCAL_START_MONTHS = (1, 4, 7, 10)


def validate_fiscal_start(month: int) -> None:
    if month not in FISCAL_START_MONTHS:
        raise PeriodError("a fiscal year must start on the first month of a calendar quarter (1, 4, 7 or 10)")


def fiscal_year_and_quarter(quarter: Quarter, start_month: int) -> tuple[int, int]:
    """Return (first calendar year of the fiscal year, fiscal quarter number)."""
    validate_fiscal_start(start_month)
    months_in = (quarter.start.month - start_month) % 12
    fy_first_year = quarter.year if quarter.start.month >= start_month else quarter.year - 1
    return fy_first_year, months_in // 3 + 1


def fiscal_label(quarter: Quarter, start_month: int, style: str = "split") -> str:
    """Label a calendar quarter in a party's fiscal calendar.

    >>> fiscal_label(Quarter(2025, 3), 7, "split")
    'FY2025/26 Q1'
    >>> fiscal_label(Quarter(2025, 3), 10, "end_year")
    'FY2025 Q4'
    """
    first_year, fq = fiscal_year_and_quarter(quarter, start_month)
    if start_month == 1:
        return f"FY{first_year} Q{fq}"
    if style == "end_year":
        return f"FY{first_year + 1} Q{fq}"
    if style != "split":
        raise PeriodError(f"unknown fiscal label style '{style}'")
    return f"FY{first_year}/{(first_year + 1) % 100:02d} Q{fq}"
