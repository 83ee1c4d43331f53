"""The clients against the real system (every api and worker as processes): every event counted exactly once,
through usage-ingest SIGKILLed mid-stream and restarted; a refused key; invalid events dropped; the exit flush."""

import asyncio
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from tally_client import AsyncTallyClient, DeliveryFailure, Stats, TallyClient
from tally_stack.system import System

pytestmark = pytest.mark.e2e

INGEST = ("usage-ingest", "api")


@dataclass(frozen=True)
class Meter:
    key: str
    event_type: str


@dataclass
class Tally:
    system: System

    @property
    def ingest_url(self) -> str:
        return self.system.url("usage-ingest")

    @property
    def api_key(self) -> str:
        return self.system.stack.api_key

    def count_meter(self) -> Meter:
        """A new `count` meter over a new event type, so no other test's events reach it."""
        run = uuid4().hex[:10]
        meter = Meter(f"client_calls_{run}", f"client_call_{run}")
        body = {"key": meter.key, "event_type": meter.event_type, "aggregation": "count"}
        created = httpx.post(f"{self.system.url('gateway')}/v1/meters", json=body, headers=self._auth(), timeout=10)
        assert created.status_code == 201, created.text
        return meter

    def total(self, customer: str, meter: Meter) -> float:
        now = datetime.now(UTC)
        window = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
        params = {"meter": meter.key, **window}
        url = f"{self.system.url('gateway')}/v1/customers/{customer}/usage"
        response = httpx.get(url, params=params, headers=self._auth(), timeout=10)
        assert response.status_code == 200, response.text
        total: float = response.json()["total"]
        return total

    def wait_for_total(self, customer: str, meter: Meter, expected: int, seconds: float = 60) -> None:
        """Wait until the total is `expected`, then make sure it stays there (nothing counted twice, late)."""
        deadline = time.monotonic() + seconds
        while (total := self.total(customer, meter)) < expected and time.monotonic() < deadline:
            time.sleep(0.3)
        assert total == expected, f"{customer}: {total} counted, {expected} expected"
        time.sleep(1.0)
        assert self.total(customer, meter) == expected

    @contextmanager
    def restoring_ingest(self) -> Iterator[None]:
        """usage-ingest's api is running and ready again after the block, even when the block fails."""
        try:
            yield
        finally:
            self.ingest_up()

    def kill_ingest(self) -> None:
        """SIGKILL usage-ingest's api with its uvicorn workers: requests in flight die with it."""
        self.system.kill(*INGEST)

    def ingest_up(self) -> None:
        running = self.system.procs.get(".".join(INGEST))
        if running is None or running.poll() is not None:
            self.system.start(*INGEST)
        self.system.wait_ready(*INGEST)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture
def tally(system: System) -> Tally:
    return Tally(system)


@pytest.fixture
def customer() -> str:
    return f"client-{uuid4().hex[:10]}"


EVENTS = 1500
OUTAGE_EVENTS = 1200
KILL_AT = 400


def test_the_sync_client_delivers_every_event_once(tally: Tally, customer: str) -> None:
    meter = tally.count_meter()
    with TallyClient(tally.api_key, tally.ingest_url, max_batch=500) as client:
        ids = [client.track(customer, meter.event_type, {"n": n}) for n in range(EVENTS)]
    assert len(set(ids)) == EVENTS
    stats = client.stats
    assert (stats.queued, stats.sent, stats.failed, stats.rejected, stats.dropped) == (EVENTS, EVENTS, 0, 0, 0)
    tally.wait_for_total(customer, meter, EVENTS)


async def test_the_async_client_delivers_every_event_once(tally: Tally, customer: str) -> None:
    meter = tally.count_meter()
    async with AsyncTallyClient(tally.api_key, tally.ingest_url, max_batch=400) as client:
        ids = [client.track(customer, meter.event_type, {"n": n}) for n in range(EVENTS)]
        assert await client.flush(timeout=30)
        assert client.stats.sent == EVENTS
        client.track(customer, meter.event_type, id=ids[0])  # a resend of a delivered event counts nothing
    stats = client.stats
    assert (stats.queued, stats.sent, stats.failed, stats.rejected, stats.dropped) == (EVENTS + 1, EVENTS + 1, 0, 0, 0)
    tally.wait_for_total(customer, meter, EVENTS)


