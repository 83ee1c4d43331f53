"""Closing billing periods into invoices: the base fee for the next period in advance, the closed period's usage in
arrears (included units, then prepaid credits, then the price), pending proration items, the monetary balance and
tax. The same code previews the open period (upcoming invoice) without writing or consuming anything.

Invoices are written a batch of subscriptions at a time: what the batch needs (usage, pending items, who holds
credits, each plan's charges) is read with a few set-based statements, not per subscription, and the batch's
rows are flushed together."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.ids import new_id

from billing.credits import service as credits
from billing.customers.models import Customer
from billing.customers.repository import customers_by_id
from billing.invoices import builder
from billing.invoices import service as invoices
from billing.invoices.builder import Line
from billing.invoices.models import Invoice, InvoiceLine, PendingItem
from billing.plans.models import PlanVersion
from billing.plans.service import plan_charges
from billing.rating import pricing
from billing.rating.periods import Period, period_at
from billing.rating.proration import ProrationLine
from billing.subscriptions import repository as subscriptions
from billing.subscriptions.events import announce, terms_of
from billing.subscriptions.models import Subscription
from billing.usage.measuring import Measured, measure_each
from billing.usage.window import UsageWindow

DUE_BATCH = 200
TICK = timedelta(microseconds=1)
Usage = Mapping[str, Mapping[str | None, Decimal]]  # one window's usage: meter key -> group -> quantity


@dataclass(frozen=True)
class Batch:
    """What the invoices written together read once."""

    holders: credits.Holders
    pending: Mapping[str, Sequence[PendingItem]]  # by subscription id
    charges: Mapping[str, Sequence[pricing.Charge]]  # by plan version id
    preview: bool


@dataclass(frozen=True)
class Draft:
    """An invoice ready to write: its row, its lines' rows and the pending items it takes."""

    invoice: dict[str, Any]
    lines: list[dict[str, Any]]
    items: Sequence[PendingItem]

    def as_invoice(self) -> Invoice:
        """A transient Invoice (never added to a session), for answering with what would be written."""
        return Invoice(**self.invoice, lines=[InvoiceLine(**line) for line in self.lines])


