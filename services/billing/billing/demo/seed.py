"""Writes a story (story.py) through billing's use cases, stepping a clock from its first day to now: periods close,
invoices are finalized and paid (a few fail first: dunning, recovery or cancellation) at the moments they would
have been, and every change reaches the outbox with its own time, as a live system would have written it."""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.customers import service as customers
from billing.customers.schemas import CustomerIn
from billing.demo.story import Step, Story
from billing.invoices import closing
from billing.invoices import repository as invoice_repository
from billing.invoices import service as invoices
from billing.invoices.models import Invoice
from billing.payment import collection
from billing.payment.dunning import Policy
from billing.payment.models import Collection
from billing.plans import repository as plan_repository
from billing.subscriptions import repository as subscription_repository
from billing.subscriptions import service as subscriptions
from billing.subscriptions.schemas import CancelIn, ChangePlanIn, SubscriptionIn

FAILED_PAYMENTS = 0.04  # of invoices, declined at first
RECOVERED = 0.7  # of those, paid at the first retry; the rest stay unpaid until the grace period ends
TICK = timedelta(days=7)  # between steps, the clock moves a week at a time: the worker's runs, coarsely
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
_WORDS = (
    "North",
    "Blue",
    "Bright",
    "Quantum",
    "Cedar",
    "Atlas",
    "Nimbus",
    "Harbor",
    "Summit",
    "Pixel",
    "Iron",
    "Lumen",
)
_KINDS = ("Labs", "Analytics", "Health", "Logistics", "Studio", "Systems", "Foods", "Finance", "Robotics", "Media")


@dataclass
class Tally:
    """What the seeding did."""

    steps: int = 0
    refused: list[str] = field(default_factory=list)  # steps billing refused, with why
    after_dunning: int = 0  # changes and cancellations skipped: dunning had already ended the subscription
    invoices: int = 0
    declined: set[str] = field(default_factory=set)  # invoices whose first payment failed


async def plans_exist(sessions: async_sessionmaker[AsyncSession], story: Story) -> bool:
    """Whether every plan the story subscribes to is in the catalog (the demo makes them through the API)."""
    wanted = {step.plan_key for step in story.steps if step.plan_key}
    async with sessions() as session:
        return all([await plan_repository.latest_version(session, key) is not None for key in wanted])


async def seeded(sessions: async_sessionmaker[AsyncSession], story: Story) -> bool:
    async with sessions() as session:
        try:
            await customers.get_customer(session, story.customers[0])
        except customers.UnknownCustomer:
            return False
        return True


async def write(sessions: async_sessionmaker[AsyncSession], story: Story, policy: Policy, now: datetime) -> Tally:
    done = Tally()
    pending = list(story.steps)
    clock = story.start
    while clock < now:
        until = min(clock + TICK, now)
        while pending and pending[0].at < until:
            step = pending.pop(0)
            await _advance(sessions, policy, step.at, done)
            await _apply(sessions, step, done)
        await _advance(sessions, policy, until, done)
        clock = until
    return done


async def _apply(sessions: async_sessionmaker[AsyncSession], step: Step, done: Tally) -> None:
    done.steps += 1
    async with sessions() as session, session.begin():
        try:
            if step.action == "subscribe":
                await _customer(session, step)
                data = SubscriptionIn(
                    customer_id=step.customer,
                    plan_key=step.plan_key or "",
                    start_date=step.at,
                    trial_days=None if step.trial else 0,
                )
                await subscriptions.create_subscription(session, data, step.at)
                return
            customer_id = await _customer_id(session, step)
            live = await subscription_repository.live_subscription_ids(session, customer_id)
            if not live and await _ended_by_dunning(session, customer_id):
                done.after_dunning += 1  # the story does not know its payments failed; the customer is gone
                return
            if not live:
                raise subscriptions.Refused("customer", "has no live subscription")
            if step.action == "change":
                await subscriptions.change_plan(session, live[0], ChangePlanIn(plan_key=step.plan_key or ""), step.at)
            else:
                await subscriptions.cancel(session, live[0], CancelIn(at_period_end=step.at_period_end), step.at)
        except subscriptions.Refused as refused:
            await session.rollback()
            done.refused.append(f"{step.customer} {step.action} at {step.at:%Y-%m-%d}: {refused}")


async def _customer(session: AsyncSession, step: Step) -> None:
    try:
        await customers.get_customer(session, step.customer)
    except customers.UnknownCustomer:
        rng = random.Random(step.customer)
        data = CustomerIn(
            external_id=step.customer,
            name=f"{rng.choice(_WORDS)} {rng.choice(_KINDS)} {step.customer[-3:]}",
            email=f"billing@{step.customer}.example",
            currency="USD",
            tax_rate=Decimal(rng.choice(("0", "0.08", "0.2"))),
            metadata={"source": "demo"},
        )
        await customers.create_customer(session, data, step.at)


async def _customer_id(session: AsyncSession, step: Step) -> str:
    return (await customers.get_customer(session, step.customer)).id


async def _ended_by_dunning(session: AsyncSession, customer_id: str) -> bool:
    query = (
        select(Collection.invoice_id)
        .join(Invoice, Invoice.id == Collection.invoice_id)
        .where(Invoice.customer_id == customer_id, Collection.status == "uncollectible")
        .limit(1)
    )
    return (await session.execute(query)).first() is not None


async def _advance(sessions: async_sessionmaker[AsyncSession], policy: Policy, at: datetime, done: Tally) -> None:
    """Everything the worker would have done by `at`: periods closed, invoices finalized and collected."""
    await closing.close_due(sessions, at)
    async with sessions() as session, session.begin():
        for draft in await invoice_repository.lock_drafts_due(session, FAR_FUTURE, 10_000):
            invoice = await invoices.finalize(session, draft, at)
            done.invoices += 1
            if invoice.total_minor > 0:
                await _collect(session, policy, invoice, at, done)
        await _retry_due(session, at, done)
        await collection.end_grace(session, policy, at)


async def _collect(session: AsyncSession, policy: Policy, invoice: Invoice, at: datetime, done: Tally) -> None:
    attempt = Collection(invoice_id=invoice.id, status="due", attempts=1)
    session.add(attempt)
    if _roll(invoice.id, "fails") < FAILED_PAYMENTS:
        done.declined.add(invoice.id)
        await collection.failed(session, policy, attempt, invoice, "card_declined", at)
    else:
        await collection.succeeded(session, attempt, invoice, at)


async def _retry_due(session: AsyncSession, at: datetime, done: Tally) -> None:
    """The first retry of a payment this seeding declined: paid, or left to the end of the grace period."""
    query = select(Collection).where(
        Collection.invoice_id.in_(done.declined), Collection.status == "due", Collection.next_attempt_at <= at
    )
    for attempt in (await session.execute(query.with_for_update())).scalars():
        invoice = await invoices.get_invoice(session, attempt.invoice_id)
        attempt.attempts += 1
        if _roll(invoice.id, "recovers") < RECOVERED:
            await collection.succeeded(session, attempt, invoice, at)
        else:
            attempt.status, attempt.next_attempt_at = "failed", None


def _roll(invoice_id: str, what: str) -> float:
    """A number in [0, 1) fixed by the invoice and the question."""
    digest = hashlib.sha256(f"{invoice_id}:{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