def test_a_refused_key_fails_loudly_and_is_not_retried(
    tally: Tally, customer: str, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[DeliveryFailure] = []
    with TallyClient("not-the-key", tally.ingest_url, on_error=failures.append) as client:
        ids = [client.track(customer, "api_call") for _ in range(3)]
    assert (client.stats.failed, client.stats.sent, client.stats.retried) == (3, 0, 0)
    [failure] = failures
    assert (failure.kind, failure.status, failure.ids) == ("failed", 401, ids)
    assert "API key" in failure.reason
    assert any(r.levelno == logging.ERROR and r.name == "tally_client" for r in caplog.records)


def test_invalid_events_are_dropped_and_the_rest_delivered_once(tally: Tally, customer: str) -> None:
    meter = tally.count_meter()
    failures: list[DeliveryFailure] = []
    old = datetime.now(UTC) - timedelta(days=40)
    with TallyClient(tally.api_key, tally.ingest_url, on_error=failures.append) as client:
        good = [client.track(customer, meter.event_type) for _ in range(3)]
        bad_type = client.track(customer, "9-not-a-type")  # refused by the schema
        good.append(client.track(customer, meter.event_type))
        too_big = client.track(customer, meter.event_type, {"blob": "x" * 9000})  # refused by the schema
        too_old = client.track(customer, meter.event_type, timestamp=old)  # refused later, by the time window
        good.append(client.track(customer, meter.event_type))
    assert (client.stats.sent, client.stats.rejected, client.stats.failed) == (5, 3, 0)
    reasons = {f.ids[0]: f.reason for f in failures if f.kind == "rejected"}
    assert reasons.keys() == {bad_type, too_big, too_old}
    assert reasons[bad_type].startswith("type:")
    assert reasons[too_big].startswith("properties:")
    assert reasons[too_old] == "timestamp: older than 35 days"
    tally.wait_for_total(customer, meter, len(good))


EXIT_SCRIPT = """
import asyncio, atexit, sys
from tally_client import AsyncTallyClient, TallyClient

url, key, customer, event_type, variant, count = sys.argv[1:]
atexit.register(lambda: print(client.stats, flush=True))  # runs after the client's own hook (LIFO)
if variant == "sync":
    client = TallyClient(key, url, flush_interval=3600)
    for _ in range(int(count)):
        client.track(customer, event_type)
else:
    async def main():
        global client
        client = AsyncTallyClient(key, url, flush_interval=3600)
        for _ in range(int(count)):
            client.track(customer, event_type)

    asyncio.run(main())
print("tracked; exiting without close()", flush=True)
"""


@pytest.mark.parametrize("variant", ["sync", "async"])
def test_events_still_queued_at_exit_are_flushed(tally: Tally, customer: str, variant: str) -> None:
    meter = tally.count_meter()
    args = [tally.ingest_url, tally.api_key, customer, meter.event_type, variant, "70"]
    script = textwrap.dedent(EXIT_SCRIPT)
    command = [sys.executable, "-c", script, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "queued=70, sent=70, retried=0, failed=0" in done.stdout, done.stdout + done.stderr
    tally.wait_for_total(customer, meter, 70)


def assert_all_sent(stats: Stats) -> None:
    expected = (OUTAGE_EVENTS, OUTAGE_EVENTS, 0, 0, 0)
    assert (stats.queued, stats.sent, stats.failed, stats.rejected, stats.dropped) == expected
    assert stats.retried > 0


def test_sync_events_tracked_while_ingest_is_down_are_counted_once(tally: Tally, customer: str) -> None:
    meter = tally.count_meter()
    client = TallyClient(tally.api_key, tally.ingest_url, max_batch=100, flush_interval=0.01, backoff_max=0.5)
    with client, tally.restoring_ingest():  # ingest restarts before the client closes, even when an assertion fails
        for n in range(OUTAGE_EVENTS):
            if n == KILL_AT:
                tally.kill_ingest()  # maybe with a batch in flight: it is resent under the same ids
            client.track(customer, meter.event_type, {"n": n})
            if n % 50 == 0:
                time.sleep(0.01)
        deadline = time.monotonic() + 10
        while client.stats.retried == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.stats.retried > 0 and client.stats.failed == 0
        assert client.stats.sent < OUTAGE_EVENTS
    assert_all_sent(client.stats)
    tally.wait_for_total(customer, meter, OUTAGE_EVENTS)


async def test_async_events_tracked_while_ingest_is_down_are_counted_once(tally: Tally, customer: str) -> None:
    meter = tally.count_meter()
    client = AsyncTallyClient(tally.api_key, tally.ingest_url, max_batch=100, flush_interval=0.01, backoff_max=0.5)
    async with client:
        try:
            for n in range(OUTAGE_EVENTS):
                if n == KILL_AT:
                    tally.kill_ingest()
                client.track(customer, meter.event_type, {"n": n})
                if n % 50 == 0:
                    await asyncio.sleep(0.01)
            for _ in range(200):
                if client.stats.retried:
                    break
                await asyncio.sleep(0.05)
            assert client.stats.retried > 0 and client.stats.failed == 0
            assert client.stats.sent < OUTAGE_EVENTS
        finally:
            await asyncio.to_thread(tally.ingest_up)
    assert_all_sent(client.stats)
    await asyncio.to_thread(tally.wait_for_total, customer, meter, OUTAGE_EVENTS)
