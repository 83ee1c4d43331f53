"""Closing billing periods into invoices: the base fee for the next period in advance, the closed period's usage in
arrears (included units, then prepaid credits, then the price), pending proration items, the monetary balance and
tax. The same code previews the open period (upcoming invoice) without writing or consuming anything."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.ids import new_id

from billing.credits import service as credits
from billing.customers.models import Customer
from billing.customers.repository import customers_by_id
from billing.invoices import builder
from billing.invoices.builder import Line
from billing.invoices.models import Invoice, InvoiceLine, PendingItem
from billing.plans.models import PlanVersion
from billing.plans.schemas import Charge
from billing.plans.service import rating_charge
from billing.rating.periods import Period, period_at
from billing.rating.proration import ProrationLine
from billing.subscriptions import repository as subscriptions
from billing.subscriptions.events import announce, terms_of
from billing.subscriptions.models import Subscription
from billing.usage.measuring import Measured, measure_each
from billing.usage.window import UsageWindow

DUE_BATCH = 200
Usage = Mapping[str, Mapping[str | None, Decimal]]  # one window's usage: meter key -> group -> quantity
TICK = timedelta(microseconds=1)


def add_proration(session: AsyncSession, subscription: Subscription, line: ProrationLine, at: datetime) -> None:
    """Waits for the subscription's next invoice."""
    period = Period(at, subscription.current_period_end)
    session.add(
        PendingItem(
            id=new_id("ii"),
            subscription_id=subscription.id,
            kind="proration",
            description=line.description,
            amount_minor=line.amount_minor,
            period_start=period.start,
            period_end=period.end,
        )
    )


async def close_due(sessions: async_sessionmaker[AsyncSession], now: datetime, batch: int = DUE_BATCH) -> int:
    """Closes every period ended by `now`, a batch per transaction, until none is left; returns how many."""
    closed = 0
    while True:
        async with sessions() as session, session.begin():
            count = await close_batch(session, now, batch)
        if not count:
            return closed
        closed += count


async def close_batch(session: AsyncSession, now: datetime, limit: int) -> int:
    due = await subscriptions.lock_due(session, now, limit)
    if not due:
        return 0
    customers = await customers_by_id(session, sorted({s.customer_id for s in due}))
    usage_windows = {
        s.id: UsageWindow(customers[s.customer_id].usage_key, s.current_period_start, s.current_period_end)
        for s in due
        if s.status != "trialing"
    }
    measured = await _measure(session, [s.plan for s in due], list(usage_windows.values()))
    for subscription in due:
        usage = measured.get(usage_windows[subscription.id], {}) if subscription.id in usage_windows else {}
        await _close_period(session, subscription, customers[subscription.customer_id], usage)
    return len(due)


async def invoice_first_period(session: AsyncSession, subscription: Subscription, customer: Customer) -> Invoice:
    """The base fee of the first period, in advance, when the subscription starts (or its trial ends)."""
    period = Period(subscription.current_period_start, subscription.current_period_end)
    plan = subscription.plan
    invoice = await _open(session, customer, subscription, period.start, period)
    lines = [builder.base_fee(plan.name, plan.base_price_minor, period)] if plan.base_price_minor else []
    return await _finish(session, invoice, customer, lines)


async def close_now(session: AsyncSession, subscription: Subscription, customer: Customer, now: datetime) -> Invoice:
    """Ends the subscription now: a final invoice for the usage so far and any pending items, no further fee."""
    end = max(now, subscription.current_period_start + TICK)
    period = Period(subscription.current_period_start, end)
    invoice = await _open(session, customer, subscription, now, period)
    lines: list[Line] = []
    if subscription.status != "trialing":
        window = _window(customer, period)
        usage = (await _measure(session, [subscription.plan], [window]))[window]
        lines += await _usage(
            session, invoice.id, customer, subscription.plan, period=period, usage=usage, preview=False
        )
    lines += await _take_pending(session, subscription, invoice.id)
    _end(subscription, now)
    return await _finish(session, invoice, customer, lines)


async def upcoming(session: AsyncSession, subscription: Subscription, customer: Customer, now: datetime) -> Invoice:
    """What closing the open period would invoice if its usage stopped now, as an invoice never added to the
    session (status `upcoming`, no id); writes and consumes nothing."""
    period = Period(subscription.current_period_start, subscription.current_period_end)
    lines: list[Line] = []
    measured_until = min(max(now, period.start), period.end)
    if subscription.status != "trialing" and measured_until > period.start:
        measured = Period(period.start, measured_until)
        window = _window(customer, measured)
        usage = (await _measure(session, [subscription.plan], [window]))[window]
        lines += await _usage(session, None, customer, subscription.plan, period=period, usage=usage, preview=True)
    lines += [_pending_line(item) for item in await _pending(session, subscription, lock=False)]
    lines += _next_fee(subscription)
    credits_applied = await _balance(session, None, customer, lines, preview=True)
    invoice = _draft(customer, subscription, subscription.current_period_end, period)
    invoice.id, invoice.status = None, "upcoming"  # type: ignore[assignment]  # never stored
    _complete(invoice, lines, credits_applied)
    return invoice


async def _close_period(session: AsyncSession, subscription: Subscription, customer: Customer, usage: Usage) -> Invoice:
    boundary = subscription.current_period_end
    period = Period(subscription.current_period_start, boundary)
    invoice = await _open(session, customer, subscription, boundary, period)
    previous = terms_of(subscription.plan, subscription.status)
    lines: list[Line] = []
    if subscription.status != "trialing":
        lines += await _usage(
            session, invoice.id, customer, subscription.plan, period=period, usage=usage, preview=False
        )
    lines += await _take_pending(session, subscription, invoice.id)
    lines += _next_fee(subscription)
    if subscription.cancel_at_period_end:
        _end(subscription, boundary)
        change: str | None = "canceled"
    else:
        change = _advance(subscription)
    await _finish(session, invoice, customer, lines)
    if change:
        await session.refresh(subscription)
        await announce(session, subscription, change, effective_at=boundary, previous=previous)  # type: ignore[arg-type]
    return invoice


