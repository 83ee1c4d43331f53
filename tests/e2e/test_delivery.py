"""Delivery guarantees with the real processes: every unique event counted exactly once through duplicates and a
SIGKILLed worker; a malformed message goes to the DLQ without blocking the events behind it."""

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from contracts.topics import USAGE_EVENTS, dlq_topic
from tally_stack.dsn import libpq_url
from tally_stack.system import System
from tally_stack.testing import consume_all, eventually, produce, spawned_processes

pytestmark = pytest.mark.e2e

UNIQUE_EVENTS = 10_000
DUPLICATE_SHARE = 0.10
CUSTOMERS = 20
BATCH = 500
CONCURRENCY = 4


def make_events(run: str, event_type: str, rng: random.Random) -> list[dict[str, Any]]:
    """Unique events with timestamps over the last 30 days, plus 10% resent, all in shuffled order."""
    now = datetime.now(UTC)
    unique = [
        {
            "id": f"{run}-{n}",
            "customer_id": f"{run}-c{rng.randrange(CUSTOMERS)}",
            "type": event_type,
            "timestamp": (now - timedelta(seconds=rng.uniform(60, 30 * 86_400))).isoformat(),
            "properties": {"tokens": rng.choice([rng.randint(1, 2000), round(rng.uniform(0, 100), 2)])},
        }
        for n in range(UNIQUE_EVENTS)
    ]
    events = unique + rng.sample(unique, int(UNIQUE_EVENTS * DUPLICATE_SHARE))
    rng.shuffle(events)
    return events


def expected_totals(events: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal]]:
    unique = {e["id"]: e for e in events}.values()
    totals: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    for event in unique:
        count, total = totals[event["customer_id"]]
        totals[event["customer_id"]] = (count + 1, total + Decimal(repr(event["properties"]["tokens"])))
    return dict(totals)


async def post_all(
    http: httpx.AsyncClient,
    url: str,
    events: list[dict[str, Any]],
    milestones: dict[float, Callable[[], Awaitable[None]]],
) -> None:
    """Post in batches from a few concurrent senders; run each milestone once that share of events is sent."""
    batches = [events[start : start + BATCH] for start in range(0, len(events), BATCH)]
    pending = iter(batches)
    sent = 0
    in_order = asyncio.Lock()

    async def sender() -> None:
        nonlocal sent
        for batch in pending:
            response = await http.post(url, json={"events": batch})
            assert response.status_code == 202, response.text
            sent += len(batch)
            async with in_order:
                while milestones and sent >= min(milestones) * len(events):
                    await milestones.pop(min(milestones))()

    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))


async def worker_has_consumed(http: httpx.AsyncClient, system: System) -> float:
    metrics = (await http.get(f"http://127.0.0.1:{system.service('billing').worker_port}/metrics")).text
    processed = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("tally_events_consumed_total{") and 'outcome="processed"' in line
    )
    assert processed > 0
    return processed


def consumer_processes(system: System, name: str) -> int:
    """The worker's own consumer processes (it runs `<PREFIX>_WORKER_PROCESSES` of them under one parent)."""
    return len(spawned_processes(system.procs[f"{name}.worker"].pid))


async def test_exactly_once_through_duplicates_and_a_killed_worker(system: System) -> None:
    run, event_type = uuid4().hex[:8], f"api_call_{uuid4().hex[:8]}"
    events = make_events(run, event_type, random.Random(42))
    gateway = system.url("gateway")
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        calls, tokens = f"calls_{run}", f"tokens_{run}"
        for meter in (
            {"key": calls, "event_type": event_type, "aggregation": "count"},
            {"key": tokens, "event_type": event_type, "aggregation": "sum", "property": "tokens"},
        ):
            assert (await http.post(f"{gateway}/v1/meters", json=meter)).status_code == 201

        async def kill_worker_mid_stream() -> None:
            await eventually(lambda: worker_has_consumed(http, system), seconds=60)
            assert consumer_processes(system, "billing") == 2  # both members of the group die mid-batch
            system.kill("billing", "worker")

        async def restart_worker() -> None:
            system.start("billing", "worker")

        milestones = {0.3: kill_worker_mid_stream, 0.7: restart_worker}
        await post_all(http, f"{system.url('usage-ingest')}/v1/events/batch", events, milestones)
        await asyncio.to_thread(system.wait_ready, "billing", "worker")

        window = {"from": (datetime.now(UTC) - timedelta(days=31)).isoformat(), "to": datetime.now(UTC).isoformat()}
        expected = expected_totals(events)

        async def all_counted_once() -> None:
            for customer, (count, total) in expected.items():
                url = f"{gateway}/v1/customers/{customer}/usage"
                counted = (await http.get(url, params=window | {"meter": calls})).json()["total"]
                summed = (await http.get(url, params=window | {"meter": tokens})).json()["total"]
                assert (counted, Decimal(repr(summed))) == (count, total), customer

        await eventually(all_counted_once, seconds=180, interval=1)

    connection = await asyncpg.connect(libpq_url(system.stack.database_urls["billing"]))
    try:
        stored = await connection.fetchval("SELECT count(*) FROM usage_events WHERE event_type = $1", event_type)
    finally:
        await connection.close()
    assert stored == UNIQUE_EVENTS
    assert sum(count for count, _ in expected.values()) == UNIQUE_EVENTS


async def test_a_malformed_message_goes_to_the_dlq_and_the_next_event_counts(system: System) -> None:
    customer, event_type = f"dlq-{uuid4().hex[:8]}", f"api_call_{uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        meter = {"key": f"calls_{uuid4().hex[:8]}", "event_type": event_type, "aggregation": "count"}
        assert (await http.post(f"{system.url('gateway')}/v1/meters", json=meter)).status_code == 201
        # Same key, so the same partition: the valid event queues behind the malformed one.
        await produce(system.stack.kafka_bootstrap, USAGE_EVENTS, [(customer.encode(), b'{"specversion": "1.0", "id"')])
        event = {"id": "after-poison", "customer_id": customer, "type": event_type}
        assert (await http.post(f"{system.url('usage-ingest')}/v1/events", json=event)).status_code == 202

        async def counted() -> None:
            window = {"from": (datetime.now(UTC) - timedelta(days=1)).isoformat(), "to": datetime.now(UTC).isoformat()}
            params = window | {"meter": meter["key"]}
            usage = await http.get(f"{system.url('gateway')}/v1/customers/{customer}/usage", params=params)
            assert usage.json()["total"] == 1

        await eventually(counted)

    async def dead_lettered() -> dict[str, str]:
        records = await consume_all(system.stack.kafka_bootstrap, dlq_topic(USAGE_EVENTS))
        ours = [{k: v.decode() for k, v in r.headers} for r in records if r.key == customer.encode()]
        [headers] = [h for h in ours if h["tally-dlq-consumer"] == system.extra_env["BILLING_CONSUMER_GROUP"]]
        return headers

    headers_on_dlq = await eventually(dead_lettered)
    assert headers_on_dlq["tally-dlq-topic"] == USAGE_EVENTS
    assert "json" in headers_on_dlq["tally-dlq-reason"].lower()
