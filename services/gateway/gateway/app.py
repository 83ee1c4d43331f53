from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from tally_runtime.http import create_api
from tally_runtime.lifespans import Database, database_lifespan, database_readiness

from gateway.api_keys.api import router as api_keys_router
from gateway.config import GatewaySettings, get_settings
from gateway.db import MIGRATIONS, SCHEMA
from gateway.proxy.api import router as proxy_router


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    with_database = database_lifespan(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with with_database(app), httpx.AsyncClient(timeout=settings.upstream_timeout_s) as http:
            HTTPXClientInstrumentor.instrument_client(http)
            app.state.http = http
            yield

    app = create_api("Tally gateway", lifespan=lifespan, readiness=lambda _: database_readiness(database))
    app.state.settings = settings
    app.include_router(api_keys_router)
    app.include_router(proxy_router)
    return app
