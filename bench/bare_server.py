"""The floor under a single event's request: usage-ingest's server (uvicorn, as many processes, each listening on a
socket of its own) around an app that reads the body and answers, with no validation, no Kafka and no metrics."""

import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tally_stack.procs import free_port, serving, spawn_logged

from bench.stack import STATE_DIR

ANSWER = b'{"accepted": 1}'


def bare_app() -> Callable[..., Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body", False):
            pass
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ANSWER))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": ANSWER})

    return app


@contextmanager
def bare_server(processes: int) -> Iterator[str]:
    """Its base URL while it runs."""
    port = free_port()
    serve = f"serve_processes('bench.bare_server:bare_app', '127.0.0.1', {port}, {processes})"
    log = STATE_DIR / "bench-bare-server.log"
    command = [sys.executable, "-c", f"from tally_runtime.processes import serve_processes; {serve}"]
    with serving(spawn_logged(command, log), log, f"http://127.0.0.1:{port}") as url:
        yield url
