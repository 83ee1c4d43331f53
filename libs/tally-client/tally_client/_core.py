"""What both clients share: settings, the bounded queue, counters, and reporting events that were not delivered."""

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from tally_client.delivery import Delivery
from tally_client.events import SERVER_MAX_BATCH, decode_events, encode_event, new_event_id, take_batch
from tally_client.retry import RetryPolicy, parse_retry_after

logger = logging.getLogger("tally_client")

DEFAULT_BASE_URL = "http://127.0.0.1:8001"
BATCH_PATH = "/v1/events/batch"
USER_AGENT = "tally-client/0.1.0"
DROP_WARNING_INTERVAL_S = 10.0


@dataclass(frozen=True)
class Stats:
    """Event counts since the client was made. After `close()`: queued == sent + failed + rejected."""

    queued: int = 0
    """Accepted by `track` into the queue."""
    sent: int = 0
    """Acknowledged by Tally (202): durable from here on."""
    retried: int = 0
    """Resends after a transient failure (one event resent twice counts 2)."""
    failed: int = 0
    """Given up on: retry budget spent, API key refused, another non-retryable answer, or closed before sent."""
    rejected: int = 0
    """Refused by Tally as invalid (422) and left out of the resent batch."""
    dropped: int = 0
    """Never queued: the queue was full, or the client was closed."""

    @property
    def pending(self) -> int:
        """Queued or in flight, not yet settled."""
        return self.queued - self.sent - self.failed - self.rejected


@dataclass(frozen=True)
class DeliveryFailure:
    """Events that will not reach Tally, handed to `on_error` and logged."""

    kind: Literal["dropped", "rejected", "failed"]
    reason: str
    events: tuple[dict[str, Any], ...]
    status: int | None = None

    @property
    def ids(self) -> list[str]:
        return [str(event.get("id")) for event in self.events]


ErrorCallback = Callable[[DeliveryFailure], None]


