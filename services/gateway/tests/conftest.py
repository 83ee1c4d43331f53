import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from uuid import uuid4

import httpx
import pytest
import uvicorn
from aiohttp import web
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.worker import create_worker_app
from starlette.types import ASGIApp
from tally_stack.procs import free_port
from tally_stack.testing import Infra, serving_aiohttp

_addresses = count(1)


def _new_address() -> str:
    """A client address of its own: failed logins count per address, and tests must not lock each other out."""
    n = next(_addresses)
    return f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250}"


@pytest.fixture(scope="session")
def gateway_settings(infra: Infra) -> GatewaySettings:
    """Upstreams that do not answer: a forwarded call that passed authentication ends in a 503."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    return GatewaySettings(
        database_url=infra.database_urls["gateway"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        bootstrap_api_key=infra.api_key,
        admin_email=infra.admin_email,
        admin_password=infra.admin_password,
        billing_url=nowhere,
        ingest_url=nowhere,
        analytics_url=nowhere,
        assistant_url=nowhere,
        stream_enabled=False,
    )


@pytest.fixture(scope="session")
def gateway_fastapi(gateway_settings: GatewaySettings) -> FastAPI:
    return create_app(gateway_settings)


@pytest.fixture(scope="session")
async def gateway_app(gateway_fastapi: FastAPI) -> AsyncIterator[ASGIApp]:
    """The api app, started through its lifespan (migrated, first admin created), for the whole session."""
    async with LifespanManager(gateway_fastapi, startup_timeout=60) as manager:
        yield manager.app


@pytest.fixture(scope="session")
async def gateway_api(gateway_app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client without default credentials: each test says which key it calls with."""
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


@pytest.fixture
async def new_client(gateway_app: ASGIApp) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """Fresh clients of the shared app, like separate browsers: a cookie jar each, and a client address each."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=gateway_app, client=(_new_address(), 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://gateway"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture(scope="session")
async def gateway_worker(gateway_settings: GatewaySettings, gateway_api: httpx.AsyncClient) -> AsyncIterator[None]:
    """The worker (outbox relay) in this process, after the api has migrated the schema."""
    async with LifespanManager(create_worker_app(gateway_settings), startup_timeout=60):  # type: ignore[arg-type]
        yield


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    password: str
    role: str


@pytest.fixture
def new_user(gateway_api: httpx.AsyncClient, infra: Infra) -> Callable[[str], Awaitable[Person]]:
    """Creates a user with this role (through the API, as the bootstrap key)."""

    async def create(role: str) -> Person:
        email, password = f"{role}-{uuid4().hex[:10]}@example.com", f"pw-{uuid4().hex}"
        body = {"email": email, "password": password, "role": role}
        response = await gateway_api.post("/v1/users", json=body, headers={"Authorization": f"Bearer {infra.api_key}"})
        assert response.status_code == 201, response.text
        return Person(response.json()["id"], email, password, role)

    return create


async def log_in(client: httpx.AsyncClient, person: Person) -> str:
    """Logs `client` in as `person` with a cookie session; returns the session's CSRF token."""
    response = await client.post("/v1/auth/login", json={"email": person.email, "password": person.password})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


@pytest.fixture
def login() -> Callable[[httpx.AsyncClient, Person], Awaitable[str]]:
    return log_in


@dataclass
class Upstream:
    """A real HTTP server on loopback that stands where a service would: it records what the gateway sent, waits
    `delays[path]` seconds, then answers `answers[path]` (status, JSON), else echoes the request as JSON (or as
    CSV, streamed, when asked for text/csv)."""

    base_url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()

    async def answer(request: web.Request) -> web.StreamResponse:
        seen = {"method": request.method, "path": request.path, "query": dict(request.query)}
        server.seen.append(seen | {"headers": dict(request.headers), "body": await request.read()})
        await asyncio.sleep(server.delays.get(request.path, 0.0))
        if request.path in server.answers:
            status, body = server.answers[request.path]
            return web.json_response(body, status=status)
        if "text/csv" in request.headers.get("Accept", ""):
            streamed = web.StreamResponse(headers={"Content-Type": "text/csv"})
            await streamed.prepare(request)
            for row in ("month,mrr\r\n", "2026-10,100\r\n", "2026-11,120\r\n"):
                await streamed.write(row.encode())
            await streamed.write_eof()
            return streamed
        return web.json_response(seen | {"headers": dict(request.headers)})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    async with serving_aiohttp(app) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
def own_gateway(gateway_app: ASGIApp, gateway_settings: GatewaySettings) -> Callable[..., Any]:
    """A gateway app of the test's own on changed settings (the schema is migrated already by the shared one):
    `async with own_gateway(billing_url=...) as client`."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(gateway_settings.model_copy(update=changes))
        async with LifespanManager(app, startup_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app, client=(_new_address(), 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                yield client

    return start


@pytest.fixture
def live_gateway(gateway_app: ASGIApp, gateway_settings: GatewaySettings) -> Callable[..., Any]:
    """A gateway of the test's own served by uvicorn on a loopback port, as in production (streamed responses
    reach the client as they are written, which the in-process transport cannot show):
    `async with live_gateway(stream_enabled=True) as base_url`."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[str]:
        port = free_port()
        config = uvicorn.Config(
            create_app(gateway_settings.model_copy(update=changes)), host="127.0.0.1", port=port, log_config=None
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task

    return start
