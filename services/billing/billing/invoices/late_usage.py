"""Usage that arrives for a period already invoiced.

Within the grace window (default 72 h after the period's end) it goes on the subscription's next invoice as a
labelled adjustment: once the window is over, the worker settles the period, measuring it again and pricing the
difference from what was invoiced. Usage for a settled period is rejected-late: kept (usage reports count it),
listed for the customer, never billed.

A settlement and the usage consumer take the same per-customer lock (exclusive and shared), so each late event is
either seen by the settlement's measurement or finds the period settled and is rejected, never neither."""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.ids import new_id

from billing.customers.repository import customers_by_id
from billing.invoices import closing
from billing.invoices.models import Invoice, InvoiceLine, LateUsageSettlement, PendingItem, RejectedLateUsage
from billing.plans.models import PlanVersion
from billing.plans.service import plan_charges
from billing.rating import pricing
from billing.subscriptions.models import Subscription
from billing.usage.measuring import measure_each
from billing.usage.window import UsageWindow

SETTLE_BATCH = 200
_CUSTOMER_LOCKS = 7_361_045
ZERO = Decimal(0)
Quantities = dict[tuple[str, str | None], Decimal]  # (meter, group) -> quantity

# New events (inserted by this transaction: recorded_at is its start) for a period that is settled already.
_SETTLED_PERIOD_EVENTS = text("""
SELECT e.customer_id, e.event_id, e.event_type, e.occurred_at, e.recorded_at, i.id, i.customer_id
FROM usage_events e
JOIN customers c ON coalesce(c.external_id, c.id) = e.customer_id
JOIN invoices i ON i.customer_id = c.id AND e.occurred_at >= i.period_start AND e.occurred_at < i.period_end
JOIN late_usage_settlements s ON s.invoice_id = i.id
WHERE e.customer_id = ANY(:keys) AND e.recorded_at = now()
""")
# Customers among `keys` that sent, in this transaction, usage dated before the end of a period they were invoiced.
_LATE_SENDERS = text("""
SELECT DISTINCT c.id
FROM usage_events e
JOIN customers c ON coalesce(c.external_id, c.id) = e.customer_id
WHERE e.customer_id = ANY(:keys) AND e.recorded_at = now()
  AND e.occurred_at < (SELECT max(i.period_end) FROM invoices i
                       WHERE i.customer_id = c.id AND i.usage_plan_version_id IS NOT NULL)
ORDER BY c.id
""")


async def _lock_customers(session: AsyncSession, customer_ids: Sequence[str], *, exclusive: bool) -> None:
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    for customer_id in sorted(customer_ids):
        await session.execute(
            text(f"SELECT {lock}(:space, hashtext(:id))"), {"space": _CUSTOMER_LOCKS, "id": customer_id}
        )


async def reject_settled(session: AsyncSession, usage_keys: Collection[str]) -> int:
    """Called by the usage consumer after recording: keeps each new event for a settled period as rejected-late;
    returns how many. Costs one query when no event is late, the usual case."""
    keys = sorted(usage_keys)
    late_senders = (await session.execute(_LATE_SENDERS, {"keys": keys})).scalars().all()
    if not late_senders:
        return 0
    await _lock_customers(session, late_senders, exclusive=False)
    rows = (await session.execute(_SETTLED_PERIOD_EVENTS, {"keys": keys})).all()
    if rows:
        columns = ("usage_customer_id", "event_id", "event_type", "occurred_at", "recorded_at", "invoice_id")
        values = [dict(zip(columns, row[:6], strict=True)) | {"customer_id": row[6]} for row in rows]
        await session.execute(insert(RejectedLateUsage).values(values).on_conflict_do_nothing())
    return len(rows)


async def settle_due(sessions: async_sessionmaker[AsyncSession], now: datetime, grace: timedelta) -> int:
    """Settles every invoiced period whose grace window is over, a batch per transaction; returns how many."""
    settled = 0
    while True:
        async with sessions() as session, session.begin():
            count = await settle_batch(session, now, grace, SETTLE_BATCH)
        if not count:
            return settled
        settled += count


