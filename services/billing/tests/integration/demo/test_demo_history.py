"""The synthetic history, written through billing's use cases at its own moments."""

import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from billing.catalog import service as catalog
from billing.catalog.schemas import MeterCreate
from billing.config import BillingSettings
from billing.demo.seed import plans_exist, seeded, write
from billing.demo.story import write_story
from billing.invoices.models import Invoice
from billing.plans import service as plans
from billing.plans.schemas import PlanIn
from billing.subscriptions.models import Subscription
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.demo_catalog import METERS, PLANS


async def demo_catalog(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The demo's meters and plans, as `make run`'s demo makes them (unless an earlier test did)."""
    for create, items, exists in (
        (catalog.create_meter, [MeterCreate.model_validate(m) for m in METERS], catalog.MeterExists),
        (plans.create_plan, [PlanIn.model_validate(p) for p in PLANS], plans.PlanExists),
    ):
        for item in items:
            async with sessions() as session, session.begin():
                with contextlib.suppress(exists):
                    await create(session, item)  # type: ignore[operator]


async def test_a_story_becomes_invoices_payments_and_events_at_their_own_moments(
    billing_sessions: async_sessionmaker[AsyncSession], billing_settings: BillingSettings
) -> None:
    now = datetime.now(UTC)
    story = write_story(customers=40, months=6, now=now, seed=7)
    assert not await seeded(billing_sessions, story)
    await demo_catalog(billing_sessions)
    assert await plans_exist(billing_sessions, story)
    done = await write(billing_sessions, story, billing_settings.dunning_policy(), now)
    assert await seeded(billing_sessions, story)
    assert done.steps == len(story.steps) and done.refused == [], done.refused

    ids = list(story.customers)
    async with billing_sessions() as session:
        customer_ids = text("SELECT id FROM customers WHERE external_id = ANY(:ids)").bindparams(ids=ids)
        ours = [row for (row,) in await session.execute(customer_ids)]
        subs = (await session.execute(select(Subscription).where(Subscription.customer_id.in_(ours)))).scalars().all()
        bills = (await session.execute(select(Invoice).where(Invoice.customer_id.in_(ours)))).scalars().all()
        events = await session.execute(text("SELECT payload FROM outbox WHERE key = ANY(:ids)").bindparams(ids=ours))
        times = [json.loads(payload)["time"] for (payload,) in events]

    assert len(ours) == len({step.customer for step in story.steps})
    assert {sub.started_at.date() for sub in subs} >= {story.steps[0].at.date()}
    statuses = Counter(bill.status for bill in bills)
    assert statuses["paid"] > 0 and statuses["draft"] == 0
    assert all(bill.finalized_at is not None and bill.finalized_at >= bill.period_start for bill in bills)
    assert min(bill.finalized_at for bill in bills if bill.finalized_at) < now - timedelta(days=90)
    assert min(times) < (now - timedelta(days=90)).isoformat()  # events carry the story's moments, not today's
