"""The client's own behaviour without a Tally to talk to: track never blocks, the queue-full policy, closing.

"Never waits" is shown without a clock: the sender is stuck in a request a silent server leaves unanswered for far
longer than the test runs, and what the caller did returned while that request was still pending (none failed)."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from tally_client import AsyncTallyClient, DeliveryFailure, Stats, TallyClient

HANGING_S = 60  # a request to the silent server hangs until released, or this long: far longer than the tests


@pytest.fixture
def refused_url() -> str:
    """A port nobody listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class SilentServer:
    """Takes connections and never answers: each request hangs until `release` drops the connections."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._hold, daemon=True).start()

    def _hold(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed
            while True:
                self._held.append(self._listener.accept()[0])

    def release(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.release()


def settled(stats: Stats) -> bool:
    return stats.pending == 0 and stats.queued == stats.sent + stats.failed + stats.rejected


def test_track_never_waits_for_a_hanging_server(silent: SilentServer) -> None:
    with TallyClient("key", silent.url, timeout=HANGING_S, max_batch=10, flush_interval=0) as client:
        time.sleep(0.1)  # the sender is now stuck in a request that will not be answered
        ids = [client.track("acme", "api_call", {"n": n}) for n in range(5000)]
        assert client.stats.failed == 0  # the stuck request is still pending: no track waited for it
        assert len(set(ids)) == 5000
        assert client.stats.queued == 5000
        silent.release()
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


def test_flush_gives_up_after_its_timeout_and_close_fails_what_is_left(silent: SilentServer) -> None:
    failures: list[DeliveryFailure] = []
    client = TallyClient("key", silent.url, timeout=HANGING_S, on_error=failures.append)
    client.track("acme", "api_call")
    assert client.flush(timeout=0.2) is False
    assert client.stats.failed == 0  # flush gave up on its own timeout, not the request's
    silent.release()
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


async def test_async_track_never_waits_and_drops_when_full(silent: SilentServer) -> None:
    failures: list[DeliveryFailure] = []
    client = AsyncTallyClient(
        "key", silent.url, timeout=HANGING_S, max_queue=1000, max_batch=10, flush_interval=0, on_error=failures.append
    )
    client.track("acme", "api_call")
    await asyncio.sleep(0.1)  # the sender is in flight with a request that will not be answered
    for n in range(1500):
        client.track("acme", "api_call", {"n": n})
    assert client.stats.failed == 0  # still in flight: no track waited for it
    assert client.stats.dropped == 500 and client.stats.queued == 1001
    assert sum(f.kind == "dropped" for f in failures) == 500
    silent.release()
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
