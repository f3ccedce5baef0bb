"""Money and decimal rules: Decimal everywhere, half-up rounding to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def to_decimal(value: object) -> Decimal:
    """Turn user input (str, int, Decimal; floats via their shortest repr) into a Decimal."""
    if isinstance(value, bool):
        raise InvalidOperation("a yes/no value is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        text = str(value).strip().replace(",", "")
        if not text:
            raise InvalidOperation("empty")
        result = Decimal(text)
    if not result.is_finite():  # INF and NaN (from a cell or a float) are not amounts
        raise InvalidOperation("not finite")
    return result


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_1dp(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, rate: Decimal | None) -> Decimal:
    """Amount in the grant currency: amount x rate, rounded half-up to cents."""
    return round_money(amount * (rate if rate is not None else Decimal(1)))
