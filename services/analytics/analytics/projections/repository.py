"""All SQL that writes the billing projections."""

import io
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Table, case, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

from analytics.projections.models import (
    PROJECTIONS,
    applied_events,
    customer_mrr_months,
    customers,
    invoice_lines,
    invoices,
    mrr_segments,
    payments,
    revenue_months,
    subscription_changes,
)
from analytics.projections.segments import Change, MonthMove, Segment

Row = Mapping[str, Any]


async def claim_new(session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
    """Records the ids; returns those not applied before."""
    if not event_ids:
        return set()
    result = await session.execute(
        text(
            "INSERT INTO billing_events_applied (event_id) SELECT unnest(CAST(:ids AS text[])) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"ids": list(event_ids)},
    )
    return set(result.scalars().all())


async def lock_customers(session: AsyncSession, customer_ids: Sequence[str]) -> None:
    """Serializes applying one customer's events across concurrent transactions, for the rest of the transaction;
    taken at once, in one order: no deadlock. (A rebuild holds every consumer off instead: lock_out_consumers.)"""
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM "
            "(SELECT DISTINCT hashtextextended(c, 6) AS k FROM unnest(CAST(:ids AS text[])) c ORDER BY k) s"
        ),
        {"ids": list(customer_ids)},
    )


async def upsert_customers(session: AsyncSession, rows: Sequence[Row]) -> None:
    """Rows: one per customer. The newest `updated_at` wins; `created_at` is the earliest seen, whatever order the
    states come in."""
    if not rows:
        return
    statement = pg_insert(customers)
    excluded = statement.excluded
    newer = customers.c.updated_at <= excluded.updated_at
    latest = ("external_id", "name", "email", "currency", "metadata", "updated_at")
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[customers.c.id],
            set_={name: case((newer, excluded[name]), else_=customers.c[name]) for name in latest}
            | {"created_at": func.least(customers.c.created_at, excluded.created_at)},
        ),
        list(rows),
    )


async def insert_changes(session: AsyncSession, rows: Sequence[Row]) -> None:
    if rows:
        await session.execute(pg_insert(subscription_changes).on_conflict_do_nothing(), list(rows))


async def changes_of(session: AsyncSession, customer_ids: Sequence[str]) -> list[Change]:
    c = subscription_changes.c
    query = select(
        c.event_id,
        c.subscription_id,
        c.customer_id,
        c.currency,
        c.status,
        c.plan_key,
        c.interval,
        c.mrr_minor,
        c.cancel_at_period_end,
        c.effective_at,
        c.event_time,
    ).where(c.customer_id.in_(customer_ids))
    return [Change(*row) for row in (await session.execute(query)).all()]


async def replace_derived(
    session: AsyncSession, customer_ids: Sequence[str], segments: Sequence[Segment], moves: Sequence[MonthMove]
) -> None:
    await session.execute(delete(mrr_segments).where(mrr_segments.c.customer_id.in_(customer_ids)))
    await session.execute(delete(customer_mrr_months).where(customer_mrr_months.c.customer_id.in_(customer_ids)))
    if segments:
        await session.execute(insert(mrr_segments), [vars(s) for s in segments])
    if moves:
        await session.execute(insert(customer_mrr_months), [vars(m) for m in moves])


async def invoice_statuses(session: AsyncSession, invoice_ids: Sequence[str]) -> dict[str, str]:
    query = select(invoices.c.id, invoices.c.status).where(invoices.c.id.in_(invoice_ids))
    return {row.id: row.status for row in (await session.execute(query)).all()}


async def add_revenue(session: AsyncSession, amounts: Mapping[tuple[str, date, str], int]) -> None:
    """Adds (or, negative, takes away) amounts per (currency, month, kind)."""
    rows = [{"currency": c, "month": m, "kind": k, "amount_minor": a} for (c, m, k), a in amounts.items() if a]
    if rows:
        statement = pg_insert(revenue_months)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[revenue_months.c.currency, revenue_months.c.month, revenue_months.c.kind],
                set_={"amount_minor": revenue_months.c.amount_minor + statement.excluded.amount_minor},
            ),
            rows,
        )


