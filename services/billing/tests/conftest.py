from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing.app import create_app
from billing.config import BillingSettings
from billing.db import SCHEMA
from billing.usage.repository import lock_meter_set, record_events
from billing.worker import create_worker_app
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.db import create_engine, session_factory
from tally_stack.stripe_local import LocalStripe
from tally_stack.testing import Infra, serving


@pytest.fixture(scope="session")
def billing_settings(infra: Infra, local_stripe: LocalStripe) -> BillingSettings:
    return BillingSettings(
        database_url=infra.database_urls["billing"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"billing-test-{uuid4().hex[:8]}",
        invoice_run_every_s=3600,  # tests close periods and collect payments themselves, at the moments they choose
        payment_run_every_s=3600,
        stripe_api_key=SecretStr(local_stripe.api_key),
        stripe_api_base=local_stripe.api_base,
        stripe_webhook_secrets=SecretStr(f"whsec_old_rotated_out,{local_stripe.webhook_secret}"),
        stripe_collection="payment_intent",  # what localstripe can do; the invoice path: test_stripe_invoices.py
    )


@pytest.fixture(scope="session")
async def billing_api(billing_settings: BillingSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(billing_settings), "http://billing") as client:
        yield client


@pytest.fixture(scope="session")
async def billing_worker(billing_settings: BillingSettings, billing_api: httpx.AsyncClient) -> AsyncIterator[None]:
    """The worker, consuming usage.events.v1 in this process (after the api has migrated the schema)."""
    async with LifespanManager(create_worker_app(billing_settings), startup_timeout=60):  # type: ignore[arg-type]
        yield


@pytest.fixture(scope="session")
async def billing_sessions(
    billing_settings: BillingSettings, billing_api: httpx.AsyncClient
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on billing's schema (migrated by the api), for calling the use cases a worker runs, at any `now`."""
    engine = create_engine(billing_settings.database_url, SCHEMA)
    yield session_factory(engine)
    await engine.dispose()


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


class Kit:
    """Building blocks for billing tests through the real API: meters, plans, customers, usage; unique per call."""

    def __init__(self, api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.api = api
        self.sessions = sessions

    async def created(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.api.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def count_meter(self) -> tuple[str, str]:
        """(meter key, event type) of a new `count` meter."""
        key, event_type = unique("ai_requests"), unique("ai")
        await self.created("/v1/meters", {"key": key, "event_type": event_type, "aggregation": "count"})
        return key, event_type

    async def plan(self, meter: str, **terms: Any) -> str:
        """A monthly $49 plan with 5 units of `meter` included, then 10 minor units each; returns its key."""
        body = {
            "key": unique("plan"),
            "name": "Starter",
            "currency": "USD",
            "interval": "month",
            "base_price_minor": 4900,
            "charges": [{"meter": meter, "model": "per_unit", "unit_price": "10", "included_units": "5"}],
            "entitlements": {meter: 5},
        } | terms
        return str((await self.created("/v1/plans", body))["key"])

    async def customer(self, **fields: Any) -> dict[str, Any]:
        body = {"external_id": unique("acme"), "name": "Acme", "currency": "USD"} | fields
        result: dict[str, Any] = await self.created("/v1/customers", body)
        return result

    async def record(self, customer_key: str, event_type: str, moments: list[datetime]) -> None:
        """Usage through the consumer's own SQL (test_usage_flow covers the way there through Kafka)."""
        events = [(customer_key, unique("evt"), event_type, moment, {}) for moment in moments]
        async with self.sessions() as session, session.begin():
            await lock_meter_set(session, exclusive=False)
            await record_events(session, events)


@pytest.fixture
def kit(billing_api: httpx.AsyncClient, billing_sessions: async_sessionmaker[AsyncSession]) -> Kit:
    return Kit(billing_api, billing_sessions)
