"""A year of a small SaaS business driven through the real billing service (its use cases called at chosen past
moments, its outbox relayed onto the real broker), projected by the analytics worker, and read from the analytics
api: every month of the MRR bridge against values worked out by hand below.

The year (2025, a currency of its own so nothing else on the topic mixes in):
- A: starter (49) from 1 Jan, with 105 metered events in January (100 over the included 5, at 0.10: 10.00 usage);
  upgraded to pro (99) on 15 Mar; downgraded to starter on 10 Jun (takes effect at the period end, 1 Jul);
  cancels on 10 Sep at the period end (1 Oct); comes back on starter on 1 Dec.
- B: a yearly plan, 1,200 a year (100 a month), from 1 Feb.
- C: pro with a 14-day trial from 1 Apr; paying from 15 Apr.
- D: starter from 1 May, paid by card; the card declines on the July invoice: past due from 1 Jul, canceled when
  the 14 days of dunning grace are over (16 Jul).
- E: pro from 10 Aug, canceled at once on 20 Nov.
"""

import random
import string
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
import stripe
from analytics.app import create_app as create_analytics
from analytics.config import AnalyticsSettings
from analytics.worker import create_worker_app as create_analytics_worker
from asgi_lifespan import LifespanManager
from billing.app import create_app as create_billing
from billing.config import BillingSettings
from billing.db import SCHEMA as BILLING_SCHEMA
from billing.db import outbox
from billing.invoices import closing
from billing.invoices import service as invoices
from billing.payment import collection
from billing.payment.stripe_api import StripeApi
from billing.subscriptions import service as subscriptions
from billing.subscriptions.schemas import CancelIn, ChangePlanIn, SubscriptionIn
from billing.usage.repository import lock_meter_set, record_events
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.db import create_engine, session_factory
from tally_runtime.outbox import OutboxRelay
from tally_stack.stripe_local import LocalStripe
from tally_stack.testing import Infra, eventually, serving

GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"

# month, opening, new, expansion, contraction, churned, reactivation, closing, usage revenue,
# customers (opening, new, churned, reactivated, closing)
EXPECTED = [
    ("2025-01", 0, 4900, 0, 0, 0, 0, 4900, 1000, (0, 1, 0, 0, 1)),  # A
    ("2025-02", 4900, 10000, 0, 0, 0, 0, 14900, 0, (1, 1, 0, 0, 2)),  # B, yearly / 12
    ("2025-03", 14900, 0, 5000, 0, 0, 0, 19900, 0, (2, 0, 0, 0, 2)),  # A 49 -> 99
    ("2025-04", 19900, 9900, 0, 0, 0, 0, 29800, 0, (2, 1, 0, 0, 3)),  # C after its trial
    ("2025-05", 29800, 4900, 0, 0, 0, 0, 34700, 0, (3, 1, 0, 0, 4)),  # D
    ("2025-06", 34700, 0, 0, 0, 0, 0, 34700, 0, (4, 0, 0, 0, 4)),  # A's downgrade waits for 1 Jul
    ("2025-07", 34700, 0, 0, 5000, 4900, 0, 24800, 0, (4, 0, 1, 0, 3)),  # A 99 -> 49; D lost to dunning
    ("2025-08", 24800, 9900, 0, 0, 0, 0, 34700, 0, (3, 1, 0, 0, 4)),  # E
    ("2025-09", 34700, 0, 0, 0, 0, 0, 34700, 0, (4, 0, 0, 0, 4)),  # A's cancellation waits for 1 Oct
    ("2025-10", 34700, 0, 0, 0, 4900, 0, 29800, 0, (4, 0, 1, 0, 3)),  # A gone
    ("2025-11", 29800, 0, 0, 0, 9900, 0, 19900, 0, (3, 0, 1, 0, 2)),  # E canceled at once
    ("2025-12", 19900, 0, 0, 0, 0, 4900, 24800, 0, (2, 0, 0, 1, 3)),  # A back
]


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def currency() -> str:
    return "X" + "".join(random.choices(string.ascii_uppercase, k=2))


