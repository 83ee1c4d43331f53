"""Pure: the monthly MRR bridge from each customer's monthly movements (docs/metrics.md)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")


@dataclass(frozen=True)
class MovementTotal:
    """One month's moves of one kind: how many customers, and their MRR change as a positive amount."""

    customers: int
    mrr: int


@dataclass(frozen=True)
class CustomerCounts:
    opening: int
    new: int
    churned: int
    reactivated: int
    closing: int


@dataclass(frozen=True)
class BridgeMonth:
    month: date
    opening_mrr: int
    new: int
    expansion: int
    contraction: int
    churned: int
    reactivation: int
    closing_mrr: int
    usage_revenue: int
    customers: CustomerCounts = field(compare=True)


def bridge(
    months: Sequence[date],
    opening_mrr: int,
    opening_customers: int,
    moves: Mapping[tuple[date, str], MovementTotal],
    usage_revenue: Mapping[date, int],
) -> list[BridgeMonth]:
    """Each month's closing is its opening plus its movements; the next month opens at that closing."""
    rows: list[BridgeMonth] = []
    mrr, customers = opening_mrr, opening_customers
    zero = MovementTotal(0, 0)
    for month in months:
        new, expansion, contraction, churn, back = (moves.get((month, kind), zero) for kind in MOVEMENTS)
        closing = mrr + new.mrr + expansion.mrr - contraction.mrr - churn.mrr + back.mrr
        closing_customers = customers + new.customers - churn.customers + back.customers
        counts = CustomerCounts(customers, new.customers, churn.customers, back.customers, closing_customers)
        rows.append(
            BridgeMonth(
                month,
                mrr,
                new.mrr,
                expansion.mrr,
                contraction.mrr,
                churn.mrr,
                back.mrr,
                closing,
                usage_revenue.get(month, 0),
                counts,
            )
        )
        mrr, customers = closing, closing_customers
    return rows
