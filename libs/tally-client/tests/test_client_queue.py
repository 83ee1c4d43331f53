"""The client's own behaviour without a Tally to talk to: track never blocks, the queue-full policy, closing."""

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from tally_client import AsyncTallyClient, DeliveryFailure, Stats, TallyClient


@pytest.fixture
def refused_url() -> str:
    """A port nobody listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that takes connections and never answers: each request hangs until the client's timeout."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(100)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def settled(stats: Stats) -> bool:
    return stats.pending == 0 and stats.queued == stats.sent + stats.failed + stats.rejected


def test_track_never_waits_for_a_hanging_server(silent_url: str) -> None:
    with TallyClient("key", silent_url, timeout=2, max_batch=10, flush_interval=0) as client:
        time.sleep(0.1)  # the sender is now stuck in a request that will not be answered for seconds
        started = time.perf_counter()
        ids = [client.track("acme", "api_call", {"n": n}) for n in range(5000)]
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"5,000 tracks took {elapsed:.2f}s"
        assert len(set(ids)) == 5000
        assert client.stats.queued == 5000
        client.close(timeout=0)
    assert client.stats.failed == 5000 and settled(client.stats)


def test_when_the_queue_is_full_the_newest_events_are_dropped(refused_url: str) -> None:
    failures: list[DeliveryFailure] = []
    client = TallyClient(
        "key", refused_url, max_queue=10, max_batch=100, flush_interval=60, max_retry_duration=0.2,
        on_error=failures.append,
    )  # fmt: skip
    ids = [client.track("acme", "api_call", {"n": n}) for n in range(15)]
    assert client.stats == Stats(queued=10, dropped=5)
    dropped = [f for f in failures if f.kind == "dropped"]
    assert [f.ids[0] for f in dropped] == ids[10:]
    assert all("queue is full" in f.reason for f in dropped)
    client.close()
    assert client.stats.failed == 10 and settled(client.stats)
    [failed] = [f for f in failures if f.kind == "failed"]
    assert failed.ids == ids[:10] and "ConnectError" in failed.reason and failed.status is None


def test_after_close_events_are_dropped_and_close_is_idempotent(refused_url: str) -> None:
    client = TallyClient("key", refused_url)
    client.close()
    client.close()
    client.track("acme", "api_call")
    assert client.stats == Stats(dropped=1)


def test_flush_gives_up_after_its_timeout_and_close_fails_what_is_left(silent_url: str) -> None:
    failures: list[DeliveryFailure] = []
    client = TallyClient("key", silent_url, timeout=0.5, on_error=failures.append)
    client.track("acme", "api_call")
    started = time.perf_counter()
    assert client.flush(timeout=0.2) is False
    assert time.perf_counter() - started < 0.5
    client.close(timeout=0)
    assert client.stats.failed == 1 and settled(client.stats)
    assert failures[0].kind == "failed"


def test_arguments_that_can_never_be_sent_raise(refused_url: str) -> None:
    with TallyClient("key", refused_url, max_retry_duration=0) as client:
        with pytest.raises(ValueError, match="timezone"):
            client.track("acme", "api_call", timestamp=datetime(2026, 11, 1))
        with pytest.raises(ValueError):
            client.track("acme", "api_call", {"x": float("inf")})
        assert client.track("acme", "api_call", id="my-id") == "my-id"
    for bad in ({"api_key": ""}, {"max_batch": 0}, {"max_batch": 1001}, {"max_queue": 0}, {"timeout": 0}):
        with pytest.raises(ValueError):
            TallyClient(**({"api_key": "key"} | bad))


async def test_async_track_never_waits_and_drops_when_full(silent_url: str) -> None:
    failures: list[DeliveryFailure] = []
    client = AsyncTallyClient(
        "key", silent_url, timeout=2, max_queue=1000, max_batch=10, flush_interval=0, on_error=failures.append
    )
    client.track("acme", "api_call")
    await asyncio.sleep(0.1)  # the sender is in flight with a request that will not be answered
    started = time.perf_counter()
    for n in range(1500):
        client.track("acme", "api_call", {"n": n})
    assert time.perf_counter() - started < 1.0
    assert client.stats.dropped == 500 and client.stats.queued == 1001
    assert sum(f.kind == "dropped" for f in failures) == 500
    await client.aclose(timeout=0)
    assert client.stats.failed == 1001 and settled(client.stats)
    client.track("acme", "api_call")
    assert client.stats.dropped == 501


def test_async_track_needs_a_running_loop(refused_url: str) -> None:
    client = AsyncTallyClient("key", refused_url)
    with pytest.raises(RuntimeError):
        client.track("acme", "api_call")


def test_retries_show_in_stats_while_they_happen(refused_url: str) -> None:
    client = TallyClient("key", refused_url, flush_interval=0, backoff_base=0.01, backoff_max=0.02)
    client.track("acme", "api_call")
    deadline = time.monotonic() + 5
    while client.stats.retried < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.stats.retried >= 3 and client.stats.pending == 1
    client.close(timeout=0)
    assert client.stats.failed == 1 and settled(client.stats)
