"""Pure: the summary metrics of one period from each customer's MRR at its start and end (docs/metrics.md).

Exact: sums in integer minor units, ratios as fractions rounded half-up once, at the end (rates to 4 decimals,
amounts to a minor unit)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

RATE_PLACES = 4


class CustomerPeriod(NamedTuple):
    start_mrr: int
    end_mrr: int
    paid_before: bool
    """Had MRR at some moment before the period started (a comeback is a reactivation, not new)."""
    customers: int = 1
    """How many customers had this start, end and history."""


@dataclass(frozen=True)
class Movements:
    opening_mrr: int = 0
    opening_customers: int = 0
    new: int = 0
    expansion: int = 0
    contraction: int = 0
    churned: int = 0
    reactivation: int = 0
    churned_customers: int = 0
    closing_mrr: int = 0
    closing_customers: int = 0
    retained_mrr: int = 0
    """What the customers active at the start pay at the end (expansion included)."""
    kept_mrr: int = 0
    """The same, each customer capped at what they paid at the start (no expansion)."""


@dataclass(frozen=True)
class Trials:
    ended: int
    converted: int


@dataclass(frozen=True)
class Figures:
    mrr: int
    arr: int
    active_customers: int
    arpa: int | None
    customer_churn_rate: Decimal | None
    gross_mrr_churn_rate: Decimal | None
    net_mrr_churn_rate: Decimal | None
    nrr: Decimal | None
    grr: Decimal | None
    ltv: int | None
    trial_conversion_rate: Decimal | None


def round_half_up(value: Fraction) -> int:
    """To the nearest integer, halves away from zero."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def rate(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    scaled = round_half_up(Fraction(numerator, denominator) * 10**RATE_PLACES)
    return Decimal(scaled).scaleb(-RATE_PLACES)


def movements(customers: Iterable[CustomerPeriod]) -> Movements:
    totals = dict.fromkeys(Movements.__dataclass_fields__, 0)
    for a, b, paid_before, n in customers:
        if a > 0:
            totals["opening_mrr"] += a * n
            totals["opening_customers"] += n
            totals["retained_mrr"] += b * n
            totals["kept_mrr"] += min(a, b) * n
        if b > 0:
            totals["closing_mrr"] += b * n
            totals["closing_customers"] += n
        if a == 0 and b > 0:
            totals["reactivation" if paid_before else "new"] += b * n
        elif a > 0 and b == 0:
            totals["churned"] += a * n
            totals["churned_customers"] += n
        elif b > a:
            totals["expansion"] += (b - a) * n
        else:
            totals["contraction"] += (a - b) * n
    return Movements(**totals)


def figures(m: Movements, trials: Trials) -> Figures:
    arpa = round_half_up(Fraction(m.closing_mrr, m.closing_customers)) if m.closing_customers else None
    ltv = None
    if m.closing_customers and m.churned_customers:
        # ARPA / customer churn rate, unrounded until the end.
        ltv = round_half_up(Fraction(m.closing_mrr * m.opening_customers, m.closing_customers * m.churned_customers))
    net_lost = m.churned + m.contraction - m.expansion - m.reactivation
    return Figures(
        mrr=m.closing_mrr,
        arr=m.closing_mrr * 12,
        active_customers=m.closing_customers,
        arpa=arpa,
        customer_churn_rate=rate(m.churned_customers, m.opening_customers),
        gross_mrr_churn_rate=rate(m.churned + m.contraction, m.opening_mrr),
        net_mrr_churn_rate=rate(net_lost, m.opening_mrr),
        nrr=rate(m.retained_mrr, m.opening_mrr),
        grr=rate(m.kept_mrr, m.opening_mrr),
        ltv=ltv,
        trial_conversion_rate=rate(trials.converted, trials.ended),
    )
