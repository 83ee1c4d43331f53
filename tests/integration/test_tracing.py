"""One trace from the ingest request, through the Kafka header, into the billing consumer's span and down to the
SQL statements of its write."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing.app import create_app as create_billing
from billing.config import BillingSettings
from billing.worker import create_worker_app
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tally_runtime.tracing import configure_tracing
from tally_stack.testing import Infra, eventually, serving
from usage_ingest.app import create_app as create_ingest
from usage_ingest.config import IngestSettings


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing("tally-test", None, extra=SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture(scope="module")
async def running(infra: Infra, spans: InMemorySpanExporter) -> AsyncIterator[httpx.AsyncClient]:
    billing = BillingSettings(
        database_url=infra.database_urls["billing"],
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        consumer_group=f"billing-trace-{uuid4().hex[:8]}",
    )
    ingest = IngestSettings(kafka_bootstrap_servers=infra.kafka_bootstrap, bootstrap_api_key=infra.api_key)
    async with (
        LifespanManager(create_billing(billing)),
        LifespanManager(create_worker_app(billing), startup_timeout=60),  # type: ignore[arg-type]
        serving(create_ingest(ingest), "http://ingest", api_key=infra.api_key) as client,
    ):
        yield client


def named(spans: InMemorySpanExporter, kind: SpanKind, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.kind == kind and s.name == name]


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
        mine = [
            s
            for s in named(spans, SpanKind.CONSUMER, "usage.events.v1 process")
            if s.context.trace_id == server.context.trace_id
        ]
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
        trace_spans = [s for s in spans.get_finished_spans() if s.context.trace_id == server.context.trace_id]
        writes = [s for s in trace_spans if s.name == "usage.events.v1 write"]
        sql = [s for s in trace_spans if (s.attributes or {}).get("db.statement")]
        assert len(writes) == 1 and sql
        return writes[0], sql

    write, sql = await eventually(written)
    [consumer] = [s for s in named(spans, SpanKind.CONSUMER, "usage.events.v1 process") if s.context == write.parent]
    assert consumer.context.trace_id == server.context.trace_id
    assert all(statement.parent is not None for statement in sql)
    assert any(statement.parent and statement.parent.span_id == write.context.span_id for statement in sql)
