"""RFM scoring: recency, frequency and monetary value scored 1-5 by quintile, then named segments.

Cut points are nearest-rank quintiles of the customers scored: the k-th (k = 1..4) is the value at rank
ceil(n * k / 5) in ascending order. A frequency or monetary value scores 1 plus the number of cut points it
exceeds; recency (days since the last activity, fewer is better) scores 5 minus the number of cut points it
exceeds. FM is the mean of F and M rounded half up. Segments, first match wins:

| segment | R | FM |
|---|---|---|
| Champions | 4-5 | 4-5 |
| Loyal | 3-5 | 3-5 |
| Potential loyalists | 3-5 | 1-2 |
| Can't lose them | 1 | 4-5 |
| At risk | 1-2 | 3-5 |
| Hibernating | 1-2 | 1-2 |
"""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

SEGMENTS = ("Champions", "Loyal", "Potential loyalists", "At risk", "Can't lose them", "Hibernating")
# (segment, lowest R, highest R, lowest FM, highest FM), first match wins
RULES: tuple[tuple[str, int, int, int, int], ...] = (
    ("Champions", 4, 5, 4, 5),
    ("Loyal", 3, 5, 3, 5),
    ("Potential loyalists", 3, 5, 1, 2),
    ("Can't lose them", 1, 1, 4, 5),
    ("At risk", 1, 2, 3, 5),
    ("Hibernating", 1, 2, 1, 2),
)


@dataclass(frozen=True)
class Activity:
    customer_id: str
    recency_days: int
    frequency: int
    monetary_minor: int


@dataclass(frozen=True)
class Cuts:
    recency_days: list[int]
    frequency: list[int]
    monetary_minor: list[int]


@dataclass(frozen=True)
class Scored:
    activity: Activity
    r: int
    f: int
    m: int
    fm: int
    segment: str


def quintile_cuts(values: Sequence[int]) -> list[int]:
    ordered = sorted(values)
    return [ordered[ceil(len(ordered) * k / 5) - 1] for k in range(1, 5)] if ordered else []


def _above(value: int, cuts: Sequence[int]) -> int:
    return sum(1 for cut in cuts if value > cut)


def segment_of(r: int, fm: int) -> str:
    for name, r_low, r_high, fm_low, fm_high in RULES:
        if r_low <= r <= r_high and fm_low <= fm <= fm_high:
            return name
    raise ValueError(f"scores out of range: R={r}, FM={fm}")


def score(customers: Sequence[Activity]) -> tuple[Cuts, list[Scored]]:
    cuts = Cuts(
        recency_days=quintile_cuts([c.recency_days for c in customers]),
        frequency=quintile_cuts([c.frequency for c in customers]),
        monetary_minor=quintile_cuts([c.monetary_minor for c in customers]),
    )
    scored = []
    for customer in customers:
        r = 5 - _above(customer.recency_days, cuts.recency_days)
        f = 1 + _above(customer.frequency, cuts.frequency)
        m = 1 + _above(customer.monetary_minor, cuts.monetary_minor)
        fm = (f + m + 1) // 2
        scored.append(Scored(customer, r, f, m, fm, segment_of(r, fm)))
    return cuts, scored
