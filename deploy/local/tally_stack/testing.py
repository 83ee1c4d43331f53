"""pytest plugin: the session's broker and Postgres, started when none is configured, and its localstripe (a fake
Stripe API); all stopped after.

Tests stay isolated from each other by naming their own customers, event types and meters, and from a running
`make run` by a database of their own (`tally_test_<pid>`) and their own consumer groups.
"""

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

import httpx
import psutil
import pytest
import uvicorn
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from asgi_lifespan import LifespanManager
from contracts.topics import TOPICS
from fastapi import FastAPI
from tally_cli.topics import create_topics

from tally_stack.bootstrap import bootstrap_database, drop_database
from tally_stack.broker import start_broker, wait_for_kafka
from tally_stack.postgres import ensure_postgres
from tally_stack.procs import free_port, stop_process
from tally_stack.services import SCHEMAS
from tally_stack.stack import ADMIN_EMAIL_VAR, ADMIN_PASSWORD_VAR, API_KEY_VAR, load_secrets, password_var
from tally_stack.stripe_local import (
    TEST_API_KEY,
    LocalStripe,
    new_webhook_secret,
    register_webhook,
    start_localstripe,
)

REPO = Path(__file__).resolve().parents[3]
T = TypeVar("T")


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    admin_url: str
    database_urls: dict[str, str]  # schema -> postgresql+asyncpg:// URL of the service's own role
    api_key: str
    passwords: dict[str, str]  # schema -> its role's password
    admin_email: str = ""  # the gateway's first admin
    admin_password: str = ""


@contextmanager
def own_database(admin_url: str, name: str, passwords: dict[str, str]) -> Iterator[dict[str, str]]:
    """A database with every service's schema and role, dropped afterwards. Yields {schema: role URL}."""
    try:
        yield asyncio.run(bootstrap_database(admin_url, name, SCHEMAS, passwords))
    finally:
        asyncio.run(drop_database(admin_url, name))


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    state_dir = REPO / ".tally"
    logs = tmp_path_factory.mktemp("infra")
    started = []
    secrets = load_secrets(state_dir, os.environ)
    postgres = ensure_postgres(os.environ.get("DATABASE_URL"), state_dir / "postgres")
    if postgres.proc is not None:
        started.append(postgres.proc)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if bootstrap:
        asyncio.run(wait_for_kafka(bootstrap))
    else:
        port = free_port()
        started.append(start_broker(port, logs / "broker.log"))
        bootstrap = f"127.0.0.1:{port}"
    passwords = {schema: secrets[password_var(schema)] for schema in SCHEMAS}
    try:
        with own_database(postgres.admin_url, f"tally_test_{os.getpid()}", passwords) as urls:
            asyncio.run(create_topics(bootstrap, TOPICS))
            admin = (secrets[ADMIN_EMAIL_VAR], secrets[ADMIN_PASSWORD_VAR])
            yield Infra(bootstrap, postgres.admin_url, urls, secrets[API_KEY_VAR], passwords, *admin)
    finally:
        for proc in reversed(started):
            stop_process(proc, signal.SIGINT)


