from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.worker import create_worker_app
from tally_stack.procs import free_port
from tally_stack.testing import Infra, serving


@pytest.fixture(scope="session")
def gateway_settings(infra: Infra) -> GatewaySettings:
    """Upstreams that do not answer: a forwarded call that passed authentication ends in a 503."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    return GatewaySettings(
        database_url=infra.database_urls["gateway"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        bootstrap_api_key=infra.api_key,
        billing_url=nowhere,
        ingest_url=nowhere,
    )


@pytest.fixture(scope="session")
async def gateway_api(gateway_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The api app without default credentials: each test says which key it calls with."""
    async with serving(create_app(gateway_settings), "http://gateway") as client:
        yield client


@pytest.fixture(scope="session")
async def gateway_worker(gateway_settings: GatewaySettings, gateway_api: httpx.AsyncClient) -> AsyncIterator[None]:
    """The worker (outbox relay) in this process, after the api has migrated the schema."""
    async with LifespanManager(create_worker_app(gateway_settings), startup_timeout=60):  # type: ignore[arg-type]
        yield
