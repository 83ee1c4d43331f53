"""Revenue analytics on a synthetic 24-month history of 10,000 customers (bench.analytics_data), produced onto a
topic of its own (a copy of billing.events.v1, so the stack's own services never see it), with a database of its
own. Measured in one run: the raw consume of that topic (the yardstick: every record read, nothing done), the
rebuild of every billing projection from it (`analytics.projections.rebuild`, as `make analytics-rebuild` runs it),
then p50/p99 of /v1/metrics/summary and /v1/metrics/mrr through a real analytics api process over HTTP."""

import asyncio
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from analytics.config import AnalyticsSettings
from analytics.db import MIGRATIONS, SCHEMA
from analytics.projections.rebuild import rebuild
from analytics.projections.replay import Records, replay
from tally_runtime.db import create_engine, session_factory
from tally_runtime.kafka import create_producer
from tally_stack.procs import free_port, ready_or_stopped, spawn_logged, stop_process, until_ready

from bench.analytics_data import MONTHS, history, month_start
from bench.ingest import Row
from bench.latency import percentile
from bench.stack import STATE_DIR, RunningStack, bench_database

PARTITIONS = 6
TARGET_RATIO = 3.0
TARGET_P99_MS = 200.0


@asynccontextmanager
async def bench_topic(bootstrap: str, name: str) -> AsyncIterator[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)])
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def produce_all(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = create_producer(bootstrap, client_id="bench-analytics")
    await producer.start()
    try:
        for first in range(0, len(records), 20_000):
            sends = [await producer.send(topic, value=v, key=k) for k, v in records[first : first + 20_000]]
            await asyncio.gather(*sends)
    finally:
        await producer.stop()


@asynccontextmanager
async def api_process(url: str, bootstrap: str) -> AsyncIterator[str]:
    port = free_port()
    env = os.environ | {
        "ANALYTICS_DATABASE_URL": url,
        "ANALYTICS_API_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TALLY_LOG_LEVEL": "WARNING",
        "ANALYTICS_ANSWER_CACHE_BYTES": "0",  # every request computed: these rows measure the queries
    }
    log = STATE_DIR / "bench-analytics-api.log"
    process = spawn_logged([sys.executable, "-m", "analytics", "api"], log, env=env)
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(ready_or_stopped, process, log, until_ready(process, base))
    try:
        yield base
    finally:
        stop_process(process)


async def latencies(http: httpx.AsyncClient, path: str, params: Callable[[], dict[str, str]], n: int) -> Row:
    for _ in range(10):
        (await http.get(path, params=params())).raise_for_status()
    seconds = []
    started = time.perf_counter()
    for _ in range(n):
        before = time.perf_counter()
        response = await http.get(path, params=params())
        seconds.append(time.perf_counter() - before)
        response.raise_for_status()
    elapsed = time.perf_counter() - started
    p50, p99 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000
    return Row(f"GET {path}", None, n / elapsed, p50, p99)


async def timed(step: Awaitable[object]) -> float:
    started = time.perf_counter()
    await step
    return time.perf_counter() - started


async def analytics_rows(stack: RunningStack, customers: int, requests: int) -> list[tuple[Row, str]]:
    records = history(customers)
    count = len(records)
    print(f"analytics: {customers:,} customers, {MONTHS} months: {count:,} billing events", file=sys.stderr)
    rng = random.Random(6)
    topic = f"bench.billing-events.{os.getpid()}"
    async with bench_topic(stack.kafka_bootstrap, topic), bench_database(stack.database_url, SCHEMA, MIGRATIONS) as url:
        produced_s = await timed(produce_all(stack.kafka_bootstrap, topic, records))
        print(f"analytics: produced in {produced_s:.1f} s", file=sys.stderr)

        async def nothing(_: Records) -> None:
            return None

        raw_s = await timed(replay(stack.kafka_bootstrap, topic, f"bench-raw-{os.getpid()}", nothing, commit=False))
        settings = AnalyticsSettings(
            database_url=url, kafka_bootstrap_servers=stack.kafka_bootstrap, consumer_group=f"bench-{os.getpid()}"
        )
        engine = create_engine(url, SCHEMA)
        try:
            rebuilt = await rebuild(settings, session_factory(engine), topic)
        finally:
            await engine.dispose()
        first, last = month_start(0).date(), (month_start(MONTHS) - timedelta(days=1)).date()
        days = (last - first).days

        def summary() -> dict[str, str]:
            return {"as_of": str(first + timedelta(days=rng.randrange(30, days)))}

        def bridge() -> dict[str, str]:
            return {"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"}

        async with api_process(url, stack.kafka_bootstrap) as base, httpx.AsyncClient(base_url=base, timeout=30) as h:
            summary_row = await latencies(h, "/v1/metrics/summary", summary, requests)
            bridge_row = await latencies(h, "/v1/metrics/mrr", bridge, requests)
    raw = Row(f"raw consume of {count:,} billing events (yardstick)", count / raw_s, None, None, None)
    ratio = rebuilt.seconds / raw_s
    rebuild_row = Row(f"rebuild all projections ({rebuilt.seconds:.1f} s)", count / rebuilt.seconds, None, None, None)
    return [
        (raw, "baseline"),
        (rebuild_row, f"{ratio:.1f}x raw consume time (target <= {TARGET_RATIO:.0f}x)"),
        *((row, f"p99 target < {TARGET_P99_MS:.0f} ms") for row in (summary_row, bridge_row)),
    ]
