"""Multi-touch attribution: how much of a conversion each touchpoint before it earns, and an exact split of the
conversion's amount in minor units.

For touchpoints t_1..t_k (in time order) before a conversion at time T:
- first_touch: all to t_1; last_touch: all to t_k; linear: 1/k each;
- time_decay: each weighs 2^(-(T - t_i) / half_life), normalized to sum to 1;
- position_based: 40% to t_1, 40% to t_k, 20% shared equally by the ones between (k = 2: half each; k = 1: all).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

Model = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based"]
DEFAULT_HALF_LIFE = timedelta(days=7)


def weights(model: Model, touches: Sequence[datetime], converted_at: datetime, half_life: timedelta) -> list[Fraction]:
    """Each touch's share of the conversion; the shares add up to exactly 1. `touches` is non-empty, in order."""
    k = len(touches)
    if k == 0:
        raise ValueError("a conversion without touchpoints has no weights")
    if model == "first_touch":
        return [Fraction(1)] + [Fraction(0)] * (k - 1)
    if model == "last_touch":
        return [Fraction(0)] * (k - 1) + [Fraction(1)]
    if model == "linear":
        return [Fraction(1, k)] * k
    if model == "time_decay":
        decay = [Fraction(2 ** -((converted_at - at) / half_life)) for at in touches]
        total = sum(decay)
        return [d / total for d in decay]
    if k <= 2:
        return [Fraction(1, k)] * k
    middle = Fraction(1, 5) / (k - 2)
    return [Fraction(2, 5)] + [middle] * (k - 2) + [Fraction(2, 5)]


def split(amount_minor: int, shares: Sequence[Fraction]) -> list[int]:
    """`amount_minor` in parts proportional to `shares` (which sum to 1) that add up to it exactly: each part is
    rounded down, then the units left go one each to the largest remainders (the earlier part on a tie)."""
    sign = -1 if amount_minor < 0 else 1
    quotas = [abs(amount_minor) * share for share in shares]
    parts = [int(quota) for quota in quotas]
    left = abs(amount_minor) - sum(parts)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for index in by_remainder[:left]:
        parts[index] += 1
    return [sign * part for part in parts]
