"""Pure: retention by signup cohort from each customer's monthly movements (docs/metrics.md)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from analytics.metrics.formulas import rate
from analytics.metrics.periods import months_between


@dataclass(frozen=True)
class Move:
    customer_id: str
    month: date
    closing_mrr: int


@dataclass(frozen=True)
class Cell:
    months_since: int
    value: int
    """Customers still paying (logo) or their MRR (revenue) at the end of the month."""
    retention: Decimal | None


@dataclass(frozen=True)
class Cohort:
    cohort: date
    customers: int
    starting_value: int
    cells: list[Cell]


def cohort_matrix(moves: Iterable[Move], first: date, last: date, *, kind: str) -> list[Cohort]:
    """Cohorts are the months (from `first` to `last`) in which customers first closed with MRR; each is followed
    to `last`. `moves` are ordered by customer, then month."""
    months = months_between(first, last)
    index = {month: n for n, month in enumerate(months)}
    values: dict[date, list[int]] = {}
    sizes: dict[date, int] = {}
    for _, group in groupby(moves, key=lambda m: m.customer_id):
        history = list(group)
        start = next((m.month for m in history if m.closing_mrr > 0), None)
        if start is None or start not in index:
            continue
        row = values.setdefault(start, [0] * (len(months) - index[start]))
        sizes[start] = sizes.get(start, 0) + 1
        for offset, mrr in enumerate(_closing_by_month(history, months[index[start] :])):
            row[offset] += (1 if mrr > 0 else 0) if kind == "logo" else mrr
    return [_cohort(month, sizes[month], values[month]) for month in months if month in values]


def _closing_by_month(history: Sequence[Move], months: Sequence[date]) -> list[int]:
    closing, position, result = 0, 0, []
    for month in months:
        while position < len(history) and history[position].month <= month:
            closing = history[position].closing_mrr
            position += 1
        result.append(closing)
    return result


def _cohort(month: date, size: int, row: list[int]) -> Cohort:
    cells = [Cell(offset, value, rate(value, row[0])) for offset, value in enumerate(row)]
    return Cohort(month, size, row[0], cells)
