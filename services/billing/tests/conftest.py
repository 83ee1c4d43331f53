from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing.app import create_app
from billing.config import BillingSettings
from billing.worker import create_worker_app
from tally_stack.testing import Infra, serving


@pytest.fixture(scope="session")
def billing_settings(infra: Infra) -> BillingSettings:
    return BillingSettings(
        database_url=infra.database_urls["billing"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"billing-test-{uuid4().hex[:8]}",
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
