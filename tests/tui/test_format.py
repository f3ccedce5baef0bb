"""How the terminal UI writes a value: a rate as entered (its column keeps 10 places), money with its cents."""

from decimal import Decimal

from mou_tracker.tui import format as fmt


def test_a_rate_is_shown_as_entered_and_money_keeps_its_cents():
    assert fmt.text(Decimal("0.0077405000")) == "0.0077405"
    assert fmt.text(Decimal("1E-10")) == "0.0000000001"
    assert fmt.text(Decimal("1.0000000000")) == "1"
    assert fmt.text(Decimal("1234.5000000000")) == "1,234.5"
    assert fmt.text(Decimal("1500.00")) == "1,500.00"
    assert fmt.text(None) == "–"
