"""The fan-out from one feed to every connected client of this process. Each client has a bounded queue: a client
that falls that far behind is cut off (it reconnects), so a slow reader never holds memory."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any


def sse_frame(event_type: str, data: Any, event_id: str | None = None) -> bytes:
    """One server-sent event; the data is compact JSON, so a single line."""
    lines = [f"event: {event_type}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'))}")
    return ("\n".join(lines) + "\n\n").encode()


END = b""  # what a cut-off client finds in its queue


@dataclass(eq=False)
class Client:
    queue: asyncio.Queue[bytes]


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._clients: set[Client] = set()
        self.published = 0

    def subscribe(self) -> Client:
        client = Client(asyncio.Queue(self.queue_size))
        self._clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self._clients.discard(client)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, frame: bytes) -> None:
        self.published += 1
        for client in list(self._clients):
            try:
                client.queue.put_nowait(frame)
            except asyncio.QueueFull:
                self._cut_off(client)

    def _cut_off(self, client: Client) -> None:
        self._clients.discard(client)
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(END)