@pytest.fixture(scope="session")
def local_stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe on a free port for the session (log: <session tmp>/localstripe*/localstripe.log). Reach it with
    `stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})`; a test that wants
    webhooks registers its own (`webhook_receiver`), signed with `webhook_secret`. Objects are shared by the whole
    session: tests keep apart by the objects they create."""
    port = free_port()
    proc = start_localstripe(port, tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    try:
        yield LocalStripe(f"http://127.0.0.1:{port}", TEST_API_KEY, new_webhook_secret())
    finally:
        stop_process(proc, signal.SIGINT)


@dataclass(frozen=True)
class WebhookDelivery:
    path: str
    body: bytes  # exactly as received: what a signature covers
    headers: dict[str, str]  # as received (Stripe-Signature, Content-Type, ...)


@dataclass
class WebhookInbox:
    base_url: str  # http://127.0.0.1:<port>
    url: str  # where the webhook was registered (base_url + a path)
    secret: str
    deliveries: list[WebhookDelivery] = field(default_factory=list)


@asynccontextmanager
async def recording_server(path: str = "/webhooks", secret: str = "") -> AsyncIterator[WebhookInbox]:
    """A real HTTP server on a free loopback port, in this event loop, that answers every POST (any path) with 200
    and records it; `url` is its base URL + `path`."""
    inbox = WebhookInbox(base_url="", url="", secret=secret)

    async def receive(request: web.Request) -> web.Response:
        inbox.deliveries.append(WebhookDelivery(request.path, await request.read(), dict(request.headers)))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    async with serving_aiohttp(app) as base_url:
        inbox.base_url, inbox.url = base_url, base_url + path
        yield inbox


@asynccontextmanager
async def serving_aiohttp(app: web.Application) -> AsyncIterator[str]:
    """A small aiohttp server (a fake upstream, a recorder) in this event loop on a free loopback port; yields its
    base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def webhook_receiver(
    stripe: LocalStripe, events: Sequence[str] | None = None, *, secret: str | None = None
) -> AsyncIterator[WebhookInbox]:
    """A `recording_server` registered with `stripe` for the block as a webhook of its own, for `events` (None: all)
    and signed with `secret` (default: stripe.webhook_secret). localstripe delivers each event once, about a second
    after it happened, to every webhook registered then: wait with `eventually`, and pick yours by content. On exit
    the webhook is silenced (localstripe cannot remove one) and the server stopped."""
    name = f"test-{uuid4().hex[:12]}"
    async with recording_server(secret=secret or stripe.webhook_secret) as inbox:
        await asyncio.to_thread(register_webhook, stripe.api_base, name, inbox.url, inbox.secret, events)
        try:
            yield inbox
        finally:
            await asyncio.to_thread(register_webhook, stripe.api_base, name, inbox.url, inbox.secret, [])


async def eventually(check: Callable[[], Awaitable[T]], seconds: float = 30.0, interval: float = 0.2) -> T:
    """Retry `check` until it stops raising AssertionError, or re-raise its last failure after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(interval)


async def produce(bootstrap: str, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
    """Put raw (key, value) records on a topic, as a product backend producing directly would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def consume_all(bootstrap: str, topic: str, seconds: float = 5.0) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` so far, read without a consumer group."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        while asyncio.get_running_loop().time() < deadline:
            batch = [record for records in (await consumer.getmany(timeout_ms=500)).values() for record in records]
            if not batch and found:
                break
            found.extend(batch)
        return found
    finally:
        await consumer.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the broker and Postgres (it uses `infra`, directly or not): `-m "not infra"`
    then runs just the tests that need neither (`make unit`)."""
    for item in items:
        if "infra" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.infra)


@asynccontextmanager
async def listening(app: FastAPI) -> AsyncIterator[str]:
    """The app served by uvicorn in this event loop on a free loopback port, for a caller that needs its URL (a
    gateway forwarding to it); yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # raises why it could not start
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serving(
    app: FastAPI, base_url: str, *, api_key: str | None = None, shutdown_timeout: float = 5
) -> AsyncIterator[httpx.AsyncClient]:
    """An app started through its lifespan (as uvicorn would) and a client calling it in this process, with
    `Authorization: Bearer <api_key>` on every request when a key is given."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with LifespanManager(app, shutdown_timeout=shutdown_timeout) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers) as client:
            yield client


def spawned_processes(pid: int) -> list[psutil.Process]:
    """The live processes `pid` spawned to serve (several sharing a port: see `tally_runtime.processes`), not
    multiprocessing's resource tracker."""
    found = []
    for child in psutil.Process(pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.ZombieProcess:
            pass  # ended, not yet reaped
    return found


def listening_sockets(port: int) -> list[object]:
    """The TCP sockets of this machine listening on `port` (one each for processes listening with SO_REUSEPORT)."""
    return [
        c
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and getattr(c.laddr, "port", None) == port  # laddr may be ()
    ]
