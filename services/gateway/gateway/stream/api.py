import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from gateway.access.dependencies import require
from gateway.config import GatewaySettings
from gateway.stream.hub import END, Client, Hub

router = APIRouter(tags=["stream"])
EVENT_STREAM = {"text/event-stream": {"schema": {"type": "string"}}}


async def _events(hub: Hub, client: Client, heartbeat_s: float) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                frame = await asyncio.wait_for(client.queue.get(), heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if frame == END:
                return
            yield frame
    finally:
        hub.unsubscribe(client)


@router.get(
    "/v1/stream",
    dependencies=[Depends(require("read"))],
    response_class=StreamingResponse,
    responses={200: {"description": "Server-sent events", "content": EVENT_STREAM}},
)
async def stream(request: Request) -> StreamingResponse:
    """Live events as server-sent events: `event: <CloudEvent type>` and `data: <the CloudEvent as JSON>` for every
    billing event (payments, invoices, subscriptions) and alert from now on, and a `: heartbeat` comment when
    nothing happened for a while. A client that falls far behind is disconnected (reconnect)."""
    settings: GatewaySettings = request.app.state.settings
    hub: Hub = request.app.state.hub
    client = hub.subscribe()
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _events(hub, client, settings.stream_heartbeat_s), media_type="text/event-stream", headers=headers
    )
