"""Ingest throughput: events/s and latency at batch sizes 1 and 100, against baselines from the same run: the
validate-only endpoint (the ceiling: everything but Kafka) at both sizes and a raw aiokafka producer, one record per
event; then batch-100 paced at 80% of its peak. Those rows measure the front door alone, the usage consumers paused
(see `front_door`). Then the billing consumer's rate: alone through the backlogs ingest's peak and its single events
left, over a load it takes in as it arrives (sharing the two cores), and through small messages produced straight
onto the topic."""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer
from contracts.envelope import encode_event
from contracts.topics import USAGE_EVENTS
from contracts.usage import UsageBatchRecorded, UsageBatchRecordedEvent, UsageItem
from tally_runtime.kafka import PRODUCER_OPTIONS
from usage_ingest.config import IngestSettings
from usage_ingest.events.partitions import partition_of

from bench.bare_server import bare_server
from bench.consumers import Consumer, paused, usage_consumers
from bench.loadgen import LoadResult, run_load
from bench.stack import RunningStack

CUSTOMERS = 50
INGEST_PROCESSES: int = IngestSettings.model_fields["api_workers"].default  # the stack's: it sets no other


@dataclass(frozen=True)
class Row:
    name: str
    events_per_s: float | None
    requests_per_s: float | None
    p50_ms: float | None
    p99_ms: float | None


def bodies(run: str, requests: int, size: int) -> list[bytes]:
    now = datetime.now(UTC).isoformat()
    return [
        json.dumps(
            {
                "events": [
                    {
                        "id": f"{run}-{n}-{i}",
                        "customer_id": f"bench-{run}-{(n * size + i) % CUSTOMERS}",
                        "type": "bench_call",
                        "timestamp": now,
                        "properties": {"tokens": i, "model": "large"},
                    }
                    for i in range(size)
                ]
            }
        ).encode()
        for n in range(requests)
    ]


def row(name: str, result: LoadResult) -> Row:
    return Row(name, result.events_per_s, result.requests_per_s, result.p(0.5), result.p(0.99))


async def load(
    stack: RunningStack,
    path: str,
    *,
    size: int,
    requests: int,
    connections: int,
    rate: float | None = None,
    server: str | None = None,
) -> LoadResult:
    """To usage-ingest, or to `server` (a base URL) when given."""
    payloads = bodies(uuid4().hex[:8], requests, size)
    headers = {"Authorization": f"Bearer {stack.api_key}", "Content-Type": "application/json"}
    result = await run_load(
        f"{server or stack.ingest_url}{path}",
        lambda n: payloads[n],
        requests=requests,
        events_per_request=size,
        connections=connections,
        headers=headers,
        rate=rate,
    )
    if set(result.statuses) - {200, 202}:
        raise RuntimeError(f"{path} answered {result.statuses}")
    return result


async def raw_producer(stack: RunningStack, events: int) -> Row:
    """One record per event, straight to the broker, acks=all: what publishing per event costs."""
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    value = json.dumps({"tokens": 1, "model": "large"}).encode()
    try:
        started = time.perf_counter()
        acks = [await producer.send("usage.events.v1.dlq", value=value, key=b"bench") for _ in range(events)]
        await asyncio.gather(*acks)
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    return Row("baseline: raw aiokafka, 1 record/event", events / seconds, None, None, None)


def backlog(run: str, messages: int, size: int, partitions: tuple[int, ...]) -> list[tuple[int, bytes, bytes]]:
    """usage.events.v1 records shaped as ingest writes them: (partition, key, value), one batch_recorded message
    per partition, its events spread over the customers on that partition and keyed by the first of them."""
    on_partition: dict[int, list[str]] = {}
    for n in range(CUSTOMERS):
        customer = f"bench-{run}-{n}"
        on_partition.setdefault(partition_of(customer, partitions), []).append(customer)
    groups = list(on_partition.items())
    now = datetime.now(UTC)
    records = []
    for m in range(messages):
        partition, customers = groups[m % len(groups)]
        items = [
            UsageItem(
                event_id=f"{run}-{m}-{i}",
                event_type="bench_call",
                timestamp=now,
                properties={"tokens": i},
                customer_id=customers[i % len(customers)],
            )
            for i in range(size)
        ]
        data = UsageBatchRecorded(customer_id=customers[0], events=items)
        message = UsageBatchRecordedEvent.of(f"msg-{run}-{m}", data, source="bench", time=now)
        records.append((partition, customers[0].encode(), encode_event(message)))
    return records


