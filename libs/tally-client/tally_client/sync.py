"""TallyClient: `track` queues; a background thread batches, sends and retries with an httpx.Client."""

import atexit
import threading
import time
from types import TracebackType
from typing import Self

import httpx

from tally_client._core import BATCH_PATH, USER_AGENT, BaseClient, logger
from tally_client.delivery import Delivery

CLOSED_BEFORE_SENT = "the client was closed before the events could be delivered"


class TallyClient(BaseClient):
    """Send usage events from threaded code (Django, Flask, workers). Thread-safe; one per process is enough.

    Events still queued at interpreter exit are flushed by an `atexit` hook, for up to `shutdown_timeout` seconds.
    Make the client after forking (a forked child has no sender thread)."""

    def _start(self) -> None:
        self._work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers | {"User-Agent": USER_AGENT}, timeout=self.timeout
        )
        self._thread = threading.Thread(target=self._run, name="tally-client-sender", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every event tracked before this call is acknowledged or given up on (True), or until
        `timeout` seconds have passed (False). Sends what is queued at once instead of waiting `flush_interval`."""
        with self._lock:
            target = self._counts["queued"]
            self._flushers += 1
            self._work.notify()
            try:
                return self._progress.wait_for(lambda: self._settled >= target, timeout)
            finally:
                self._flushers -= 1

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting events (later `track` calls drop theirs), flush for up to `timeout` seconds (None: until
        every batch is settled), then stop the sender. Events still unsent then count as failed and are reported."""
        if not self._begin_close():
            return
        with self._lock:
            self._work.notify()
        self.flush(timeout)
        self._stop.set()
        self._thread.join(self.timeout + 1)
        if self._thread.is_alive():
            logger.warning("tally-client: the sender did not stop within %.1fs", self.timeout + 1)
        atexit.unregister(self._at_exit)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _at_exit(self) -> None:
        self.close(self.shutdown_timeout)

    def _wake_sender(self, queue_length: int) -> None:
        if queue_length == 1 or queue_length >= self.max_batch:
            self._work.notify()

    def _progressed(self) -> None:
        self._progress.notify_all()

    def _run(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                delivery = self._new_delivery(batch)
                try:
                    self._deliver(delivery)
                except Exception as exc:
                    logger.exception("tally-client: unexpected error while sending")
                    delivery.fail(f"unexpected error: {exc!r}")
                self._settle(delivery)
                self._after_delivery(delivery)
            self._abandon_queue(CLOSED_BEFORE_SENT)
        finally:
            self._http.close()

    def _next_batch(self) -> list[bytes] | None:
        """Wait until a batch is due (full, flushed, closing, or `flush_interval` after events arrived)."""
        deadline: float | None = None
        with self._lock:
            while True:
                if self._closed and (self._stop.is_set() or not self._queue):
                    return None
                if not self._queue:
                    self._work.wait()
                    continue
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.flush_interval
                if self._should_send(deadline, now):
                    return self._take_batch()
                self._work.wait(deadline - now)

    def _deliver(self, delivery: Delivery) -> None:
        while not delivery.done:
            try:
                response = self._http.post(BATCH_PATH, content=delivery.body())
            except httpx.TransportError as exc:
                delay = self._on_transport_error(delivery, exc)
            else:
                delay = self._on_response(delivery, response)
            if delay is None:
                return
            if self._stop.wait(delay):
                delivery.fail(CLOSED_BEFORE_SENT)
