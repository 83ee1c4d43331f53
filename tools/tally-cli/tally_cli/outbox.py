"""How far each service's outbox relay is behind: events written but not yet published."""

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

SCHEMAS = ("billing", "analytics", "assistant", "gateway")  # the services that announce through an outbox


@dataclass(frozen=True)
class Backlog:
    schema: str
    pending: int | None  # None: the schema has no outbox (not migrated yet)
    oldest_age_s: float | None


async def status(database_url: str, schemas: tuple[str, ...] = SCHEMAS) -> list[Backlog]:
    connection = await asyncpg.connect(database_url)
    try:
        return [await _backlog(connection, schema) for schema in schemas]
    finally:
        await connection.close()


async def _backlog(connection: asyncpg.Connection, schema: str) -> Backlog:
    table = f'"{schema}".outbox'
    if await connection.fetchval("SELECT to_regclass($1)", table) is None:
        return Backlog(schema, None, None)
    pending, oldest = await connection.fetchrow(f"SELECT count(*), min(created_at) FROM {table}")
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else None
    return Backlog(schema, pending, age)
