"""The stack's consumers of usage.events.v1 (billing's and analytics' workers): how many events each has taken in,
and pausing them while the front door is measured alone."""

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import psutil
from contracts.topics import USAGE_EVENTS
from tally_stack.daemon import running_pid
from tally_stack.services import get_service

from bench.stack import STATE_DIR

POLL_INTERVAL_S = 0.05
CATCH_UP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Consumer:
    name: str
    process: psutil.Process
    metrics_url: str

    async def consumed(self, http: httpx.AsyncClient) -> float:
        """Events of usage.events.v1 taken in so far (new or duplicate; not those sent to the DLQ)."""
        text = (await http.get(self.metrics_url)).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("tally_events_consumed_total{")
            and f'topic="{USAGE_EVENTS}"' in line
            and 'outcome="dlq"' not in line
        )

    async def consumed_after(self, http: httpx.AsyncClient, target: float) -> None:
        """Returns once the worker has taken in `target` events in all; raises TimeoutError if it has not within
        CATCH_UP_TIMEOUT_S."""
        async with asyncio.timeout(CATCH_UP_TIMEOUT_S):
            while True:
                if await self.consumed(http) >= target:
                    return
                await asyncio.sleep(POLL_INTERVAL_S)


def usage_consumers() -> dict[str, Consumer]:
    """billing's and analytics' workers, found among the processes of the stack's supervisor."""
    supervisor = running_pid(STATE_DIR)
    if supervisor is None:
        raise RuntimeError(f"no running stack in {STATE_DIR}")
    found = {}
    for process in psutil.Process(supervisor).children(recursive=True):
        for name in ("billing", "analytics"):
            if process.cmdline()[-3:] == ["-m", name, "worker"]:
                found[name] = Consumer(name, process, f"http://127.0.0.1:{get_service(name).worker_port}/metrics")
    if len(found) < 2:
        raise RuntimeError(f"the stack's usage consumers are not all running (found: {sorted(found)})")
    return found


def _signal(consumers: list[Consumer], sig: signal.Signals) -> None:
    """To each worker and the processes it spawned (a worker may run several; see `worker_processes`)."""
    for consumer in consumers:
        for process in [consumer.process, *consumer.process.children(recursive=True)]:
            process.send_signal(sig)


@contextmanager
def paused(consumers: list[Consumer]) -> Iterator[None]:
    """The consumers stopped (SIGSTOP) inside, resumed after: Kafka keeps what they have not read. Keep it shorter
    than the consumer groups' session timeout (10 s), or they rejoin their groups when resumed."""
    _signal(consumers, signal.SIGSTOP)
    try:
        yield
    finally:
        _signal(consumers, signal.SIGCONT)
