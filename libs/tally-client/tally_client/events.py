"""Pure: event ids, Tally's JSON shape, and cutting the queue into batches. No I/O here."""

import json
import os
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

MAX_REQUEST_BYTES = 1024 * 1024
"""A batch request's JSON body stays under 1 MiB."""
SERVER_MAX_BATCH = 1000
"""POST /v1/events/batch refuses more events than this."""

_BODY_OPEN = b'{"events":['
_BODY_CLOSE = b"]}"
MAX_EVENT_BYTES = MAX_REQUEST_BYTES - len(_BODY_OPEN) - len(_BODY_CLOSE)
"""An encoded event larger than this could never be sent, alone or not."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_CHARS = 26


def new_event_id(now_ms: int | None = None, randomness: bytes | None = None) -> str:
    """`evt_` and a ULID (48 bits of Unix milliseconds, 80 random bits, Crockford base32): unique, sorts by time."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    entropy = os.urandom(10) if randomness is None else randomness
    value = (millis << 80) | int.from_bytes(entropy, "big")
    chars = []
    for _ in range(_ULID_CHARS):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "evt_" + "".join(reversed(chars))


def format_timestamp(timestamp: datetime) -> str:
    """ISO 8601 in UTC with a `Z`; a naive datetime is refused (Tally would refuse it too)."""
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware, e.g. datetime.now(UTC)")
    return timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_event(
    event_id: str,
    customer_id: str,
    event_type: str,
    properties: Mapping[str, Any] | None,
    timestamp: datetime,
) -> bytes:
    """One event as compact UTF-8 JSON. Raises TypeError/ValueError for what JSON cannot carry (NaN, objects)."""
    payload = {
        "id": event_id,
        "customer_id": customer_id,
        "type": event_type,
        "timestamp": format_timestamp(timestamp),
        "properties": dict(properties or {}),
    }
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    if len(encoded) > MAX_EVENT_BYTES:
        raise ValueError(f"the event is {len(encoded)} bytes as JSON; a request carries at most {MAX_EVENT_BYTES}")
    return encoded


def body_size(event_sizes: Sequence[int]) -> int:
    """The size of `{"events":[...]}` holding events of these encoded sizes."""
    return len(_BODY_OPEN) + sum(event_sizes) + max(len(event_sizes) - 1, 0) + len(_BODY_CLOSE)


def request_body(events: Sequence[bytes]) -> bytes:
    return _BODY_OPEN + b",".join(events) + _BODY_CLOSE


def take_batch(queue: deque[bytes], max_events: int, max_bytes: int = MAX_REQUEST_BYTES) -> list[bytes]:
    """Pop the oldest events that fit in one request: at most `max_events`, a body of at most `max_bytes`.
    Always takes at least one event when there is one (`encode_event` keeps each under the limit)."""
    batch: list[bytes] = []
    size = len(_BODY_OPEN) + len(_BODY_CLOSE)
    while queue and len(batch) < max_events:
        added = len(queue[0]) + (1 if batch else 0)
        if batch and size + added > max_bytes:
            break
        batch.append(queue.popleft())
        size += added
    return batch


def decode_events(events: Sequence[bytes]) -> tuple[dict[str, Any], ...]:
    """The events back as dicts, to hand to an `on_error` callback."""
    return tuple(json.loads(event) for event in events)