async def billing_drain(stack: RunningStack, billing: Consumer, messages: int, size: int) -> Row:
    """Produce a backlog straight onto the topic (faster than the consumer), then time the worker through it."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, **PRODUCER_OPTIONS)
    await producer.start()
    partitions = tuple(sorted(await producer.partitions_for(USAGE_EVENTS)))
    records = backlog(uuid4().hex[:8], messages, size, partitions)
    async with httpx.AsyncClient(timeout=10) as http:
        before = await billing.consumed(http)
        started = time.perf_counter()
        try:
            acks = [
                await producer.send(USAGE_EVENTS, value=value, key=key, partition=partition)
                for partition, key, value in records
            ]
            await asyncio.gather(*acks)
        finally:
            await producer.stop()
        await billing.consumed_after(http, before + messages * size)
        seconds = time.perf_counter() - started
    name = f"billing consumer, backlog of {size}-event messages from a direct producer"
    return Row(name, messages * size / seconds, None, None, None)


async def billing_rate(stack: RunningStack, billing: Consumer, requests: int) -> tuple[Row, Row]:
    """Load batch-100 with the consumers running and watch the billing worker take in the same events: its rate
    is events over the time from the load's start until it has consumed them all (so it keeps up when that is the
    load's own time)."""
    async with httpx.AsyncClient(timeout=10) as http:
        before = await billing.consumed(http)
        started = time.perf_counter()
        result = await load(stack, "/v1/events/batch", size=100, requests=requests, connections=16)
        await billing.consumed_after(http, before + result.events)
        seconds = time.perf_counter() - started
    return row("ingest, batch 100, consumers running", result), Row(
        "billing consumer, same load", result.events / seconds, None, None, None
    )


async def front_door(
    stack: RunningStack, consumers: dict[str, Consumer], name: str, path: str, **shape: Any
) -> tuple[Row, Row]:
    """One load measured alone, as the validate-only ceiling is: the consumers paused meanwhile (Kafka keeps the
    events for them), so the row does not depend on how much of the two cores they take. Then billing's worker,
    alone, through the backlog the load left; then analytics catches up too, so the next load starts on a quiet
    machine. Returns the load's row and the billing worker's."""
    billing, analytics = consumers["billing"], consumers["analytics"]
    async with httpx.AsyncClient(timeout=10) as http:
        before = {consumer.name: await consumer.consumed(http) for consumer in consumers.values()}
        with paused([analytics]):
            with paused([billing]):
                result = await load(stack, path, **shape)
            published = result.statuses.get(202, 0) * shape["size"]  # validate-only answers 200 and sends nothing
            started = time.perf_counter()
            await billing.consumed_after(http, before["billing"] + published)
            drained = time.perf_counter() - started
        await analytics.consumed_after(http, before["analytics"] + published)
    rate = published / drained if published else None
    return row(name, result), Row(f"billing consumer alone, through that backlog ({name})", rate, None, None, None)


async def measure_ingest(stack: RunningStack, requests: int = 1000) -> list[Row]:
    consumers = usage_consumers()
    validate, batch = "/v1/events/validate", "/v1/events/batch"
    ceiling, _ = await front_door(
        stack, consumers, "ceiling: validate-only, batch 100", validate, size=100, requests=requests, connections=16
    )
    single_ceiling, _ = await front_door(
        stack, consumers, "ceiling: validate-only, batch 1", validate, size=1, requests=requests * 4, connections=64
    )
    with bare_server(INGEST_PROCESSES) as bare:
        floor, _ = await front_door(
            stack,
            consumers,
            "floor: bare server, batch 1",
            batch,
            size=1,
            requests=requests * 4,
            connections=64,
            server=bare,
        )
    rows = [ceiling, single_ceiling, floor, await raw_producer(stack, requests * 20)]
    peak, peak_drain = await front_door(
        stack, consumers, "ingest, batch 100", batch, size=100, requests=requests, connections=16
    )
    singles, singles_drain = await front_door(
        stack, consumers, "ingest, batch 1", batch, size=1, requests=requests * 4, connections=64
    )
    paced, _ = await front_door(
        stack,
        consumers,
        "ingest, batch 100 at 80% of peak",
        batch,
        size=100,
        requests=requests,
        connections=16,
        rate=0.8 * (peak.requests_per_s or 0.0),
    )
    rows += [peak, singles, paced, peak_drain, singles_drain]
    rows.extend(await billing_rate(stack, consumers["billing"], requests))
    rows.append(await billing_drain(stack, consumers["billing"], messages=requests * 50, size=2))
    return rows
