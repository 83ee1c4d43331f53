"""One trace from a request to the gateway, forwarded over HTTP to ingest, through the Kafka header into the billing
consumer's span, and down to the SQL statements of its write."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing.app import create_app as create_billing
from billing.config import BillingSettings
from billing.worker import create_worker_app
from gateway.app import create_app as create_gateway
from gateway.config import GatewaySettings
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tally_runtime.tracing import configure_tracing
from tally_stack.testing import Infra, eventually, listening, serving
from usage_ingest.app import create_app as create_ingest
from usage_ingest.config import IngestSettings


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing("tally-test", None, extra=SimpleSpanProcessor(exporter))
    return exporter


GROUP = f"billing-trace-{uuid4().hex[:8]}"  # other tests' workers in this process consume the same messages


@pytest.fixture(scope="module")
async def running(infra: Infra, spans: InMemorySpanExporter) -> AsyncIterator[httpx.AsyncClient]:
    billing = BillingSettings(
        database_url=infra.database_urls["billing"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=GROUP,
    )
    ingest = IngestSettings(kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key)
    async with (
        LifespanManager(create_billing(billing)),
        LifespanManager(create_worker_app(billing), startup_timeout=60),  # type: ignore[arg-type]
        serving(create_ingest(ingest), "http://ingest", api_key=infra.api_key) as client,
    ):
        yield client


@pytest.fixture(scope="module")
async def gateway(infra: Infra, running: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in front of a second ingest, this one on a port (the gateway forwards over HTTP)."""
    ingest = IngestSettings(kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key)
    async with listening(create_ingest(ingest)) as ingest_url:
        settings = GatewaySettings(
            database_url=infra.database_urls["gateway"],
            kafka_bootstrap_servers=infra.kafka_bootstrap,
            bootstrap_api_key=infra.api_key,
            admin_email=infra.admin_email,
            admin_password=infra.admin_password,
            ingest_url=ingest_url,
            stream_enabled=False,
        )
        async with serving(create_gateway(settings), "http://gateway", api_key=infra.api_key) as client:
            yield client


def named(spans: InMemorySpanExporter, kind: SpanKind, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.kind == kind and s.name == name]


def ours(spans: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    """The billing consumer spans of this module's worker in the trace."""
    return [
        s
        for s in named(spans, SpanKind.CONSUMER, "usage.events.v1 process")
        if s.context.trace_id == trace_id and (s.attributes or {}).get("messaging.consumer.group.name") == GROUP
    ]


async def test_consumer_span_is_a_child_of_the_ingest_request(
    running: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    event = {
        "id": uuid4().hex,
        "customer_id": f"trace-{uuid4().hex[:6]}",
        "type": "api_call",
        "timestamp": datetime.now(UTC).isoformat(),
    }
    response = await running.post("/v1/events/batch", json={"events": [event]})
    assert response.status_code == 202
    [server] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER and "/v1/events/batch" in s.name]
    [publish] = [
        s
        for s in named(spans, SpanKind.PRODUCER, "usage.events.v1 publish")
        if s.context.trace_id == server.context.trace_id
    ]

    async def consumed() -> ReadableSpan:
        mine = ours(spans, server.context.trace_id)
        assert len(mine) == 1
        return mine[0]

    consumer = await eventually(consumed)
    assert publish.parent is not None and publish.parent.span_id == server.context.span_id
    assert consumer.parent is not None and consumer.parent.span_id == publish.context.span_id
    assert consumer.parent.is_remote


async def test_the_consumers_sql_is_in_the_same_trace(running: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    event = {"id": uuid4().hex, "customer_id": f"sql-{uuid4().hex[:6]}", "type": "api_call"}
    assert (await running.post("/v1/events", json=event)).status_code == 202
    [server] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER and s.name.endswith("/v1/events")]

    async def written() -> tuple[ReadableSpan, list[ReadableSpan]]:
        mine = ours(spans, server.context.trace_id)
        assert len(mine) == 1
        finished = spans.get_finished_spans()
        writes = [s for s in finished if s.name == "usage.events.v1 write" and s.parent == mine[0].context]
        assert len(writes) == 1
        sql = [s for s in finished if s.parent is not None and s.parent.span_id == writes[0].context.span_id]
        assert sql and all((s.attributes or {}).get("db.statement") for s in sql)
        return writes[0], sql

    write, sql = await eventually(written)
    assert write.context.trace_id == server.context.trace_id
    assert {statement.context.trace_id for statement in sql} == {server.context.trace_id}


async def test_one_trace_crosses_the_gateway_ingest_and_billing(
    gateway: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    event = {"id": uuid4().hex, "customer_id": f"gw-{uuid4().hex[:6]}", "type": "api_call"}
    before = len(spans.get_finished_spans())
    assert (await gateway.post("/v1/events", json=event)).status_code == 202
    roots = [s for s in spans.get_finished_spans()[before:] if s.kind == SpanKind.SERVER and s.parent is None]
    [front] = [s for s in roots if s.name == "POST /v1/events"]  # the gateway's: the trace's root
    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == front.context.trace_id]
    calls = [s for s in in_trace if s.kind == SpanKind.CLIENT and s.parent == front.context]
    [forward] = [s for s in calls if "http.url" in (s.attributes or {}) or "url.full" in (s.attributes or {})]

    async def consumed() -> None:
        finished = [s for s in spans.get_finished_spans() if s.context.trace_id == front.context.trace_id]
        [ingest] = [
            s
            for s in finished
            if s.kind == SpanKind.SERVER and s.parent and s.parent.span_id == forward.context.span_id
        ]
        assert ingest.parent is not None and ingest.parent.is_remote  # it came over HTTP in `traceparent`
        assert len(ours(spans, front.context.trace_id)) == 1

    await eventually(consumed)
