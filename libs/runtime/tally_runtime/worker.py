"""The `worker` process: FastStream subscribers and background loops, with /healthz and /metrics."""

from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker

from tally_runtime.metrics import metrics_app


def create_worker(
    broker: KafkaBroker,
    *,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> AsgiFastStream:
    """/healthz answers 200 while the broker answers a ping; /metrics serves Prometheus text."""
    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", make_ping_asgi(broker, timeout=5.0)), ("/metrics", metrics_app)],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )


def serve(app: object, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)  # type: ignore[arg-type]
