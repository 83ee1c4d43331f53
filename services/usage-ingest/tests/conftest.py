from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from tally_stack.testing import Infra
from usage_ingest.app import create_app
from usage_ingest.config import IngestSettings


@pytest.fixture(scope="session")
async def ingest(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = IngestSettings(kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {infra.api_key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest", headers=headers) as client:
            yield client
