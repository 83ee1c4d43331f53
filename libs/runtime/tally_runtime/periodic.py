"""A worker's background job, run every few seconds (the first time one interval after start) until the worker
stops; a failed run is logged and retried on the next tick, so one bad moment (a database restart) never ends it."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from tally_runtime.metrics import JOB_RUNS, JOB_SECONDS

log = logging.getLogger(__name__)


class Periodic:
    """`start` and `stop` go in the worker's start-up and shutdown."""

    def __init__(self, name: str, job: Callable[[], Awaitable[object]], every_s: float) -> None:
        self._name = name
        self._job = job
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                with JOB_SECONDS.labels(self._name).time():
                    await self._job()
            except Exception:
                JOB_RUNS.labels(self._name, "failed").inc()
                log.exception("%s failed; retrying in %.0f s", self._name, self._every_s)
            else:
                JOB_RUNS.labels(self._name, "ok").inc()
