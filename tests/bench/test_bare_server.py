"""The bench's floor server: two processes answering every POST with the fixed answer, stopped with the block."""

import httpx
from tally_stack.testing import eventually, listening_sockets

from bench.bare_server import ANSWER, bare_server
from bench.loadgen import run_load


async def test_answers_every_request_and_stops_with_the_block() -> None:
    with bare_server(2) as url:
        port = int(url.rsplit(":", 1)[1])
        result = await run_load(
            f"{url}/v1/events/batch",
            lambda n: b'{"events": [{"id": "%d"}]}' % n,
            requests=200,
            events_per_request=1,
            connections=8,
            headers={"Content-Type": "application/json"},
        )
        async with httpx.AsyncClient() as http:
            assert (await http.post(f"{url}/anything", content=b"x" * 100_000)).content == ANSWER

        async def each_process_listens() -> None:  # on a socket of its own (the second may still be starting)
            assert len(listening_sockets(port)) == 2

        await eventually(each_process_listens)
    assert result.statuses == {200: 200}
    assert not listening_sockets(port)