def _next_fee(subscription: Subscription) -> list[Line]:
    if subscription.cancel_at_period_end:
        return []
    plan = subscription.scheduled_plan or subscription.plan
    period = period_at(subscription.billing_anchor, plan.interval, subscription.current_period_end)  # type: ignore[arg-type]
    return [builder.base_fee(plan.name, plan.base_price_minor, period)] if plan.base_price_minor else []


def _advance(subscription: Subscription) -> str | None:
    """Into the next period; returns the change it makes visible (None for a plain renewal)."""
    change = None
    plan = subscription.scheduled_plan or subscription.plan
    if subscription.scheduled_plan_version_id:
        subscription.plan_version_id = subscription.scheduled_plan_version_id
        subscription.scheduled_plan_version_id = None
        change = "plan_changed"
    if subscription.status == "trialing":
        subscription.status = "active"
        change = change or "status_changed"
    period = period_at(subscription.billing_anchor, plan.interval, subscription.current_period_end)  # type: ignore[arg-type]
    subscription.current_period_start, subscription.current_period_end = period.start, period.end
    subscription.updated_at = period.start
    return change


def _end(subscription: Subscription, at: datetime) -> None:
    subscription.status = "canceled"
    subscription.ended_at = at
    subscription.canceled_at = subscription.canceled_at or at
    subscription.updated_at = at


def _window(customer: Customer, period: Period) -> UsageWindow:
    return UsageWindow(customer.usage_key, period.start, period.end)


async def _measure(session: AsyncSession, plans: Sequence[PlanVersion], windows: Sequence[UsageWindow]) -> Measured:
    meters = sorted({charge["meter"] for plan in plans for charge in plan.charges})
    return await measure_each(session, meters, windows)


async def _usage(
    session: AsyncSession,
    invoice_id: str | None,
    customer: Customer,
    plan: PlanVersion,
    *,
    period: Period,
    usage: Usage,
    preview: bool,
) -> list[Line]:
    lines: list[Line] = []
    for stored in plan.charges:
        charge = rating_charge(Charge.model_validate(stored))
        measured = usage.get(charge.meter, {})
        wanted = builder.billable_units(charge, measured)
        covered = Decimal(0)
        if wanted > 0:
            covered = await credits.consume_units(
                session, customer.id, charge.meter, wanted, period.end - TICK, invoice_id, preview=preview
            )
        lines += builder.usage_lines(charge, measured, covered, period)
    return lines


async def _pending(session: AsyncSession, subscription: Subscription, *, lock: bool) -> Sequence[PendingItem]:
    query = (
        select(PendingItem)
        .where(PendingItem.subscription_id == subscription.id, PendingItem.invoice_id.is_(None))
        .order_by(PendingItem.created_at, PendingItem.id)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().all()


def _pending_line(item: PendingItem) -> Line:
    return Line(item.kind, item.description, item.amount_minor, Period(item.period_start, item.period_end))


async def _take_pending(session: AsyncSession, subscription: Subscription, invoice_id: str) -> list[Line]:
    items = await _pending(session, subscription, lock=True)
    for item in items:
        item.invoice_id = invoice_id
    return [_pending_line(item) for item in items]


async def _balance(
    session: AsyncSession, invoice_id: str | None, customer: Customer, lines: Sequence[Line], *, preview: bool
) -> int:
    owed = sum(line.amount_minor for line in lines)
    return await credits.apply_balance(session, customer.id, owed, invoice_id, preview=preview) if owed > 0 else 0


def _draft(customer: Customer, subscription: Subscription, boundary: datetime, period: Period) -> Invoice:
    return Invoice(
        id=new_id("inv"),
        customer_id=customer.id,
        subscription_id=subscription.id,
        boundary=boundary,
        status="draft",
        currency=subscription.plan.currency,
        period_start=period.start,
        period_end=period.end,
        tax_rate=customer.tax_rate,
        subtotal_minor=0,
        credits_applied_minor=0,
        tax_minor=0,
        total_minor=0,
        lines=[],
    )


async def _open(
    session: AsyncSession, customer: Customer, subscription: Subscription, boundary: datetime, period: Period
) -> Invoice:
    """The invoice row first, so what it consumes (credits, pending items) can refer to it."""
    invoice = _draft(customer, subscription, boundary, period)
    session.add(invoice)
    await session.flush()
    return invoice


def _complete(invoice: Invoice, lines: Sequence[Line], credits_applied_minor: int) -> None:
    totals = builder.totals(lines, credits_applied_minor, invoice.tax_rate)
    invoice.subtotal_minor = totals.subtotal_minor
    invoice.credits_applied_minor = totals.credits_applied_minor
    invoice.tax_minor = totals.tax_minor
    invoice.total_minor = totals.total_minor
    invoice.lines.extend(
        InvoiceLine(
            position=position,
            kind=line.kind,
            description=line.description,
            meter=line.meter,
            group_key=line.group,
            quantity=line.quantity,
            amount_minor=line.amount_minor,
            period_start=line.period.start,
            period_end=line.period.end,
        )
        for position, line in enumerate(lines, start=1)
    )


async def _finish(session: AsyncSession, invoice: Invoice, customer: Customer, lines: Sequence[Line]) -> Invoice:
    _complete(invoice, lines, await _balance(session, invoice.id, customer, lines, preview=False))
    await session.flush()
    return invoice
