"""The projections' versions (migration 0005: every statement writing a family's tables bumps its version), read on
a small pool of connections of their own: one statement, outside a transaction, on a connection neither pinged
before nor reset after (nothing changes its session). Through the request's ORM session the same read cost six
round trips (the pool's ping in a transaction of its own, then BEGIN, the query, COMMIT); a kept answer needs
nothing else from the database."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal

import asyncpg
from sqlalchemy.engine import make_url

Family = Literal["billing", "usage"]
_QUERY = "SELECT family, version FROM projection_versions WHERE family = ANY($1::text[])"
_LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


class Versions:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def read(self, families: Sequence[Family]) -> tuple[int, ...]:
        """The families' versions, in the order asked. A connection lost since its last use (the database
        restarted) is replaced once. Read before an answer is computed, so that no answer is kept under a version
        newer than the data it read."""
        try:
            rows = await self._pool.fetch(_QUERY, list(families))
        except _LOST:
            rows = await self._pool.fetch(_QUERY, list(families))
        found = {row["family"]: int(row["version"]) for row in rows}
        return tuple(found[family] for family in families)


async def _unchanged(_connection: asyncpg.Connection) -> None:
    """Instead of asyncpg's reset on release, a round trip of four statements undoing what no read here does."""


@asynccontextmanager
async def versions_reader(database_url: str, schema: str) -> AsyncIterator[Versions]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    settings = {"search_path": schema, "application_name": f"tally-{schema}-versions"}
    async with asyncpg.create_pool(dsn, min_size=1, max_size=4, server_settings=settings, reset=_unchanged) as pool:
        yield Versions(pool)