async def settle_batch(session: AsyncSession, now: datetime, grace: timedelta, limit: int) -> int:
    unsettled = (
        select(Invoice)
        .where(
            Invoice.usage_plan_version_id.is_not(None),
            Invoice.status != "void",
            Invoice.period_end <= now - grace,
            ~select(LateUsageSettlement.invoice_id).where(LateUsageSettlement.invoice_id == Invoice.id).exists(),
        )
        .order_by(Invoice.period_end, Invoice.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    )
    invoices = (await session.execute(unsettled)).scalars().all()
    if not invoices:
        return 0
    customers = await customers_by_id(session, sorted({i.customer_id for i in invoices}))
    await _lock_customers(session, list(customers), exclusive=True)
    plans = {
        p.id: p
        for p in (
            await session.execute(
                select(PlanVersion).where(PlanVersion.id.in_({i.usage_plan_version_id for i in invoices}))
            )
        ).scalars()
    }
    billed = await _billed(session, [i.id for i in invoices])
    windows = {i.id: UsageWindow(customers[i.customer_id].usage_key, i.period_start, i.period_end) for i in invoices}
    meters = sorted({meter for quantities in billed.values() for meter, _ in quantities})
    measured = await measure_each(session, meters, list(windows.values()))
    subscriptions = {
        s.id: s
        for s in (
            await session.execute(
                select(Subscription).where(Subscription.id.in_({i.subscription_id for i in invoices}))
            )
        )
        .unique()
        .scalars()
    }
    ended = {}
    for invoice in invoices:
        now_measured = {
            (meter, group): quantity
            for meter, groups in measured[windows[invoice.id]].items()
            for group, quantity in groups.items()
        }
        plan = plans[invoice.usage_plan_version_id]  # type: ignore[index]
        subscription = subscriptions[invoice.subscription_id]  # type: ignore[index]
        for description, amount in adjustments(plan, invoice, billed.get(invoice.id, {}), now_measured):
            session.add(_adjustment(subscription, invoice, description, amount))
            if subscription.ended_at is not None:
                ended[subscription.id] = (subscription, invoice)
        session.add(LateUsageSettlement(invoice_id=invoice.id, settled_at=now))
    for subscription, invoice in ended.values():  # no next invoice will come: one of its own
        await closing.invoice_pending(session, subscription, customers[invoice.customer_id], invoice.period_end + grace)
    return len(invoices)


def adjustments(plan: PlanVersion, invoice: Invoice, billed: Quantities, measured: Quantities) -> list[tuple[str, int]]:
    """Pure: for each metered charge the invoice priced, the price of what is measured now minus the price of what
    was invoiced (credits that covered units then still cover them), labelled."""
    span = f"{invoice.period_start.date().isoformat()} to {invoice.period_end.date().isoformat()}"
    lines = []
    for charge in plan_charges(plan):
        covered = billed.get((f"credits:{charge.meter}", None), ZERO)
        for meter, group in sorted(k for k in billed.keys() | measured.keys() if k[0] == charge.meter):
            before, after = billed.get((meter, group), ZERO), measured.get((meter, group), ZERO)
            if after == before:
                continue
            take = covered if group is None else ZERO
            amount = (
                pricing.rate(charge, max(ZERO, after - take)).amount_minor
                - pricing.rate(charge, max(ZERO, before - take)).amount_minor
            )
            label = meter if group is None else f"{meter} ({group})"
            lines.append((f"Late usage, {span}: {label} {before} -> {after} units", amount))
    return lines


async def _billed(session: AsyncSession, invoice_ids: Sequence[str]) -> dict[str, Quantities]:
    """What each invoice priced: usage by (meter, group), and the units credits covered as ("credits:<meter>", None)."""
    query = (
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.kind,
            InvoiceLine.meter,
            InvoiceLine.group_key,
            func.sum(InvoiceLine.quantity),
        )
        .where(InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.kind.in_(("usage", "credits")))
        .group_by(InvoiceLine.invoice_id, InvoiceLine.kind, InvoiceLine.meter, InvoiceLine.group_key)
    )
    billed: dict[str, Quantities] = {}
    for invoice_id, kind, meter, group, quantity in (await session.execute(query)).all():
        key = (str(meter), group) if kind == "usage" else (f"credits:{meter}", None)
        billed.setdefault(invoice_id, {})[key] = quantity or ZERO
    return billed


def _adjustment(subscription: Subscription, invoice: Invoice, description: str, amount_minor: int) -> PendingItem:
    """For the subscription's next invoice."""
    return PendingItem(
        id=new_id("ii"),
        subscription_id=subscription.id,
        kind="adjustment",
        description=description,
        amount_minor=amount_minor,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
    )
