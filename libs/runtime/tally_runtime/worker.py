"""The `worker` process: FastStream subscribers and background loops, with /healthz, /readyz and /metrics."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get, make_ping_asgi
from faststream.asgi.handlers import GetHandler
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker

from tally_runtime.metrics import metrics_app

PING_TIMEOUT_S = 5.0


def readiness(broker: KafkaBroker) -> GetHandler:
    """200 once the broker answers and every subscriber's consumer has joined its group and holds partitions
    (a new group takes seconds to settle; until then nothing is being consumed), else 503."""

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        consumers: list[Any] = [getattr(sub, "consumer", None) for sub in broker.subscribers]
        assigned = all(consumer is not None and consumer.assignment() for consumer in consumers)
        if assigned and await broker.ping(PING_TIMEOUT_S):
            return AsgiResponse(b'{"status": "ready"}', 200, headers={"content-type": "application/json"})
        return AsgiResponse(b'{"status": "not ready"}', 503, headers={"content-type": "application/json"})

    return readyz


def create_worker(
    broker: KafkaBroker,
    *,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> AsgiFastStream:
    """/healthz answers while the broker answers a ping; /readyz also waits for partitions; /metrics: Prometheus."""
    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/healthz", make_ping_asgi(broker, timeout=PING_TIMEOUT_S)),
            ("/readyz", readiness(broker)),
            ("/metrics", metrics_app),
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )


def serve(app: object, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)  # type: ignore[arg-type]