async def upsert_invoices(session: AsyncSession, rows: Sequence[Row], lines: Sequence[Row]) -> None:
    """Rows: one per invoice; a later status (by `changed_at`) replaces an earlier one. Lines never change."""
    if rows:
        statement = pg_insert(invoices)
        excluded = statement.excluded
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[invoices.c.id],
                set_={"status": excluded.status, "changed_at": excluded.changed_at},
                where=invoices.c.changed_at <= excluded.changed_at,
            ),
            list(rows),
        )
    if lines:
        await session.execute(pg_insert(invoice_lines).on_conflict_do_nothing(), list(lines))


async def insert_payments(session: AsyncSession, rows: Sequence[Row]) -> None:
    if rows:
        await session.execute(pg_insert(payments).on_conflict_do_nothing(), list(rows))


async def relax_commit(session: AsyncSession) -> None:
    """This transaction's commit need not wait for the disk: a rebuild that dies is simply run again."""
    await session.execute(text("SET LOCAL synchronous_commit = off"))


async def truncate_all(session: AsyncSession) -> None:
    await session.execute(text(f"TRUNCATE {_names(PROJECTIONS)}"))


async def analyze_all(session: AsyncSession) -> None:
    """Fresh planner statistics after a bulk write, without waiting for autovacuum (which may be off)."""
    await session.execute(text(f"ANALYZE {_names(PROJECTIONS)}"))


def _names(tables: Iterable[Table]) -> str:
    return ", ".join(table.name for table in tables)


# Each index of the projections: the statement that drops it and the one that builds it again.
_INDEXES = """
SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, t.relname, c.conname),
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, t.relname, c.conname, pg_get_constraintdef(c.oid))
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND c.contype IN ('p', 'u')
UNION ALL
SELECT format('DROP INDEX %I.%I', n.nspname, i.relname), pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = ANY($2::text[])
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""


@asynccontextmanager
async def indexes_built_after(session: AsyncSession) -> AsyncIterator[None]:
    """Drops the projections' indexes, primary keys included, and builds them again at the end: sorting the rows
    written into a new index is far cheaper than growing it row by row (and a key written twice still fails the
    transaction). In the caller's transaction, on emptied tables."""
    connection = await asyncpg_connection(session)
    indexes = await connection.fetch(_INDEXES, customers.schema, [table.name for table in PROJECTIONS])
    for drop, _ in indexes:
        await connection.execute(drop)
    yield
    await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, build in indexes:
        await connection.execute(build)


async def counts(session: AsyncSession) -> dict[str, int]:
    result = {}
    for table in PROJECTIONS:
        if table is not applied_events:
            result[table.name] = int((await session.execute(text(f"SELECT count(*) FROM {table.name}"))).scalar_one())
    return result


async def lock_out_consumers(session: AsyncSession) -> None:
    """Until the transaction ends, no other transaction applies an event (each first claims it), while reads go
    on."""
    await session.execute(text("LOCK TABLE billing_events_applied IN EXCLUSIVE MODE"))


async def database_now(session: AsyncSession) -> datetime:
    now: datetime = (await session.execute(text("SELECT now()"))).scalar_one()
    return now


async def applied_since(session: AsyncSession, moment: datetime) -> set[str]:
    """The events applied by transactions that began at `moment` or later."""
    query = select(applied_events.c.event_id).where(applied_events.c.applied_at >= moment)
    return set((await session.execute(query)).scalars().all())


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


async def copy_strings(session: AsyncSession, table: Table, column: str, values: Sequence[str]) -> None:
    """COPY one text column in COPY's text format, one line per value, encoded at once (far cheaper than a record
    per value)."""
    lines = "\n".join(values) + "\n" if values else ""
    if lines.count("\n") != len(values) or any(special in lines for special in "\\\r\t"):
        lines = "".join(f"{value.translate(_COPY_ESCAPES)}\n" for value in values)
    connection = await asyncpg_connection(session)
    await connection.copy_to_table(
        table.name, source=io.BytesIO(lines.encode()), columns=[column], schema_name=table.schema, format="text"
    )


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Iterable[tuple[Any, ...]]
) -> None:
    """COPY into `table` (the rebuild's bulk write into emptied tables)."""
    connection = await asyncpg_connection(session)
    await connection.copy_records_to_table(table.name, records=records, columns=columns, schema_name=table.schema)
