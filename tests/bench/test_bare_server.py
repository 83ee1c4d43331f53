"""The bench's floor server: two processes answering every POST with the fixed answer, stopped with the block."""

import httpx
import psutil
from tally_stack.testing import eventually

from bench.bare_server import ANSWER, bare_server
from bench.loadgen import run_load


def listening(port: int) -> list[object]:
    return [c for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"]


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
            assert len(listening(port)) == 2

        await eventually(each_process_listens)
    assert result.statuses == {200: 200}
    assert not listening(port)
