"""Writing one Stripe customer, with his subscriptions and invoices, into Tally, in the caller's transaction.

Rows come first (the customer, the plans through billing's plan service, the subscriptions in their first state, the
invoices as finalized); then the customer's history is played in time order: each step changes the rows and
announces the change as a live Tally would have, at the moment it happened in Stripe. Everything already imported
(the map in stripe_import_objects) is left as it is, except an invoice that Stripe has moved on since (paid,
voided), which takes the steps it missed."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, cast

from contracts.customers import CustomerCreatedEvent
from contracts.subscriptions import Change
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id

from billing.customers import repository as customers
from billing.customers import service as customer_service
from billing.customers.models import Customer
from billing.imports import history, repository
from billing.imports.catalog import plan_for
from billing.imports.context import LAST, CustomerData, Progress, Run, Timeline
from billing.imports.invoicing import import_invoice
from billing.imports.stripe_objects import Customer as StripeCustomer
from billing.imports.stripe_objects import Subscription as StripeSubscription
from billing.payment.models import StripeCustomer as Payer
from billing.rating.periods import Interval
from billing.subscriptions.events import announce as announce_subscription
from billing.subscriptions.events import terms_of
from billing.subscriptions.models import Subscription


def keys(data: CustomerData) -> list[tuple[str, str]]:
    """Everything of the customer the map may hold."""
    found = [("customer", data.customer.id)]
    found += [("subscription", sub.id) for sub in data.subscriptions]
    found += [("plan", sub.plan.ref) for sub in data.subscriptions if sub.plan]
    found += [("meter", item.meter_ref) for sub in data.subscriptions if sub.plan for item in sub.plan.metered]
    found += [(kind, invoice.id) for invoice in data.invoices for kind in ("invoice", "payment")]
    return found


async def import_customer(session: AsyncSession, data: CustomerData, run: Run, progress: Progress) -> None:
    await repository.lock_stripe_object(session, data.customer.id)
    known = await repository.mapped(session, keys(data))
    timeline = Timeline()
    customer = await _customer(session, data, run, known, progress, timeline)
    subscriptions = {stripe_id: tally_id for (kind, stripe_id), tally_id in known.items() if kind == "subscription"}
    settle = []
    for sub in data.subscriptions:
        if sub.id in subscriptions:
            progress.count("subscriptions", "existing")
        elif made := await _subscription(session, sub, customer, data, run, progress, timeline):
            subscriptions[sub.id] = made[0].id
            settle.append(made)
    for invoice in data.invoices:
        await import_invoice(session, invoice, customer, subscriptions, data, run, known, progress, timeline)
    await timeline.play()
    for row, standing in settle:  # the period open now: the worker bills from its end, never the past again
        row.billing_anchor = standing.anchor
        row.current_period_start, row.current_period_end = standing.period.start, standing.period.end


async def _customer(  # noqa: PLR0917 (what the customer is made from)
    session: AsyncSession,
    data: CustomerData,
    run: Run,
    known: Mapping[tuple[str, str], str],
    progress: Progress,
    timeline: Timeline,
) -> Customer:
    stripe = data.customer
    if tally_id := known.get(("customer", stripe.id)):
        progress.count("customers", "existing")
        return await _customer_by(session, tally_id)
    found = None
    if stripe.tally_customer_id:  # made in Stripe by Tally's own collection
        found = await customers.customer_by_ref(session, stripe.tally_customer_id)
    found = found or await customers.customer_by_ref(session, stripe.external_id)
    if found is not None:
        progress.count("customers", "linked")
    else:
        found = await _new_customer(session, stripe, _currency(data, run), _since(data))
        progress.count("customers", "created")
        timeline.add(found.created_at, 0, partial(customer_service.announce, session, found, CustomerCreatedEvent))
    await repository.map_object(session, "customer", stripe.id, found.id, run.import_id)
    payer = {
        "customer_id": found.id,
        "stripe_customer_id": stripe.id,
        "payment_method_id": stripe.payment_method,
        "details_pushed_at": found.updated_at,  # only edits made in Tally from now on go to Stripe
    }
    await session.execute(insert(Payer).values(payer).on_conflict_do_nothing())  # one each way: keep what is there
    return found


async def _new_customer(session: AsyncSession, stripe: StripeCustomer, currency: str, since: datetime) -> Customer:
    values: dict[str, Any] = {
        "id": new_id("cus"),
        "external_id": stripe.external_id,
        "name": stripe.name,
        "email": _email(stripe.email),
        "currency": currency,
        "tax_rate": Decimal(0),
        "metadata_": stripe.metadata,
        "created_at": since,
        "updated_at": since,
    }
    if not await customers.insert_customer(session, values):
        raise RuntimeError(f"another customer took the external id {stripe.external_id!r} meanwhile")
    return await _customer_by(session, values["id"])


async def _customer_by(session: AsyncSession, ref: str) -> Customer:
    found = await customers.customer_by_ref(session, ref)
    if found is None:
        raise RuntimeError(f"the customer {ref!r} an earlier import made is gone")
    return found


def _since(data: CustomerData) -> datetime:
    """When the customer was created in Stripe, or when his history there begins if earlier (a subscription
    backdated, or moved to Stripe with its start date): he is announced before anything of his."""
    starts = [sub.start for sub in data.subscriptions] + [invoice.created for invoice in data.invoices]
    return min([data.customer.created, *starts])


def _currency(data: CustomerData, run: Run) -> str:
    """The currency Stripe bills the customer in: his subscriptions', his own, his invoices'; else the default."""
    usable = sorted(data.subscriptions, key=lambda sub: (sub.problem is not None, sub.status == "canceled"))
    for candidate in [sub.currency for sub in usable] + [data.customer.currency]:
        if candidate:
            return candidate
    return next((invoice.currency for invoice in data.invoices if invoice.currency), run.default_currency)


def _email(email: str | None) -> str | None:
    """Stripe keeps any string; Tally keeps only what looks like an address."""
    if email and len(email) <= 320 and "@" in email.strip("@") and not any(c.isspace() for c in email):
        return email
    return None


async def _subscription(  # noqa: PLR0917 (what the subscription is made from)
    session: AsyncSession,
    sub: StripeSubscription,
    customer: Customer,
    data: CustomerData,
    run: Run,
    progress: Progress,
    timeline: Timeline,
) -> tuple[Subscription, history.Now] | None:
    if sub.problem or sub.plan is None:
        progress.skip("subscriptions", sub.id, sub.problem or "no price")
        return None
    if sub.currency != customer.currency:
        reason = f"in {sub.currency}, while the customer pays in {customer.currency}"
        progress.skip("subscriptions", sub.id, reason)
        return None
    plan = await plan_for(session, sub.plan, data, run, progress)
    interval = cast(Interval, plan.interval)
    standing = history.standing(sub, interval, run.now)
    states = history.subscription_history(sub, interval, run.now, history.overdue_since(data.invoices, sub.id))
    first = states[0]
    row = Subscription(
        id=new_id("sub"),
        customer_id=customer.id,
        plan_version_id=plan.id,
        plan=plan,
        status=first.status,
        started_at=sub.start,
        trial_end=first.period_end if first.status == "trialing" else None,
        billing_anchor=standing.anchor,
        current_period_start=first.period_start,
        current_period_end=first.period_end,
        cancel_at_period_end=False,
        created_at=sub.created,
        updated_at=first.at,
    )
    session.add(row)
    await session.flush()
    await repository.map_object(session, "subscription", sub.id, row.id, run.import_id)
    progress.count("subscriptions", "created")
    for state in states:  # at the same second as its invoices, the end comes after them
        timeline.add(state.at, LAST if state.change == "canceled" else 1, partial(_take, session, row, state))
    return row, standing


async def _take(session: AsyncSession, row: Subscription, state: history.State) -> None:
    """One step of the subscription's history, announced as it happened."""
    previous = None if state.change == "created" else terms_of(row.plan, row.status)
    row.status, row.updated_at = state.status, state.at
    row.current_period_start, row.current_period_end = state.period_start, state.period_end
    row.cancel_at_period_end, row.canceled_at = state.cancel_at_period_end, state.canceled_at
    row.ended_at = state.ended_at
    await announce_subscription(session, row, cast(Change, state.change), effective_at=state.at, previous=previous)
