"""AsyncTallyClient: `track` queues; a background asyncio task batches, sends and retries with httpx.AsyncClient."""

import asyncio
import atexit
import contextlib
from types import TracebackType
from typing import Self

import httpx

from tally_client._core import BATCH_PATH, USER_AGENT, BaseClient, logger
from tally_client.delivery import Delivery

CLOSED_BEFORE_SENT = "the client was closed before the events could be delivered"


class AsyncTallyClient(BaseClient):
    """Send usage events from asyncio code (FastAPI, aiohttp). Call `track` from the event loop's thread.

    The sender task starts with the first `track`. If the loop ends without `aclose()`, an `atexit` hook sends what
    is left (in flight or queued) from a loop of its own, for up to `shutdown_timeout` seconds."""

    def _start(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[bytes] = []
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._stop = asyncio.Event()
        atexit.register(self._at_exit)

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (same API as TallyClient)
        """Wait until every event tracked before this call is acknowledged or given up on (True), or until
        `timeout` seconds have passed (False). Sends what is queued at once instead of waiting `flush_interval`."""
        target = self._counts["queued"]
        self._flushers += 1
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                while self._settled < target:
                    self._progress.clear()
                    await self._progress.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._flushers -= 1

    async def aclose(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (timeout bounds the flush only)
        """Stop accepting events (later `track` calls drop theirs), flush for up to `timeout` seconds (None: until
        every batch is settled), then stop the sender. Events still unsent then count as failed and are reported."""
        if not self._begin_close():
            return
        self._wake.set()
        await self.flush(timeout)
        self._stop.set()
        self._wake.set()
        atexit.unregister(self._at_exit)
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.timeout + 1)
        except TimeoutError:
            logger.warning("tally-client: the sender did not stop within %.1fs", self.timeout + 1)
            task.cancel()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _before_track(self) -> None:
        task = self._task
        if self._closed:
            return
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            self._launch()

    def _launch(self) -> None:
        """Start the sender on the running loop; a batch the previous one had in flight goes first again."""
        with self._lock:
            self._queue.extendleft(reversed(self._inflight))
            self._inflight = []
        self._wake, self._progress, self._stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers | {"User-Agent": USER_AGENT}, timeout=self.timeout
        )
        self._task = asyncio.get_running_loop().create_task(self._run(http), name="tally-client-sender")

    def _at_exit(self) -> None:
        with self._lock:
            left = bool(self._queue or self._inflight) and not self._closed
        if not left:
            return
        try:
            asyncio.run(self._drain_at_exit())
        except Exception:
            logger.exception("tally-client: could not flush at exit")

    async def _drain_at_exit(self) -> None:
        self._launch()
        await self.aclose(self.shutdown_timeout)

    def _wake_sender(self, queue_length: int) -> None:
        if queue_length == 1 or queue_length >= self.max_batch:
            self._wake.set()

    def _progressed(self) -> None:
        self._progress.set()

    async def _run(self, http: httpx.AsyncClient) -> None:
        async with http:
            while (batch := await self._next_batch()) is not None:
                self._inflight = batch
                delivery = self._new_delivery(batch)
                try:
                    await self._deliver(http, delivery)
                except Exception as exc:
                    logger.exception("tally-client: unexpected error while sending")
                    delivery.fail(f"unexpected error: {exc!r}")
                self._inflight = []
                self._settle(delivery)
                self._after_delivery(delivery)
        self._abandon_queue(CLOSED_BEFORE_SENT)

    async def _next_batch(self) -> list[bytes] | None:
        """Wait until a batch is due (full, flushed, closing, or `flush_interval` after events arrived)."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            with self._lock:
                if self._closed and (self._stop.is_set() or not self._queue):
                    return None
                if self._queue:
                    now = loop.time()
                    deadline = now + self.flush_interval if deadline is None else deadline
                    if self._should_send(deadline, now):
                        return self._take_batch()
                self._wake.clear()
            if deadline is None:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(deadline):
                        await self._wake.wait()

    async def _deliver(self, http: httpx.AsyncClient, delivery: Delivery) -> None:
        while not delivery.done:
            try:
                response = await http.post(BATCH_PATH, content=delivery.body())
            except httpx.TransportError as exc:
                delay = self._on_transport_error(delivery, exc)
            else:
                delay = self._on_response(delivery, response)
            if delay is None:
                return
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stop.wait()
            if self._stop.is_set():
                delivery.fail(CLOSED_BEFORE_SENT)