@pytest.fixture(scope="module")
def billing_settings(infra: Infra, local_stripe: LocalStripe) -> BillingSettings:
    return BillingSettings(
        database_url=infra.database_urls["billing"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"billing-scenario-{uuid4().hex[:8]}",
        stripe_api_key=SecretStr(local_stripe.api_key),
        stripe_api_base=local_stripe.api_base,
    )


@pytest.fixture(scope="module")
async def billing(billing_settings: BillingSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_billing(billing_settings), "http://billing") as client:
        yield client


@pytest.fixture(scope="module")
async def sessions(
    billing_settings: BillingSettings, billing: httpx.AsyncClient
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Billing's schema (migrated by its api), for its use cases at chosen moments; its outbox relayed meanwhile."""
    engine = create_engine(billing_settings.database_url, BILLING_SCHEMA)
    made = session_factory(engine)
    relay = OutboxRelay(lambda: made, outbox, billing_settings.kafka_bootstrap_servers)
    await relay.start()
    yield made
    await relay.stop()
    await engine.dispose()


@pytest.fixture(scope="module")
async def analytics(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = AnalyticsSettings(
        database_url=infra.database_urls["analytics"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"analytics-scenario-{uuid4().hex[:8]}",
    )
    worker = create_analytics_worker(settings)
    async with (
        serving(create_analytics(settings), "http://analytics") as client,
        LifespanManager(worker, startup_timeout=60),  # type: ignore[arg-type]
    ):
        yield client


class Billing:
    def __init__(
        self, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], stripe_api: StripeApi, policy: Any
    ) -> None:
        self.api, self.sessions, self.stripe_api, self.policy = api, sessions, stripe_api, policy

    async def created(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def advance(self, now: datetime) -> None:
        """What the worker's invoice and payment runs would have done by `now`."""
        await closing.close_due(self.sessions, now)
        # A draft carries the real time it was written at; finalizing goes by that.
        await invoices.finalize_drafts(self.sessions, datetime.now(UTC), timedelta(0))
        await collection.run(self.sessions, self.stripe_api, self.policy, now)

    async def subscribe(self, customer: str, plan: str, now: datetime, **fields: Any) -> str:
        await self.advance(now)
        async with self.sessions() as session, session.begin():
            data = SubscriptionIn(customer_id=customer, plan_key=plan, start_date=now, **fields)
            subscription = await subscriptions.create_subscription(session, data, now)
        await self.advance(now)
        return subscription.id

    async def change_plan(self, subscription_id: str, plan: str, now: datetime) -> None:
        await self.advance(now)
        async with self.sessions() as session, session.begin():
            await subscriptions.change_plan(session, subscription_id, ChangePlanIn(plan_key=plan), now)

    async def cancel(self, subscription_id: str, now: datetime, *, at_period_end: bool) -> None:
        await self.advance(now)
        async with self.sessions() as session, session.begin():
            await subscriptions.cancel(session, subscription_id, CancelIn(at_period_end=at_period_end), now)

    async def card(self, customer: str, number: str, local_stripe: LocalStripe) -> None:
        client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
        method = await client.v1.payment_methods.create_async(
            {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
        )
        response = await self.api.post(f"/v1/customers/{customer}/payment-method", json={"payment_method": method.id})
        assert response.status_code == 200, response.text

    async def record(self, external_id: str, event_type: str, moments: list[datetime]) -> None:
        events = [(external_id, f"evt_{uuid4().hex}", event_type, moment, {}) for moment in moments]
        async with self.sessions() as session, session.begin():
            await lock_meter_set(session, exclusive=False)
            await record_events(session, events)


async def drive_the_year(b: Billing, currency: str, local_stripe: LocalStripe) -> None:
    meter, event_type = f"calls_{uuid4().hex[:8]}", f"call_{uuid4().hex[:8]}"
    await b.created("/v1/meters", {"key": meter, "event_type": event_type, "aggregation": "count"})

    async def plan(name: str, price: int, **terms: Any) -> str:
        body = {
            "key": f"{name}_{uuid4().hex[:8]}",
            "name": name,
            "currency": currency,
            "interval": "month",
            "base_price_minor": price,
            "charges": [{"meter": meter, "model": "per_unit", "unit_price": "10", "included_units": "5"}],
        } | terms
        return str((await b.created("/v1/plans", body))["key"])

    starter, pro, yearly = (
        await plan("starter", 4900),
        await plan("pro", 9900),
        await plan("yearly", 120000, interval="year"),
    )
    a, bb, c, d, e = [
        await b.created("/v1/customers", {"name": n, "currency": currency, "external_id": f"{n}_{uuid4().hex[:8]}"})
        for n in "ABCDE"
    ]

    sub_a = await b.subscribe(a["id"], starter, at("2025-01-01"))
    await b.record(a["external_id"], event_type, [at("2025-01-10")] * 105)
    await b.subscribe(bb["id"], yearly, at("2025-02-01"))
    await b.change_plan(sub_a, pro, at("2025-03-15"))
    await b.subscribe(c["id"], pro, at("2025-04-01"), trial_days=14)
    await b.card(d["id"], GOOD_CARD, local_stripe)
    await b.subscribe(d["id"], starter, at("2025-05-01"))
    await b.change_plan(sub_a, starter, at("2025-06-10"))
    await b.advance(at("2025-06-30"))
    await b.card(d["id"], DECLINED_CARD, local_stripe)
    await b.advance(at("2025-07-01T01:00"))
    await b.advance(at("2025-07-16T02:00"))  # dunning grace (14 days) over: canceled
    await b.subscribe(e["id"], pro, at("2025-08-10"))
    await b.cancel(sub_a, at("2025-09-10"), at_period_end=True)
    sub_e_list = (await b.api.get("/v1/subscriptions", params={"customer_id": e["id"]})).json()["data"]
    await b.cancel(sub_e_list[0]["id"], at("2025-11-20"), at_period_end=False)
    await b.subscribe(a["id"], starter, at("2025-12-01"))
    await b.advance(at("2026-01-01T01:00"))


def row(month: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("month", "opening_mrr", "new", "expansion", "contraction", "churned", "reactivation", "closing_mrr")
    counts = month["customers"]
    return (*(month[k] for k in keys), month["usage_revenue"], tuple(counts[k] for k in counts))


@pytest.fixture(scope="module")
async def year(
    billing: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    billing_settings: BillingSettings,
    local_stripe: LocalStripe,
    currency: str,
) -> str:
    """The year driven through billing; its currency."""
    assert billing_settings.stripe_api_key is not None
    stripe_api = StripeApi(billing_settings.stripe_api_key, billing_settings.stripe_api_base)
    # localstripe's invoices take no currency (a 500); its PaymentIntents collect the same invoices.
    policy = replace(billing_settings.dunning_policy(), collect_by="payment_intent")
    await drive_the_year(Billing(billing, sessions, stripe_api, policy), currency, local_stripe)
    return currency


async def test_a_year_through_billing_matches_the_bridge_by_hand(analytics: httpx.AsyncClient, year: str) -> None:
    currency = year

    async def every_month() -> None:
        params = {"from": "2025-01", "to": "2025-12", "currency": currency}
        response = await analytics.get("/v1/metrics/mrr", params=params)
        assert response.status_code == 200, response.text
        months = [row(m) for m in response.json()["months"]]
        for found, expected in zip(months, EXPECTED, strict=True):
            assert found == expected, expected[0]

    await eventually(every_month, seconds=60)

    july = await analytics.get("/v1/metrics/summary", params={"as_of": "2025-07-31", "currency": currency})
    s = july.json()
    assert (s["mrr"]["value"], s["mrr"]["previous"]) == (24800, 34700)
    assert Decimal(s["customer_churn_rate"]["value"]) == Decimal("0.25")  # D, of 4
    assert Decimal(s["gross_mrr_churn_rate"]["value"]) == Decimal("0.2853")  # (4,900 + 5,000) / 34,700
    april = await analytics.get("/v1/metrics/summary", params={"as_of": "2025-04-30", "currency": currency})
    assert Decimal(april.json()["trial_conversion_rate"]["value"]) == 1  # C's trial
