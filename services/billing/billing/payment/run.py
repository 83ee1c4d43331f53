"""The worker's payment run: collect what is due (with dunning), handle the webhooks that came in, then push the
customers' edited details to Stripe."""

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payment import collection, details, webhooks
from billing.payment.dunning import Policy
from billing.payment.stripe_api import StripeApi

log = logging.getLogger(__name__)


async def payment_run(sessions: async_sessionmaker[AsyncSession], api: StripeApi, policy: Policy) -> None:
    now = datetime.now(UTC)
    attempted = await collection.run(sessions, api, policy, now)
    handled = await webhooks.handle_inbox(sessions, api, policy, now)
    pushed = await details.push_details(sessions, api)
    if attempted or handled or pushed:
        log.info(
            "payments: %d attempts, %d webhook events handled, %d payers' details pushed", attempted, handled, pushed
        )