class BaseClient:
    """The queue and the accounting; subclasses run the sender (a thread, or an asyncio task)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        max_batch: int = 500,
        flush_interval: float = 0.2,
        max_queue: int = 100_000,
        max_retry_duration: float = 60.0,
        backoff_base: float = 0.1,
        backoff_max: float = 5.0,
        timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
        on_error: ErrorCallback | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        if not 1 <= max_batch <= SERVER_MAX_BATCH:
            raise ValueError(f"max_batch must be within 1..{SERVER_MAX_BATCH}")
        if max_queue < 1 or flush_interval < 0 or timeout <= 0 or shutdown_timeout < 0:
            raise ValueError("need max_queue >= 1, flush_interval >= 0, timeout > 0 and shutdown_timeout >= 0")
        self.base_url = base_url.rstrip("/")
        self.max_batch = max_batch
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.timeout = timeout
        self.shutdown_timeout = shutdown_timeout
        self.policy = RetryPolicy(max_retry_duration, backoff_base, backoff_max)
        self.on_error = on_error
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._queue: deque[bytes] = deque()
        self._counts: dict[str, int] = dict.fromkeys(("queued", "sent", "retried", "failed", "rejected", "dropped"), 0)
        self._settled = 0
        self._flushers = 0
        self._closed = False
        self._last_drop_warning = -DROP_WARNING_INTERVAL_S
        self._start()

    @property
    def stats(self) -> Stats:
        with self._lock:
            return Stats(**self._counts)

    def _begin_close(self) -> bool:
        """Stop accepting events; False when the client was closed already."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            return True

    def track(
        self,
        customer_id: str,
        type: str,
        properties: Mapping[str, Any] | None = None,
        id: str | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Queue one usage event and return its id; never blocks and does no I/O.

        The id (`evt_` + a ULID unless given) is fixed here, so every retry resends the same id. The timestamp
        defaults to now, when the usage happened, not when the event reaches Tally. The event is encoded now, so
        later changes to `properties` do not leak into it. Raises TypeError/ValueError only for an event that can
        never be sent (not JSON, a naive timestamp, over 1 MiB); when the queue is full or the client is closed the
        event is dropped: counted in `stats.dropped`, logged, and passed to `on_error`."""
        self._before_track()
        event_id = new_event_id() if id is None else id
        encoded = encode_event(event_id, customer_id, type, properties, timestamp or datetime.now(UTC))
        with self._lock:
            if self._closed or len(self._queue) >= self.max_queue:
                self._counts["dropped"] += 1
                reason = "the client is closed" if self._closed else f"the queue is full ({self.max_queue} events)"
                accepted = False
            else:
                self._queue.append(encoded)
                self._counts["queued"] += 1
                self._wake_sender(len(self._queue))
                accepted = True
        if not accepted:
            self._report_drop(encoded, reason)
        return event_id

    # Hooks for the subclasses.

    def _start(self) -> None:
        """Called at the end of `__init__`."""
        raise NotImplementedError

    def _before_track(self) -> None:
        """Called first in `track`, without the lock (the async client starts its task here)."""

    def _wake_sender(self, queue_length: int) -> None:
        """Called with the lock held after an event was queued."""
        raise NotImplementedError

    def _progressed(self) -> None:
        """Called with the lock held after a batch settled."""
        raise NotImplementedError

    # For the senders.

    def _should_send(self, deadline: float | None, now: float) -> bool:
        """With the lock held and a non-empty queue: send a batch now rather than wait for more events."""
        return (
            len(self._queue) >= self.max_batch
            or self._flushers > 0
            or self._closed
            or (deadline is not None and now >= deadline)
        )

    def _take_batch(self) -> list[bytes]:
        return take_batch(self._queue, self.max_batch)

    def _new_delivery(self, batch: list[bytes]) -> Delivery:
        return Delivery(batch, self.policy, time.monotonic(), self._rng)

    def _on_response(self, delivery: Delivery, response: httpx.Response) -> float | None:
        retried = delivery.retried
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        delay = delivery.on_response(response.status_code, retry_after, response.content, time.monotonic())
        self._count_retries(delivery.retried - retried)
        return delay

    def _on_transport_error(self, delivery: Delivery, exc: httpx.HTTPError) -> float | None:
        retried = delivery.retried
        delay = delivery.on_transport_error(f"{type(exc).__name__}: {exc}".rstrip(": "), time.monotonic())
        self._count_retries(delivery.retried - retried)
        return delay

    def _count_retries(self, events: int) -> None:
        """Retries show in `stats` as they happen, not when the batch settles."""
        if events:
            with self._lock:
                self._counts["retried"] += events

    def _settle(self, delivery: Delivery) -> None:
        """Count a finished delivery, wake flushers, then report what was not delivered."""
        with self._lock:
            self._counts["sent"] += delivery.sent
            self._counts["failed"] += len(delivery.failed)
            self._counts["rejected"] += len(delivery.rejected)
            self._settled += delivery.sent + len(delivery.failed) + len(delivery.rejected)
            self._progressed()
        for event, reason in delivery.rejected:
            self._report(DeliveryFailure("rejected", reason, decode_events([event]), 422), logging.WARNING)
        if delivery.failed:
            events = decode_events(delivery.failed)
            failure = DeliveryFailure("failed", delivery.failure or "failed", events, delivery.status)
            self._report(failure, logging.ERROR)

    def _after_delivery(self, delivery: Delivery) -> None:
        """Once closed, a batch that spent its retry budget fails the rest of the queue at once: each batch waiting
        a full budget of its own would hold `close()` for minutes per batch while Tally is unreachable."""
        if self._closed and delivery.gave_up:
            self._abandon_queue(f"not sent: the client is closing and Tally is unreachable ({delivery.failure})")

    def _abandon_queue(self, reason: str) -> None:
        """Fail whatever is still queued (the client was closed before it could be sent)."""
        with self._lock:
            leftover = list(self._queue)
            self._queue.clear()
        if leftover:
            delivery = self._new_delivery(leftover)
            delivery.fail(reason)
            self._settle(delivery)

    def _report_drop(self, event: bytes, reason: str) -> None:
        now = time.monotonic()
        if now - self._last_drop_warning >= DROP_WARNING_INTERVAL_S:
            self._last_drop_warning = now
            logger.warning("tally-client dropped an event: %s (%d dropped so far)", reason, self.stats.dropped)
        self._call_on_error(DeliveryFailure("dropped", reason, decode_events([event])))

    def _report(self, failure: DeliveryFailure, level: int) -> None:
        logger.log(level, "tally-client: %d event(s) %s: %s", len(failure.events), failure.kind, failure.reason)
        self._call_on_error(failure)

    def _call_on_error(self, failure: DeliveryFailure) -> None:
        if self.on_error is None:
            return
        try:
            self.on_error(failure)
        except Exception:
            logger.exception("tally-client: the on_error callback raised")
