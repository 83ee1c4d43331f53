import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from tally_runtime.http import create_api
from tally_runtime.lifespans import Database, database_lifespan, database_readiness

from gateway.access.known_keys import KnownKeys
from gateway.access.ratelimit import RateLimiter
from gateway.api_keys.api import router as api_keys_router
from gateway.audit.api import router as audit_router
from gateway.audit.middleware import AuditMiddleware
from gateway.config import GatewaySettings, get_settings
from gateway.dashboard.api import router as dashboard_router
from gateway.dashboard.service import panels_client
from gateway.db import MIGRATIONS, SCHEMA
from gateway.openapi import install_openapi
from gateway.proxy.api import build_router
from gateway.requests import RequestIdMiddleware
from gateway.sessions.api import router as sessions_router
from gateway.stream.api import router as stream_router
from gateway.stream.consumer import feed, now_ms
from gateway.stream.hub import Hub
from gateway.users import service as users
from gateway.users.api import router as users_router
from gateway.users.schemas import normalized_email
from gateway.web import install_web

log = logging.getLogger(__name__)


async def _first_admin(database: Database, settings: GatewaySettings) -> None:
    email = normalized_email(settings.admin_email)
    async with database.sessions() as session, session.begin():
        created = await users.ensure_admin(session, email, settings.admin_password.get_secret_value())
    if created:
        log.info("created the first admin", extra={"email": email})


@asynccontextmanager
async def _live_feed(app: FastAPI, settings: GatewaySettings) -> AsyncIterator[None]:
    app.state.hub = hub = Hub(settings.stream_queue_size)
    task = (
        asyncio.create_task(feed(hub, settings.kafka_bootstrap_servers, now_ms())) if settings.stream_enabled else None
    )
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    with_database = database_lifespan(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            with_database(app),
            httpx.AsyncClient(timeout=settings.upstream_timeout_s) as http,
            panels_client() as panels_http,
            _live_feed(app, settings),
        ):
            HTTPXClientInstrumentor.instrument_client(http)
            app.state.http = http
            app.state.panels_http = panels_http
            await _first_admin(database, settings)
            yield

    app = create_api("Tally", lifespan=lifespan, readiness=lambda _: database_readiness(database))
    app.description = "The public API of Tally: usage, billing, analytics, people and the dashboard."
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_burst_s)
    app.state.known_keys = KnownKeys(settings.key_trust_s)
    for router in (sessions_router, users_router, api_keys_router, audit_router, dashboard_router, stream_router):
        app.include_router(router)
    app.include_router(build_router())
    app.add_middleware(AuditMiddleware)
    app.add_middleware(RequestIdMiddleware)
    install_openapi(app)
    install_web(app)  # last: the dashboard's pages answer only paths no other route takes
    return app
