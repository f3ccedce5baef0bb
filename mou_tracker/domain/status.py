"""Status bands: how an actual compares with its target."""

from __future__ import annotations

from decimal import Decimal

ON_TRACK = "on_track"
BELOW = "below_target"
ABOVE = "above_target"
NO_TARGET = "no_target"
NO_DATA = "no_data"
STATUSES = (ON_TRACK, BELOW, ABOVE, NO_TARGET, NO_DATA)

DEFAULT_LOW = Decimal("85")
DEFAULT_HIGH = Decimal("115")


def status_for(
    actual: Decimal | None,
    target: Decimal | None,
    *,
    low_pct: Decimal = DEFAULT_LOW,
    high_pct: Decimal = DEFAULT_HIGH,
    higher_is_better: bool = True,
) -> str:
    """No target or target 0 -> no_target; no actual -> no_data; below low% -> below_target;
    above high% -> above_target; otherwise on_track (both band edges are on track).

    For "lower is better" indicators the bands mirror: above high% is below target (worse than planned).
    """
    if target is None or target == 0:
        return NO_TARGET
    if actual is None:
        return NO_DATA
    scaled = actual * 100
    under = scaled < low_pct * target
    over = scaled > high_pct * target
    if not higher_is_better:
        under, over = over, under
    if under:
        return BELOW
    if over:
        return ABOVE
    return ON_TRACK
