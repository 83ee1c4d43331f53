"""End-to-end latency: from posting one event to usage-ingest until the gateway shows it in the customer's usage.

Baseline, measured in the same run on the same broker: a bare aiokafka produce -> consume round trip, the floor
that any Kafka-based pipeline pays.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.stack import RunningStack, unthrottled_read_key

POLL_INTERVAL_S = 0.002


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def ingest_to_visible(stack: RunningStack, samples: int) -> list[float]:
    run = uuid4().hex[:8]
    event_type, customer, meter = f"bench_{run}", f"bench-{run}", f"bench_calls_{run}"
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    reader = {"Authorization": f"Bearer {await unthrottled_read_key(stack, 'bench latency')}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        created = await http.post(
            f"{stack.gateway_url}/v1/meters", json={"key": meter, "event_type": event_type, "aggregation": "count"}
        )
        created.raise_for_status()
        now = datetime.now(UTC)
        window = {
            "meter": meter,
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        latencies = []
        for n in range(1, samples + 1):
            started = time.perf_counter()
            event = {"id": f"{run}-{n}", "customer_id": customer, "type": event_type}
            (await http.post(f"{stack.ingest_url}/v1/events", json=event)).raise_for_status()
            while True:
                usage = await http.get(
                    f"{stack.gateway_url}/v1/customers/{customer}/usage", params=window, headers=reader
                )
                if usage.raise_for_status().json()["total"] >= n:
                    break
                await asyncio.sleep(POLL_INTERVAL_S)
            latencies.append(time.perf_counter() - started)
    return latencies


async def kafka_round_trip(stack: RunningStack, samples: int) -> list[float]:
    topic = "usage.events.v1.dlq"  # exists on every stack; the records carry a key nobody consumes by
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", enable_idempotence=False)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await producer.start()
    await consumer.start()
    marker = f"bench-{uuid4().hex}".encode()
    try:
        while await consumer.getmany(timeout_ms=300):  # drain what is there already
            pass
        latencies = []
        for n in range(samples):
            started = time.perf_counter()
            await producer.send_and_wait(topic, value=str(n).encode(), key=marker)
            seen = False
            while not seen:
                batches = await consumer.getmany(timeout_ms=1000)
                seen = any(r.key == marker and r.value == str(n).encode() for rs in batches.values() for r in rs)
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await consumer.stop()
        await producer.stop()
