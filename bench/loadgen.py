"""A bounded HTTP load generator for 127.0.0.1 only: a fixed number of requests from a few keep-alive connections.

It speaks just enough HTTP/1.1 itself (requests built as bytes, responses read by Content-Length or chunks): the
client shares the machine's two cores with what it measures, and aiohttp spent about three times as much CPU per
request (250 to 290 us against 80 to 100 us, single events), which showed up as a lower rate for the server."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.latency import percentile

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


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


def header_lines(host: str, headers: dict[str, str]) -> str:
    """The header lines every request of a load sends, built once."""
    return "".join(f"{name}: {value}\r\n" for name, value in {"Host": host, **headers}.items())


def request_bytes(method: str, path: str, header_block: str, body: bytes | None) -> bytes:
    length = "" if body is None else f"Content-Length: {len(body)}\r\n"
    return f"{method} {path} HTTP/1.1\r\n{header_block}{length}\r\n".encode() + (body or b"")


async def read_response(reader: asyncio.StreamReader) -> int:
    """Reads one whole response; returns its status."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    status = int(head[9:12])
    fields = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status


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
    target = urlsplit(url)
    if target.hostname not in LOCAL_HOSTS or target.port is None:
        raise ValueError("load is sent to a port of this machine only")
    method = "POST" if body_for else "GET"
    header_block = header_lines(target.netloc, headers)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    started = time.perf_counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        try:
            for n in counter:
                if rate is not None:
                    await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
                path = target.path + (path_for(n) if path_for else "")
                request = request_bytes(method, path, header_block, body_for(n) if body_for else None)
                sent = time.perf_counter()
                writer.write(request)
                status = await read_response(reader)
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    seconds = time.perf_counter() - started
    accepted = statuses.get(202, 0) + statuses.get(200, 0)
    return LoadResult(requests, accepted * events_per_request, seconds, latencies, statuses)
