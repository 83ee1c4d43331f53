"""A usage series' trend: the least-squares slope over the periods, and the change from its first half to its
second half."""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Trend:
    slope: float | None
    """Events per period gained (or lost) each period: the ordinary least-squares slope of the counts against the
    period's index 0, 1, 2...; None with fewer than two periods."""
    first_half: int
    """Events in the first floor(n/2) periods."""
    second_half: int
    """Events in the last floor(n/2) periods (an odd series' middle period is in neither half)."""
    change_pct: float | None
    """(second_half - first_half) / first_half * 100; None when first_half is 0 or n < 2."""


def slope(values: Sequence[int]) -> Fraction | None:
    n = len(values)
    if n < 2:
        return None
    mean_x = Fraction(n - 1, 2)
    mean_y = Fraction(sum(values), n)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    variance = sum((x - mean_x) * (x - mean_x) for x in range(n))
    return Fraction(covariance) / variance


def trend(values: Sequence[int]) -> Trend:
    half = len(values) // 2
    first, second = sum(values[:half]), sum(values[len(values) - half :])
    rate = slope(values)
    change = None if half == 0 or first == 0 else round(float(Fraction(second - first, first) * 100), 2)
    return Trend(
        slope=None if rate is None else round(float(rate), 6),
        first_half=first,
        second_half=second,
        change_pct=change,
    )
