"""A bounded HTTP load generator for 127.0.0.1 only: a fixed number of requests from a few keep-alive connections."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bench.latency import percentile


@dataclass(frozen=True)
class LoadResult:
    requests: int
    events: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    def p(self, share: float) -> float:
        return percentile(self.latencies, share) * 1000


async def run_load(
    url: str,
    body_for: Callable[[int], bytes] | None,
    *,
    requests: int,
    events_per_request: int,
    connections: int,
    headers: dict[str, str],
    rate: float | None = None,
    path_for: Callable[[int], str] | None = None,
) -> LoadResult:
    """POST `requests` bodies (body_for(n)) over `connections` connections, optionally paced to `rate` req/s; without
    `body_for`, GET instead. Request n goes to `url`, followed by path_for(n) when given."""
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost"}:
        raise ValueError("load is sent to this machine only")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    started = time.perf_counter()

    async def connection(session: aiohttp.ClientSession) -> None:
        for n in counter:
            if rate is not None:
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            target = url + path_for(n) if path_for else url
            body = body_for(n) if body_for else None
            sent = time.perf_counter()
            async with session.request("POST" if body_for else "GET", target, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - sent)

    limits = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=limits) as session:
        await asyncio.gather(*(connection(session) for _ in range(connections)))
    seconds = time.perf_counter() - started
    accepted = statuses.get(202, 0) + statuses.get(200, 0)
    return LoadResult(requests, accepted * events_per_request, seconds, latencies, statuses)
