"""An app answering every request with the pid of the process that served it (test_processes.py serves it from
several processes)."""

import os
from collections.abc import Awaitable, Callable
from typing import Any


def pid_app() -> Callable[..., Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = str(os.getpid()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app
