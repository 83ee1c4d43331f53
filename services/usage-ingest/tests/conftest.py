from collections.abc import AsyncIterator

import httpx
import pytest
from tally_stack.testing import Infra, serving
from usage_ingest.app import create_app
from usage_ingest.config import IngestSettings


@pytest.fixture(scope="session")
async def ingest(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = IngestSettings(kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key)
    app = create_app(settings)
    async with serving(app, "http://ingest", api_key=infra.api_key) as client:
        yield client
