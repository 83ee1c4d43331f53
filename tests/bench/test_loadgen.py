"""The bench's own HTTP client against a real HTTP server: statuses, bodies by length and by chunks, keep-alive."""

import pytest
from aiohttp import web
from tally_stack.testing import serving_aiohttp

from bench.loadgen import run_load


async def test_reads_every_response_whatever_its_framing() -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.append((request.method, request.path, body))
        if request.path.endswith("/chunked"):
            response = web.StreamResponse(status=202)
            response.enable_chunked_encoding()
            await response.prepare(request)
            for part in (b"x" * 5000, b"", b"done"):
                await response.write(part)
            await response.write_eof()
            return response
        status = 422 if body == b"bad" else 200
        return web.Response(status=status, body=body * 3)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    async with serving_aiohttp(app) as base_url:
        posted = await run_load(
            f"{base_url}/in",
            lambda n: b"bad" if n == 3 else f"body-{n}".encode(),
            requests=10,
            events_per_request=2,
            connections=3,
            headers={"Content-Type": "text/plain"},
        )
        fetched = await run_load(
            base_url,
            None,
            requests=6,
            events_per_request=0,
            connections=2,
            headers={},
            path_for=lambda n: "/chunked" if n % 2 else "/plain",
        )

    assert posted.statuses == {200: 9, 422: 1}
    assert posted.events == 18 and len(posted.latencies) == 10
    assert sorted(body for method, path, body in seen if method == "POST") == sorted(
        [b"bad", *(f"body-{n}".encode() for n in range(10) if n != 3)]
    )
    assert fetched.statuses == {200: 3, 202: 3}
    assert sorted(path for method, path, _ in seen if method == "GET") == ["/chunked"] * 3 + ["/plain"] * 3


@pytest.mark.parametrize("url", ["http://example.com:80/v1/events", "http://127.0.0.1/no-port"])
async def test_sends_load_to_a_port_of_this_machine_only(url: str) -> None:
    with pytest.raises(ValueError, match="this machine"):
        await run_load(url, None, requests=1, events_per_request=0, connections=1, headers={})
