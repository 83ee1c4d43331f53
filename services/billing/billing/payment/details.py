"""Customers' names and emails edited in Tally, pushed onto their twins in Stripe (what Stripe shows on its receipts,
in its dashboard and in its customer portal). A payer remembers the customer's `updated_at` whose details Stripe has;
a later edit is pushed by the next payment run, and a push that failed for Stripe's unavailability is retried then.
Details that came from Stripe (its `customer.updated` webhook) are marked pushed when applied, so they do not go
back."""

import logging

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.customers.models import Customer
from billing.payment.models import StripeCustomer
from billing.payment.stripe_api import StripeApi, StripeRefused

log = logging.getLogger(__name__)

# Payers whose customer was edited since Stripe last had the details; one at a time, locked, so a payer's row is
# held for one Stripe call only and two payment runs (several worker processes) never push the same edit.
_STALE = (
    select(StripeCustomer, Customer)
    .join(Customer, Customer.id == StripeCustomer.customer_id)
    .where(or_(StripeCustomer.details_pushed_at.is_(None), Customer.updated_at > StripeCustomer.details_pushed_at))
    .order_by(StripeCustomer.customer_id)
    .limit(1)
    .with_for_update(of=StripeCustomer, skip_locked=True)
)


async def push_details(sessions: async_sessionmaker[AsyncSession], api: StripeApi) -> int:
    """Pushes every payer's details edited since they were last pushed, each in a transaction of its own; how many
    were pushed."""
    pushed = 0
    while True:
        async with sessions() as session, session.begin():
            found = (await session.execute(_STALE)).first()
            if found is None:
                return pushed
            payer, customer = found
            try:
                await api.update_customer(payer.stripe_customer_id, customer.name, customer.email)
            except StripeRefused as exc:  # e.g. deleted in Stripe: the next card makes it again (payment api)
                log.warning("Stripe refused %s's details for %s: %s", customer.id, payer.stripe_customer_id, exc)
            payer.details_pushed_at = customer.updated_at
        pushed += 1
