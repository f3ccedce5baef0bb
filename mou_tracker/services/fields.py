"""Parsing and checking one field of user input. Problems name the field by its label (the import
workbook's column header), so a message reads the same in the UI, the CLI and an import report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from mou_tracker.domain.codes import canonical, canonical_county, has_kenya_counties
from mou_tracker.domain.money import to_decimal
from mou_tracker.domain.periods import MAX_DATE, MIN_DATE, PeriodError, Quarter, check_date_range
from mou_tracker.errors import Problem

#: the accepted date range (docs/reference/cli.md), kept under the old names for callers that read them
EARLIEST = MIN_DATE
LATEST = MAX_DATE
#: the largest magnitude any number field takes (the columns hold 18 digits; 10**15 leaves room for scale)
TOO_LARGE = Decimal(10) ** 15


@dataclass(frozen=True)
class Field:
    attr: str
    label: str
    kind: str = "text"  # text | date | decimal | int | code | county | area | period | currency
    required: bool = False
    vocab: tuple[str, ...] | None = None
    max_len: int = 200
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    scale: int = 2
    #: round extra decimals half-up instead of refusing them (exchange rates only: docs/reference/grant.md), with a note
    round_excess: bool = False

    def parse(self, raw: Any) -> tuple[Any, Problem | None]:
        value, problem, _note = self.parse_noted(raw)
        return value, problem

    def parse_noted(self, raw: Any) -> tuple[Any, Problem | None, str | None]:
        """The value, or the problem; and a note when the value was adjusted (a rate rounded to 10 places),
        because nothing is ever changed silently."""
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "":
            if self.required:
                return None, Problem(self.label, "is required"), None
            return None, None, None
        try:
            value = getattr(self, f"_parse_{self.kind}")(raw)
        except _Bad as bad:
            return None, Problem(self.label, str(bad)), None
        note = None
        if self.round_excess and self.kind == "decimal":
            exact = _exact(raw)
            if exact is not None and exact != value:
                note = f"{self.label}: {_short(format(exact, 'f'))} has more than {self.scale} decimal places; " \
                       f"rounded half-up to {format(value, 'f')}"
        return value, None, note

    def _parse_text(self, raw: Any) -> str:
        if isinstance(raw, bytes | bytearray | memoryview):
            raise _Bad("holds binary data, not text")
        if not isinstance(raw, str | int | Decimal | float) or isinstance(raw, bool):
            raise _Bad(f"holds a {type(raw).__name__}, not text")
        value = str(raw).strip()
        if len(value) > self.max_len:
            raise _Bad(f"is {len(value):,} characters long; at most {self.max_len:,} are allowed")
        if "\x00" in value:
            raise _Bad("holds a NUL character, which no text may contain")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Bad("holds characters that are not valid text (unpaired surrogates)") from None
        return value

    def _parse_code(self, raw: Any) -> str:
        assert self.vocab is not None
        if not isinstance(raw, str | int):
            raise _Bad(f"holds a {type(raw).__name__}; it must be one of: {', '.join(self.vocab)}")
        value = canonical(raw, self.vocab)
        if value is None:
            raise _Bad(f"'{_short(raw)}' is not one of: {', '.join(self.vocab)}")
        return value

    def _parse_county(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise _Bad(f"'{_short(raw)}' is not one of Kenya's 47 counties")
        value = canonical_county(raw)
        if value is None:
            raise _Bad(f"'{_short(raw)}' is not one of Kenya's 47 counties")
        return value

    def _parse_area(self, raw: Any) -> str:
        """A county outside Kenya (a district, a province: see ``for_country``): text, inner spaces collapsed."""
        return " ".join(self._parse_text(raw).split())

    def _parse_currency(self, raw: Any) -> str:
        value = str(raw).strip().upper() if isinstance(raw, str) else ""
        if len(value) != 3 or not value.isascii() or not value.isalpha():
            raise _Bad(f"'{_short(raw)}' is not a three-letter currency code (e.g. USD, KES)")
        return value

    def _parse_period(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise _Bad(f"'{_short(raw)}' is not a period; write it as YYYY-Qn (e.g. 2025-Q3)")
        try:
            return str(Quarter.parse(raw))
        except PeriodError as exc:
            raise _Bad(str(exc)) from None

    def _parse_date(self, raw: Any) -> date:
        if isinstance(raw, datetime):
            if raw.time() != datetime.min.time():
                raise _Bad(f"'{raw}' has a time of day; give a date")
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, time):  # what the reader makes of a date cell holding a number below 1
            raise _Bad(f"holds a number below 1 (negative or a fraction of a day), which is no day of the calendar "
                       f"(it reads as the time {raw:%H:%M}); write the date as YYYY-MM-DD")
        elif isinstance(raw, str):
            try:
                value = date.fromisoformat(raw)
                if len(raw) != 10:
                    raise ValueError
            except ValueError:
                raise _Bad(f"'{_short(raw)}' is not a date; write it as YYYY-MM-DD") from None
        else:
            raise _Bad(f"'{_short(raw)}' is not a date; write it as YYYY-MM-DD")
        try:
            return check_date_range(value, "the date")
        except PeriodError as exc:
            raise _Bad(str(exc)) from None

    def _parse_decimal(self, raw: Any) -> Decimal:
        if isinstance(raw, date | datetime):
            raise _Bad(f"'{raw}' is a date, not a number")
        value = _exact(raw)
        if value is None:
            raise _Bad(f"'{_short(raw)}' is not a number")
        if value.adjusted() >= 15:
            raise _Bad(f"{_short(raw)} is too large")
        quantum = Decimal(1).scaleb(-self.scale)
        if value != value.quantize(quantum, rounding="ROUND_HALF_UP"):
            if not self.round_excess:
                raise _Bad(f"{value} has more than {self.scale} decimal places")
            value = value.quantize(quantum, rounding="ROUND_HALF_UP")
        else:
            value = value.quantize(quantum)
        self._check_range(value)
        if abs(value) >= TOO_LARGE:
            raise _Bad(f"{value} is too large")
        return value

    def _parse_int(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise _Bad("is a yes/no value, not a whole number")
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


def _exact(raw: Any) -> Decimal | None:
    """``raw`` as an exact, finite Decimal, or None when it is not a number (text, INF, NaN, a date...)."""
    if isinstance(raw, date | datetime | bytes | bytearray | memoryview) or not isinstance(
            raw, str | int | float | Decimal):
        return None
    try:
        value = to_decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None


def _short(raw: Any, limit: int = 40) -> str:
    text = str(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def for_country(fields: Sequence[Field], country: str | None) -> tuple[Field, ...]:
    """``fields`` as a partnership in ``country`` takes them. A county is one of Kenya's 47 counties in Kenya;
    elsewhere (Uganda's districts, South Africa's provinces, which are not listed here) it is the place as
    written, inner spaces collapsed."""
    if has_kenya_counties(country):
        return tuple(fields)
    return tuple(replace(f, kind="area") if f.kind == "county" else f for f in fields)


def parse_fields(fields: tuple[Field, ...], values: dict[str, Any], *, partial: bool = False,
                 notes: list[str] | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Parse every field named in ``values`` (all fields unless ``partial``); a value adjusted while parsing
    (a rate rounded to 10 places) adds a line to ``notes``."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for f in fields:
        if partial and f.attr not in values:
            continue
        value, problem, note = f.parse_noted(values.get(f.attr))
        if problem:
            problems.append(problem)
        else:
            out[f.attr] = value
            if note and notes is not None:
                notes.append(note)
    known = {f.attr for f in fields}
    for attr in values:
        if attr not in known:
            problems.append(Problem(attr, "is not a field of this record"))
    return out, problems
