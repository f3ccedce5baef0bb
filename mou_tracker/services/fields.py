"""Parsing and checking one field of user input. Problems name the field by its label (the import
workbook's column header), so a message reads the same in the UI, the CLI and an import report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mou_tracker.domain.codes import canonical, canonical_county
from mou_tracker.domain.money import to_decimal
from mou_tracker.domain.periods import PeriodError, Quarter
from mou_tracker.errors import Problem

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class Field:
    attr: str
    label: str
    kind: str = "text"  # text | date | decimal | int | code | county | period | currency
    required: bool = False
    vocab: tuple[str, ...] | None = None
    max_len: int = 200
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    scale: int = 2
    round_excess: bool = False  # round extra decimals half-up instead of refusing them

    def parse(self, raw: Any) -> tuple[Any, Problem | None]:
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "":
            if self.required:
                return None, Problem(self.label, "is required")
            return None, None
        try:
            return getattr(self, f"_parse_{self.kind}")(raw), None
        except _Bad as bad:
            return None, Problem(self.label, str(bad))

    def _parse_text(self, raw: Any) -> str:
        value = str(raw).strip()
        if len(value) > self.max_len:
            raise _Bad(f"is {len(value):,} characters long; at most {self.max_len:,} are allowed")
        return value

    def _parse_code(self, raw: Any) -> str:
        assert self.vocab is not None
        value = canonical(raw, self.vocab)
        if value is None:
            raise _Bad(f"'{_short(raw)}' is not one of: {', '.join(self.vocab)}")
        return value

    def _parse_county(self, raw: Any) -> str:
        value = canonical_county(raw)
        if value is None:
            raise _Bad(f"'{_short(raw)}' is not one of Kenya's 47 counties")
        return value

    def _parse_currency(self, raw: Any) -> str:
        value = str(raw).strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise _Bad(f"'{_short(raw)}' is not a three-letter currency code (e.g. USD, KES)")
        return value

    def _parse_period(self, raw: Any) -> str:
        try:
            return str(Quarter.parse(str(raw)))
        except PeriodError as exc:
            raise _Bad(str(exc)) from None

    def _parse_date(self, raw: Any) -> date:
        if isinstance(raw, datetime):
            if raw.time() != datetime.min.time():
                raise _Bad(f"'{raw}' has a time of day; give a date")
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, str):
            try:
                value = date.fromisoformat(raw)
                if len(raw) != 10:
                    raise ValueError
            except ValueError:
                raise _Bad(f"'{_short(raw)}' is not a date; write it as YYYY-MM-DD") from None
        else:
            raise _Bad(f"'{_short(raw)}' is not a date; write it as YYYY-MM-DD")
        if not EARLIEST <= value <= LATEST:
            raise _Bad(f"{value.isoformat()} is outside {EARLIEST.year}-{LATEST.year}")
        return value

    def _parse_decimal(self, raw: Any) -> Decimal:
        if isinstance(raw, date | datetime):
            raise _Bad(f"'{raw}' is a date, not a number")
        try:
            value = to_decimal(raw)
        except (InvalidOperation, ValueError):
            raise _Bad(f"'{_short(raw)}' is not a number") from None
        quantum = Decimal(1).scaleb(-self.scale)
        if value != value.quantize(quantum, rounding="ROUND_HALF_UP"):
            if not self.round_excess:
                raise _Bad(f"{value} has more than {self.scale} decimal places")
            value = value.quantize(quantum, rounding="ROUND_HALF_UP")
        else:
            value = value.quantize(quantum)
        self._check_range(value)
        if abs(value) >= Decimal(10) ** 15:
            raise _Bad(f"{value} is too large")
        return value

    def _parse_int(self, raw: Any) -> int:
        dec = self._parse_decimal(raw) if not isinstance(raw, int) else Decimal(raw)
        if dec != dec.to_integral_value():
            raise _Bad(f"{raw} is not a whole number")
        self._check_range(dec)
        return int(dec)

    def _check_range(self, value: Decimal) -> None:
        if self.minimum is not None and value < self.minimum:
            raise _Bad(f"{value} is below the minimum of {self.minimum}" if self.minimum != 0
                       else f"{value} is negative; it must be 0 or more")
        if self.maximum is not None and value > self.maximum:
            raise _Bad(f"{value} is above the maximum of {self.maximum}")


class _Bad(Exception):
    pass


def _short(raw: Any, limit: int = 40) -> str:
    text = str(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_fields(fields: tuple[Field, ...], values: dict[str, Any], *, partial: bool = False
                 ) -> tuple[dict[str, Any], list[Problem]]:
    """Parse every field named in ``values`` (all fields unless ``partial``)."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for f in fields:
        if partial and f.attr not in values:
            continue
        value, problem = f.parse(values.get(f.attr))
        if problem:
            problems.append(problem)
        else:
            out[f.attr] = value
    known = {f.attr for f in fields}
    for attr in values:
        if attr not in known:
            problems.append(Problem(attr, "is not a field of this record"))
    return out, problems
