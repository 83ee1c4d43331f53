"""All SQL behind the revenue metrics. Instants follow docs/metrics.md: a segment counts at instant t when
valid_from < t <= valid_to (or valid_to is open)."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.metrics.bridge import MovementTotal
from analytics.metrics.cohorts import Move
from analytics.metrics.formulas import Trials


async def most_common_currency(session: AsyncSession) -> str | None:
    query = "SELECT currency FROM customers GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1"
    return (await session.execute(text(query))).scalar_one_or_none()


def _at(name: str) -> str:
    return (
        f"coalesce(sum(mrr_minor) FILTER (WHERE valid_from < :{name} AND (valid_to IS NULL OR valid_to >= :{name})), 0)"
        "::bigint"
    )


async def customer_periods(
    session: AsyncSession, currency: str, instants: Sequence[datetime]
) -> list[tuple[list[int], list[bool], int]]:
    """The customers grouped by their MRR at each instant (ascending) and whether they had paid before each:
    (MRRs, paid before, how many customers)."""
    names = [f"t{n}" for n in range(len(instants))]
    mrrs = ", ".join(f"{_at(name)} AS mrr_{name}" for name in names)
    paid = ", ".join(f"coalesce(first_paid < :{name}, false)" for name in names)
    query = f"""SELECT {", ".join(f"mrr_{name}" for name in names)}, {paid}, count(*)
        FROM (SELECT {mrrs}, min(valid_from) FILTER (WHERE mrr_minor > 0) AS first_paid
              FROM mrr_segments WHERE currency = :currency AND valid_from < :{names[-1]} GROUP BY customer_id) per
        GROUP BY {", ".join(str(n + 1) for n in range(2 * len(names)))}"""
    params: dict[str, Any] = dict(zip(names, instants, strict=True)) | {"currency": currency}
    count = len(names)
    rows = (await session.execute(text(query), params)).all()
    return [(list(row[:count]), list(row[count:-1]), row[-1]) for row in rows]


async def trials(session: AsyncSession, currency: str, start: datetime, end: datetime) -> Trials:
    query = """SELECT count(DISTINCT subscription_id),
            count(DISTINCT subscription_id) FILTER (WHERE status IN ('active', 'past_due'))
        FROM subscription_changes
        WHERE currency = :currency AND previous_status = 'trialing' AND status <> 'trialing'
          AND effective_at >= :start AND effective_at < :end"""
    ended, converted = (await session.execute(text(query), {"currency": currency, "start": start, "end": end})).one()
    return Trials(int(ended), int(converted))


async def opening(session: AsyncSession, currency: str, month: date) -> tuple[int, int]:
    """MRR and paying customers at the end of the month before `month`."""
    query = """SELECT coalesce(sum(closing_mrr_minor), 0), count(*) FILTER (WHERE closing_mrr_minor > 0)
        FROM (SELECT DISTINCT ON (customer_id) closing_mrr_minor FROM customer_mrr_months
              WHERE currency = :currency AND month < :month ORDER BY customer_id, month DESC) last"""
    mrr, customers = (await session.execute(text(query), {"currency": currency, "month": month})).one()
    return int(mrr), int(customers)


async def movement_totals(
    session: AsyncSession, currency: str, first: date, last: date
) -> dict[tuple[date, str], MovementTotal]:
    query = """SELECT month, movement, count(*), sum(abs(closing_mrr_minor - opening_mrr_minor))
        FROM customer_mrr_months WHERE currency = :currency AND month BETWEEN :first AND :last
        GROUP BY month, movement"""
    rows = await session.execute(text(query), {"currency": currency, "first": first, "last": last})
    return {(month, kind): MovementTotal(int(count), int(mrr)) for month, kind, count, mrr in rows}


_LINE_MONTH = "date_trunc('month', l.period_start AT TIME ZONE 'UTC')::date"
_BILLED = "i.currency = :currency AND i.status <> 'void' AND l.period_start >= :start AND l.period_start < :end"


async def usage_revenue(session: AsyncSession, currency: str, first: date, last: date) -> dict[date, int]:
    query = """SELECT month, amount_minor FROM revenue_months
        WHERE currency = :currency AND kind = 'usage' AND month BETWEEN :first AND :last"""
    rows = await session.execute(text(query), {"currency": currency, "first": first, "last": last})
    return {month: int(amount) for month, amount in rows}


async def month_moves(session: AsyncSession, currency: str, last: date) -> list[Move]:
    query = """SELECT customer_id, month, closing_mrr_minor FROM customer_mrr_months
        WHERE currency = :currency AND month <= :last ORDER BY customer_id, month"""
    rows = await session.execute(text(query), {"currency": currency, "last": last})
    return [Move(*row) for row in rows]


_SUMS = """count(DISTINCT i.customer_id) AS customers,
    coalesce(sum(l.amount_minor) FILTER (WHERE l.kind IN ('base_fee', 'proration')), 0) AS subscription,
    coalesce(sum(l.amount_minor) FILTER (WHERE l.kind = 'usage'), 0) AS usage,
    coalesce(sum(l.amount_minor) FILTER (WHERE l.kind = 'adjustment'), 0) AS discounts"""


async def revenue_by_month(session: AsyncSession, currency: str, start: datetime, end: datetime) -> list[Any]:
    query = f"""SELECT {_LINE_MONTH} AS key, {_SUMS} FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        WHERE {_BILLED} GROUP BY 1"""
    return list((await session.execute(text(query), {"currency": currency, "start": start, "end": end})).all())


async def collected_by_month(session: AsyncSession, currency: str, start: datetime, end: datetime) -> dict[date, int]:
    query = """SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date,
            sum(CASE outcome WHEN 'succeeded' THEN amount_minor ELSE -amount_minor END)
        FROM payments WHERE currency = :currency AND outcome IN ('succeeded', 'refunded')
          AND occurred_at >= :start AND occurred_at < :end GROUP BY 1"""
    rows = await session.execute(text(query), {"currency": currency, "start": start, "end": end})
    return {month: int(amount) for month, amount in rows}


async def revenue_by_plan(session: AsyncSession, currency: str, start: datetime, end: datetime) -> list[Any]:
    """Each line goes to the plan its subscription was on when the line's period began: that of the segment that
    began last at or before it (the segments as spans up to the next one's start, joined once, not looked up per
    line)."""
    query = f"""WITH spans AS (
            SELECT subscription_id, plan_key, valid_from,
                lead(valid_from) OVER (PARTITION BY subscription_id ORDER BY valid_from) AS next_from
            FROM mrr_segments)
        SELECT coalesce(p.plan_key, '') AS key, {_SUMS}
        FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        LEFT JOIN spans p ON p.subscription_id = i.subscription_id AND p.valid_from <= l.period_start
            AND (p.next_from IS NULL OR p.next_from > l.period_start)
        WHERE {_BILLED} GROUP BY 1"""
    return list((await session.execute(text(query), {"currency": currency, "start": start, "end": end})).all())


async def mrr_by_plan(session: AsyncSession, currency: str, at: datetime) -> dict[str, tuple[int, int]]:
    """Per plan: (MRR, paying customers) at the instant."""
    query = """SELECT plan_key, sum(mrr_minor), count(DISTINCT customer_id) FROM mrr_segments
        WHERE currency = :currency AND mrr_minor > 0 AND valid_from < :at AND (valid_to IS NULL OR valid_to >= :at)
        GROUP BY plan_key"""
    rows = await session.execute(text(query), {"currency": currency, "at": at})
    return {plan: (int(mrr), int(customers)) for plan, mrr, customers in rows}


async def customers_page(session: AsyncSession, currency: str | None, after: str | None, limit: int) -> list[Any]:
    query = """SELECT c.id, c.external_id, c.name, c.currency, c.created_at, now_.statuses, now_.plans,
            coalesce(now_.mrr, 0) AS mrr, paid.since
        FROM customers c
        LEFT JOIN LATERAL (SELECT array_agg(DISTINCT s.status) AS statuses,
                array_agg(DISTINCT s.plan_key) FILTER (WHERE s.status <> 'canceled') AS plans, sum(s.mrr_minor) AS mrr
            FROM mrr_segments s WHERE s.customer_id = c.id AND s.valid_to IS NULL) now_ ON true
        LEFT JOIN LATERAL (SELECT min(s.valid_from) AS since FROM mrr_segments s
            WHERE s.customer_id = c.id AND s.mrr_minor > 0) paid ON true
        WHERE (CAST(:currency AS text) IS NULL OR c.currency = :currency)
          AND (CAST(:after AS text) IS NULL OR c.id > :after)
        ORDER BY c.id LIMIT :limit"""
    params = {"currency": currency, "after": after, "limit": limit}
    return list((await session.execute(text(query), params)).all())
