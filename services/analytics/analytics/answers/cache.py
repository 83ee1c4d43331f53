"""The heavy read endpoints' answers, kept in this process under the versions of the projections they read.

An answer is a pure function of the projections, its resolved parameters (defaults applied: today's date for those
that follow the calendar) and the service's settings. Every statement that writes a projection bumps its family's
version in the writer's transaction (migration 0005), so the request after a change finds no answer under the new
version and computes afresh. Bounded by the bytes of the bodies kept, least recently used out first.

Answers computed at the same versions may share a value they all need (which currency most customers pay in):
computed once, by the first to ask, while the others wait for it.

Each kept answer carries an ETag (of its body) and `Cache-Control: no-cache`: a browser revalidates every time and
gets a 304 while the answer is unchanged."""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from cachetools import LRUCache
from fastapi import Depends, Request
from fastapi.responses import Response
from prometheus_client import Counter
from tally_runtime.tables import wants_csv

from analytics.answers.repository import Family, Versions

ANSWERS = Counter(
    "tally_analytics_answers_total",
    "Answers of the cached endpoints, by outcome: kept (from the cache) or computed",
    ["endpoint", "outcome"],
)
_REVALIDATION = ("etag", "cache-control", "vary")
_SHARED_VALUES = 16  # a few names, at the latest versions or so
T = TypeVar("T")


@dataclass(frozen=True)
class Kept:
    body: bytes
    headers: dict[str, str]


def _size(kept: Kept) -> int:
    return len(kept.body)


def _keep(response: Response) -> Kept:
    body = bytes(response.body)
    headers = {name: value for name, value in response.headers.items() if name != "content-length"}
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    return Kept(body, headers | {"etag": etag, "cache-control": "no-cache", "vary": "Accept"})


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    return any(tag.strip() in {"*", etag, f"W/{etag}"} for tag in if_none_match.split(","))


def _respond(request: Request, kept: Kept) -> Response:
    if _matches(request.headers.get("if-none-match"), kept.headers["etag"]):
        return Response(status_code=304, headers={name: kept.headers[name] for name in _REVALIDATION})
    return Response(kept.body, headers=kept.headers)


class Shared:
    """The values shared by the answers computed at one set of versions (none shared when nothing is kept)."""

    def __init__(self, tasks: "LRUCache[Hashable, asyncio.Task[Any]] | None", at: Hashable) -> None:
        self._tasks = tasks
        self._at = at

    async def value(self, name: str, compute: Callable[[], Awaitable[T]]) -> T:
        """`compute`'s value, computed once at these versions. `compute` must not use the asker's session: a
        later asker may wait for it after the first has gone. A failed computation is not kept."""
        if self._tasks is None:
            return await compute()
        key = (name, self._at)
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = asyncio.ensure_future(compute())
        try:
            value: T = await asyncio.shield(task)
        except Exception:
            if task.done() and not task.cancelled() and task.exception() is not None:
                self._tasks.pop(key, None)
            raise
        return value


Compute = Callable[[Shared], Awaitable[Response]]


class AnswerCache:
    def __init__(self, max_bytes: int, versions: Versions) -> None:
        self._versions = versions
        self._kept: LRUCache[Hashable, Kept] | None = LRUCache(max_bytes, getsizeof=_size) if max_bytes else None
        self._shared: LRUCache[Hashable, asyncio.Task[Any]] | None = LRUCache(_SHARED_VALUES) if max_bytes else None

    async def answer(
        self,
        request: Request,
        families: Sequence[Family],
        params: Hashable,
        compute: Compute,
    ) -> Response:
        """The kept answer for (the path, `params`, the format asked for) at the families' current versions, or
        `compute`'s, kept when it is a 200. `params`: everything else the answer depends on, resolved (the routes
        cached have no path parameters)."""
        if self._kept is None:
            return await compute(Shared(None, None))
        endpoint = request.url.path
        versions = await self._versions.read(families)
        key = (endpoint, params, wants_csv(request), versions)
        kept = self._kept.get(key)
        if kept is None:
            response = await compute(Shared(self._shared, (tuple(families), versions)))
            ANSWERS.labels(endpoint, "computed").inc()
            if response.status_code != 200:
                return response
            kept = _keep(response)
            if _size(kept) <= self._kept.maxsize:
                self._kept[key] = kept
        else:
            ANSWERS.labels(endpoint, "kept").inc()
        return _respond(request, kept)


async def answer_cache(request: Request) -> AnswerCache:  # async: a sync dependency would take a thread
    cache: AnswerCache = request.app.state.answers
    return cache


Answers = Annotated[AnswerCache, Depends(answer_cache)]
