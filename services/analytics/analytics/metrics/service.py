"""Revenue metric use cases: read the projections (repository), compute with the pure formulas."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.pages import split_page

from analytics.metrics import repository
from analytics.metrics.bridge import bridge
from analytics.metrics.cohorts import cohort_matrix
from analytics.metrics.formulas import CustomerPeriod, figures, movements
from analytics.metrics.periods import add_months, end_of_day, end_of_month, month_text, months_between
from analytics.metrics.schemas import (
    AmountMetric,
    BridgeMonthOut,
    CohortCellOut,
    CohortOut,
    CohortsOut,
    CustomerCountsOut,
    CustomerList,
    CustomerMetricsOut,
    MrrOut,
    Period,
    RateMetric,
    RevenueOut,
    RevenueRowOut,
    SummaryOut,
)

_STATUS_ORDER = ("active", "past_due", "trialing", "unpaid", "canceled")
_AMOUNTS = ("mrr", "arr", "active_customers", "arpa", "ltv")
_RATES = ("customer_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr", "grr", "trial_conversion_rate")


async def most_common_currency(session: AsyncSession, fallback: str) -> str:
    """The currency most customers pay in; `fallback` before there are any."""
    return await repository.most_common_currency(session) or fallback


def _periods(rows: Sequence[tuple[list[int], list[bool], int]], start: int) -> list[CustomerPeriod]:
    return [CustomerPeriod(mrr[start], mrr[start + 1], paid[start], n) for mrr, paid, n in rows]


async def summary(session: AsyncSession, currency: str, as_of: date) -> SummaryOut:
    """The month ending on `as_of` (after the same day a month before), and the month before that."""
    first_day, previous_first_day = add_months(as_of, -1), add_months(as_of, -2)
    instants = [end_of_day(previous_first_day), end_of_day(first_day), end_of_day(as_of)]
    rows = await repository.customer_periods(session, currency, instants)
    current = figures(movements(_periods(rows, 1)), await repository.trials(session, currency, *instants[1:]))
    previous = figures(movements(_periods(rows, 0)), await repository.trials(session, currency, *instants[:2]))
    metrics: dict[str, Any] = {
        name: AmountMetric(value=getattr(current, name), previous=getattr(previous, name)) for name in _AMOUNTS
    } | {name: RateMetric(value=getattr(current, name), previous=getattr(previous, name)) for name in _RATES}
    one_day = timedelta(days=1)
    return SummaryOut(
        currency=currency,
        as_of=as_of,
        period=Period(start=first_day + one_day, end=as_of),
        previous_period=Period(start=previous_first_day + one_day, end=first_day),
        **metrics,
    )


def summary_rows(out: SummaryOut) -> list[dict[str, Any]]:
    return [
        {"metric": name, "value": getattr(out, name).value, "previous": getattr(out, name).previous}
        for name in (*_AMOUNTS, *_RATES)
    ]


async def mrr_bridge(session: AsyncSession, currency: str, first: date, last: date) -> MrrOut:
    opening_mrr, opening_customers = await repository.opening(session, currency, first)
    moves = await repository.movement_totals(session, currency, first, last)
    usage = await repository.usage_revenue(session, currency, first, last)
    rows = bridge(months_between(first, last), opening_mrr, opening_customers, moves, usage)
    return MrrOut(
        currency=currency,
        months=[
            BridgeMonthOut(
                month=month_text(row.month),
                customers=CustomerCountsOut(**vars(row.customers)),
                **{k: v for k, v in vars(row).items() if k not in {"month", "customers"}},
            )
            for row in rows
        ],
    )


async def cohorts(session: AsyncSession, currency: str, kind: str, first: date, last: date) -> CohortsOut:
    matrix = cohort_matrix(await repository.month_moves(session, currency, last), first, last, kind=kind)
    return CohortsOut(
        currency=currency,
        kind=kind,
        by="month",
        cohorts=[
            CohortOut(
                cohort=month_text(c.cohort),
                customers=c.customers,
                starting_value=c.starting_value,
                cells=[CohortCellOut(**vars(cell)) for cell in c.cells],
            )
            for c in matrix
        ],
    )


def cohort_rows(out: CohortsOut) -> list[dict[str, Any]]:
    return [
        {"cohort": c.cohort, "customers": c.customers, "starting_value": c.starting_value} | cell.model_dump()
        for c in out.cohorts
        for cell in c.cells
    ]


async def revenue(
    session: AsyncSession, currency: str, group_by: str, first: date, last: date, *, deduct_discounts: bool
) -> RevenueOut:
    start, end = end_of_month(add_months(first, -1)), end_of_month(last)
    if group_by == "month":
        found = {row.key: row for row in await repository.revenue_by_month(session, currency, start, end)}
        collected = await repository.collected_by_month(session, currency, start, end)
        rows = [
            _revenue_row(month_text(m), found.get(m), deduct_discounts, collected=collected.get(m, 0))
            for m in months_between(first, last)
        ]
    else:
        found = {row.key: row for row in await repository.revenue_by_plan(session, currency, start, end)}
        plans = await repository.mrr_by_plan(session, currency, end)
        rows = [
            _revenue_row(key, found.get(key), deduct_discounts, mrr=plans.get(key, (0, 0)))
            for key in sorted(set(found) | set(plans))
        ]
    return RevenueOut(
        currency=currency, group_by=group_by, from_month=month_text(first), to_month=month_text(last), rows=rows
    )


def _revenue_row(
    key: str, row: Any, deduct: bool, *, collected: int | None = None, mrr: tuple[int, int] | None = None
) -> RevenueRowOut:
    subscription, usage, discounts = (row.subscription, row.usage, row.discounts) if row else (0, 0, 0)
    return RevenueRowOut(
        key=key,
        customers=row.customers if row else 0,
        subscription=subscription,
        usage=usage,
        discounts=discounts,
        revenue=subscription + usage + (discounts if deduct else 0),
        collected=collected,
        mrr=mrr[0] if mrr else None,
        subscribers=mrr[1] if mrr else None,
    )


async def customers(session: AsyncSession, currency: str | None, after: str | None, limit: int) -> CustomerList:
    rows = await repository.customers_page(session, currency, after, limit + 1)
    page, cursor = split_page(rows, limit, lambda row: str(row.id))
    return CustomerList(data=[_customer(row) for row in page], next_cursor=cursor)


def _customer(row: Any) -> CustomerMetricsOut:
    statuses = set(row.statuses or ())
    status = next((s for s in _STATUS_ORDER if s in statuses), "none")
    return CustomerMetricsOut(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        currency=row.currency,
        status=status,
        plans=sorted(row.plans or ()),
        mrr=int(row.mrr),
        customer_since=row.since,
        created_at=row.created_at,
    )


def customer_rows(out: CustomerList) -> list[dict[str, Any]]:
    return [c.model_dump() | {"plans": " ".join(c.plans)} for c in out.data]
