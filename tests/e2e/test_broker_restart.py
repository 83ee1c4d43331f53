"""The broker stopped in the middle of a load and started again on durable storage (S3 on loopback): every event
the client library tracked is counted exactly once: those that got a 202 before the stop, and those it retried."""

import asyncio
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from contracts.topics import TOPICS
from tally_cli.topics import create_topics
from tally_client import AsyncTallyClient
from tally_stack.broker import start_broker
from tally_stack.procs import free_port, stop_process
from tally_stack.s3 import S3, start_s3
from tally_stack.system import System, run_system
from tally_stack.testing import Infra, eventually, own_database

pytestmark = pytest.mark.e2e
EVENTS = 12_000  # each record batch is an S3 object that every fetch after the restart lists: keep them few
CUSTOMERS = 10
OUTAGE_S = 12  # longer than usage-ingest's 10 s publish timeout, so requests get 503 and the client retries


@dataclass
class DurableBroker:
    port: int
    s3: S3
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = start_broker(self.port, self.log, storage=self.s3.storage, env=self.s3.broker_env)

    def stop(self) -> None:
        assert self.proc is not None
        stop_process(self.proc)


@pytest.fixture(scope="module")
def durable(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, DurableBroker]]:
    logs = tmp_path_factory.mktemp("durable")
    s3 = start_s3(logs / "s3.log")
    broker = DurableBroker(free_port(), s3, logs / "broker.log")
    try:
        broker.start()
        asyncio.run(create_topics(f"127.0.0.1:{broker.port}", TOPICS))
        on_durable_broker = replace(infra, kafka_bootstrap=f"127.0.0.1:{broker.port}")
        with own_database(infra.admin_url, f"tally_durable_{os.getpid()}", infra.passwords) as urls:
            # Only what the test is about: on S3 emulated by one Python process, every other consumer slows it.
            for system in run_system(on_durable_broker, urls, logs, without=frozenset({"analytics.worker"})):
                yield system, broker
    finally:
        if broker.proc is not None:
            stop_process(broker.proc)
        stop_process(s3.proc)


async def test_every_event_counted_once_across_a_broker_restart(durable: tuple[System, DurableBroker]) -> None:
    system, broker = durable
    run, event_type = uuid4().hex[:8], f"api_call_{uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(headers=headers, timeout=15) as http:
        meter = {"key": f"calls_{run}", "event_type": event_type, "aggregation": "count"}
        assert (await http.post(f"{system.url('gateway')}/v1/meters", json=meter)).status_code == 201

        client = AsyncTallyClient(system.stack.api_key, system.url("usage-ingest"), max_retry_duration=180)
        expected: Counter[str] = Counter()
        for n in range(EVENTS):
            customer = f"{run}-c{n % CUSTOMERS}"
            client.track(customer, event_type, {"n": n})
            expected[customer] += 1
            if n % 500 == 0:
                await asyncio.sleep(0.02)  # let the sender work, as a live product would
            if n == int(EVENTS * 0.3):
                await asyncio.to_thread(broker.stop)
            if n == int(EVENTS * 0.5):
                await asyncio.sleep(OUTAGE_S)
                await asyncio.to_thread(broker.start)
        await client.aclose()
        assert (client.stats.sent, client.stats.failed) == (EVENTS, 0)
        assert client.stats.retried > 0, "the broker stop should have made the client retry"

        async def all_counted_once() -> None:
            for customer, count in expected.items():
                params = {"meter": meter["key"], "from": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
                usage = await http.get(f"{system.url('gateway')}/v1/customers/{customer}/usage", params=params)
                assert usage.json()["total"] == count, customer

        await eventually(all_counted_once, seconds=420, interval=1)