def add_proration(session: AsyncSession, subscription: Subscription, line: ProrationLine, at: datetime) -> None:
    """Waits for the subscription's next invoice."""
    session.add(
        PendingItem(
            id=new_id("ii"),
            subscription_id=subscription.id,
            kind="proration",
            description=line.description,
            amount_minor=line.amount_minor,
            period_start=at,
            period_end=subscription.current_period_end,
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
    windows = {
        s.id: _window(customers[s.customer_id], Period(s.current_period_start, s.current_period_end))
        for s in due
        if s.status != "trialing"
    }
    measured = await _measure(session, [s.plan for s in due], list(windows.values()))
    batch = await _read_batch(session, due, max(s.current_period_end for s in due) - TICK, preview=False)
    written = []
    drafts = []
    for subscription in due:
        customer = customers[subscription.customer_id]
        usage = measured[windows[subscription.id]] if subscription.id in windows else {}
        written.append(
            (subscription, terms_of(subscription.plan, subscription.status), subscription.current_period_end)
        )
        drafts.append(await _close_period(session, subscription, customer, usage, batch))
    await _store(session, drafts)
    await session.flush()
    for subscription, previous, boundary in written:
        if change := _change(subscription, previous.status):
            await session.refresh(subscription)
            await announce(session, subscription, change, effective_at=boundary, previous=previous)  # type: ignore[arg-type]
    return len(due)


async def invoice_first_period(session: AsyncSession, subscription: Subscription, customer: Customer) -> None:
    """The base fee of the first period, in advance, when the subscription starts."""
    period = Period(subscription.current_period_start, subscription.current_period_end)
    plan = subscription.plan
    lines = [builder.base_fee(plan.name, plan.base_price_minor, period)] if plan.base_price_minor else []
    batch = await _read_batch(session, [subscription], period.start, preview=False)
    await _store(session, [await _invoice(session, customer, subscription, None, period, lines, batch)])


async def close_now(session: AsyncSession, subscription: Subscription, customer: Customer, now: datetime) -> None:
    """Ends the subscription now: a final invoice for the usage so far and any pending items, no further fee."""
    period = Period(subscription.current_period_start, max(now, subscription.current_period_start + TICK))
    batch = await _read_batch(session, [subscription], period.end - TICK, preview=False)
    invoice_id = new_id("inv")
    lines = await _lines(session, invoice_id, subscription, customer, period, period, batch)
    priced_by = None if subscription.status == "trialing" else subscription.plan.id
    _end(subscription, now)
    draft = await _invoice(session, customer, subscription, None, period, lines, batch, invoice_id, priced_by)
    await _store(session, [draft])


async def restart(
    session: AsyncSession, subscription: Subscription, customer: Customer, at: datetime, plan: PlanVersion
) -> None:
    """Moves the subscription onto `plan` from `at`, with periods anchored there (a change between monthly and
    yearly): an invoice now for the usage so far on the old plan, the pending items (the old plan's unused time among
    them) and the new plan's first period in advance."""
    period = Period(subscription.current_period_start, max(at, subscription.current_period_start + TICK))
    batch = await _read_batch(session, [subscription], period.end - TICK, preview=False)
    invoice_id = new_id("inv")
    lines = await _lines(session, invoice_id, subscription, customer, period, period, batch)
    priced_by = subscription.plan.id  # the old plan, which priced the usage so far
    first = period_at(at, plan.interval, at)  # type: ignore[arg-type]
    lines += [builder.base_fee(plan.name, plan.base_price_minor, first)] if plan.base_price_minor else []
    draft = await _invoice(session, customer, subscription, None, period, lines, batch, invoice_id, priced_by)
    await _store(session, [draft])
    subscription.plan_version_id, subscription.scheduled_plan_version_id = plan.id, None
    subscription.billing_anchor = at
    subscription.current_period_start, subscription.current_period_end = first.start, first.end


async def invoice_pending(session: AsyncSession, subscription: Subscription, customer: Customer, at: datetime) -> None:
    """An invoice of the subscription's pending items alone, at `at`: for an ended subscription, which has no next
    invoice to carry them."""
    batch = await _read_batch(session, [subscription], at, preview=False)
    lines = [_pending_line(item) for item in batch.pending.get(subscription.id, ())]
    if lines:
        period = Period(min(line.period.start for line in lines), max(line.period.end for line in lines))
        await _store(session, [await _invoice(session, customer, subscription, at, period, lines, batch)])


async def upcoming(session: AsyncSession, subscription: Subscription, customer: Customer, now: datetime) -> Invoice:
    """What closing the open period would invoice if its usage stopped now, as an invoice never added to the
    session (status `upcoming`, no id); writes and consumes nothing."""
    period = Period(subscription.current_period_start, subscription.current_period_end)
    measured = Period(period.start, min(max(now, period.start + TICK), period.end))
    batch = await _read_batch(session, [subscription], period.end - TICK, preview=True)
    lines = await _lines(session, None, subscription, customer, period, measured, batch)
    draft = await _invoice(session, customer, subscription, period.end, period, lines + _next_fee(subscription), batch)
    draft.invoice.update(id=None, status="upcoming")
    return draft.as_invoice()


async def _close_period(
    session: AsyncSession, subscription: Subscription, customer: Customer, usage: Usage, batch: Batch
) -> Draft:
    boundary = subscription.current_period_end
    period = Period(subscription.current_period_start, boundary)
    invoice_id = new_id("inv")
    priced_by = None if subscription.status == "trialing" else subscription.plan
    lines: list[Line] = []
    if priced_by:
        lines += await _usage_lines(session, invoice_id, customer, priced_by, period, usage, batch)
    lines += [_pending_line(item) for item in batch.pending.get(subscription.id, ())]
    lines += _next_fee(subscription)
    if subscription.cancel_at_period_end:
        _end(subscription, boundary)
    else:
        _advance(subscription)
    return await _invoice(
        session, customer, subscription, boundary, period, lines, batch, invoice_id, priced_by.id if priced_by else None
    )


async def _read_batch(session: AsyncSession, subs: Sequence[Subscription], at: datetime, *, preview: bool) -> Batch:
    customer_ids = sorted({s.customer_id for s in subs})
    plans = {s.plan.id: s.plan for s in subs}
    pending: dict[str, list[PendingItem]] = {}
    for item in await _pending(session, [s.id for s in subs], lock=not preview):
        pending.setdefault(item.subscription_id, []).append(item)
    return Batch(
        holders=await credits.holders(session, customer_ids, at),
        pending=pending,
        charges={plan_id: plan_charges(plan) for plan_id, plan in plans.items()},
        preview=preview,
    )


async def _lines(  # noqa: PLR0917 (what one invoice is made of)
    session: AsyncSession,
    invoice_id: str | None,
    subscription: Subscription,
    customer: Customer,
    period: Period,
    measured: Period,
    batch: Batch,
) -> list[Line]:
    """Usage over `measured` (free while trialing) priced for `period`, then the pending items."""
    lines: list[Line] = []
    if subscription.status != "trialing":
        window = _window(customer, measured)
        usage = (await _measure(session, [subscription.plan], [window]))[window]
        lines += await _usage_lines(session, invoice_id, customer, subscription.plan, period, usage, batch)
    return lines + [_pending_line(item) for item in batch.pending.get(subscription.id, ())]


def _next_fee(subscription: Subscription) -> list[Line]:
    if subscription.cancel_at_period_end:
        return []
    plan = subscription.scheduled_plan or subscription.plan
    period = period_at(subscription.billing_anchor, plan.interval, subscription.current_period_end)  # type: ignore[arg-type]
    return [builder.base_fee(plan.name, plan.base_price_minor, period)] if plan.base_price_minor else []


def _advance(subscription: Subscription) -> None:
    """Into the next period, on the scheduled plan if one waits, active after a trial."""
    plan = subscription.scheduled_plan or subscription.plan
    if subscription.scheduled_plan_version_id:
        subscription.plan_version_id = subscription.scheduled_plan_version_id
        subscription.scheduled_plan_version_id = None
    if subscription.status == "trialing":
        subscription.status = "active"
    period = period_at(subscription.billing_anchor, plan.interval, subscription.current_period_end)  # type: ignore[arg-type]
    subscription.current_period_start, subscription.current_period_end = period.start, period.end
    subscription.updated_at = period.start


def _change(subscription: Subscription, status: str) -> str | None:
    """What closing the period made visible (None for a plain renewal); `plan` is still the loaded old plan."""
    if subscription.status == "canceled":
        return "canceled"
    if subscription.plan_version_id != subscription.plan.id:
        return "plan_changed"
    return "status_changed" if subscription.status != status else None


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


async def _usage_lines(  # noqa: PLR0917 (what one invoice's usage is priced from)
    session: AsyncSession,
    invoice_id: str | None,
    customer: Customer,
    plan: PlanVersion,
    period: Period,
    usage: Usage,
    batch: Batch,
) -> list[Line]:
    lines: list[Line] = []
    for charge in batch.charges[plan.id]:
        measured = usage.get(charge.meter, {})
        wanted = builder.billable_units(charge, measured)
        covered = Decimal(0)
        if wanted > 0 and (customer.id, charge.meter) in batch.holders.units:
            covered = await credits.consume_units(
                session, customer.id, charge.meter, wanted, period.end - TICK, invoice_id, preview=batch.preview
            )
        lines += builder.usage_lines(charge, measured, covered, period)
    return lines


async def _pending(session: AsyncSession, subscription_ids: Sequence[str], *, lock: bool) -> Sequence[PendingItem]:
    query = (
        select(PendingItem)
        .where(PendingItem.subscription_id.in_(subscription_ids), PendingItem.invoice_id.is_(None))
        .order_by(PendingItem.created_at, PendingItem.id)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().all()


def _pending_line(item: PendingItem) -> Line:
    return Line(item.kind, item.description, item.amount_minor, Period(item.period_start, item.period_end))


async def invoice_one_off(session: AsyncSession, customer: Customer, lines: Sequence[Line], now: datetime) -> Invoice:
    """A purchase outside any subscription (a credit pack), finalized at once so it can be paid now. The customer's
    monetary balance pays for it first, as for any invoice."""
    batch = Batch(await credits.holders(session, [customer.id], now), {}, {}, preview=False)
    draft = await _invoice(session, customer, None, None, Period(now, now + TICK), lines, batch)
    await _store(session, [draft])
    return await invoices.finalize(session, await invoices.get_invoice(session, draft.invoice["id"]), now)


async def _invoice(  # noqa: PLR0917 (the invoice's parts)
    session: AsyncSession,
    customer: Customer,
    subscription: Subscription | None,
    boundary: datetime | None,
    period: Period,
    lines: Sequence[Line],
    batch: Batch,
    invoice_id: str | None = None,
    priced_by: str | None = None,
) -> Draft:
    """The invoice, complete: lines, monetary balance (taken unless previewing), tax and totals. `priced_by`: the
    plan version that priced its usage, if any."""
    invoice_id = invoice_id or new_id("inv")
    owed = sum(line.amount_minor for line in lines)
    credits_applied = 0
    if owed > 0 and customer.id in batch.holders.balance:
        credits_applied = await credits.apply_balance(session, customer.id, owed, invoice_id, preview=batch.preview)
    totals = builder.totals(lines, credits_applied, customer.tax_rate)
    invoice = {
        "id": invoice_id,
        "customer_id": customer.id,
        "subscription_id": subscription and subscription.id,
        "boundary": boundary,
        "usage_plan_version_id": priced_by,
        "status": "draft",
        "currency": subscription.plan.currency if subscription else customer.currency,
        "period_start": period.start,
        "period_end": period.end,
        "tax_rate": customer.tax_rate,
        "subtotal_minor": totals.subtotal_minor,
        "credits_applied_minor": totals.credits_applied_minor,
        "tax_minor": totals.tax_minor,
        "total_minor": totals.total_minor,
    }
    rows = [
        {
            "invoice_id": invoice_id,
            "position": position,
            "kind": line.kind,
            "description": line.description,
            "meter": line.meter,
            "group_key": line.group,
            "quantity": line.quantity,
            "amount_minor": line.amount_minor,
            "period_start": line.period.start,
            "period_end": line.period.end,
        }
        for position, line in enumerate(lines, start=1)
    ]
    pending = () if batch.preview or subscription is None else batch.pending.get(subscription.id, ())
    return Draft(invoice, rows, pending)


async def _store(session: AsyncSession, drafts: Sequence[Draft]) -> None:
    """All the drafts in three statements (the ORM's unit of work per object is what a large close spent its time
    on), then each taken pending item pointed at its invoice."""
    if not drafts:
        return
    # Core inserts: every row has every key, so each table is one executemany (the ORM's bulk insert would split
    # the batch wherever a row's None fields differ from the row before).
    await session.execute(insert(cast(Table, Invoice.__table__)), [draft.invoice for draft in drafts])
    lines = [line for draft in drafts for line in draft.lines]
    if lines:
        await session.execute(insert(cast(Table, InvoiceLine.__table__)), lines)
    for draft in drafts:
        for item in draft.items:
            item.invoice_id = draft.invoice["id"]
