"""Postgres access: one async engine per process, confined to the service's own schema."""

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def create_engine(
    url: str,
    schema: str,
    pool_size: int = 10,
    server_settings: Mapping[str, str] | None = None,
    *,
    read_only: bool = False,
) -> AsyncEngine:
    """`server_settings`: more settings of every connection's session, beyond the schema and application name.
    `read_only`: for a process that only reads. Postgres refuses its writes, and each statement runs on its own,
    without the BEGIN and COMMIT round trips of a transaction (under READ COMMITTED, each statement of a transaction
    reads its own snapshot anyway)."""
    settings = {"search_path": schema, "application_name": f"tally-{schema}"} | dict(server_settings or {})
    options: dict[str, Any] = {}
    if read_only:
        settings["default_transaction_read_only"] = "on"
        options["isolation_level"] = "AUTOCOMMIT"
    engine = create_async_engine(url, pool_size=pool_size, connect_args={"server_settings": settings}, **options)
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(_dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
    """Instead of SQLAlchemy's `pool_pre_ping` (three round trips per checkout: BEGIN, a ping, ROLLBACK): a
    connection the server has closed (a restarted or stopped Postgres, a terminated backend) is already closed on
    asyncpg's side, which reads every connection, idle ones too. Raising here makes the pool open a new one in its
    place, and replace the pool's others on their next checkout."""
    connection: asyncpg.Connection | None = record.driver_connection
    if connection is not None and connection.is_closed():
        raise InvalidatePoolError("the server closed the pooled connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def asyncpg_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, in the session's transaction: for statements with large array or JSON
    parameters, without SQLAlchemy's per-parameter overhead."""
    driver: asyncpg.Connection | None = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None, "asyncpg connection expected"
    return driver


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def migrate(migrations: Path, url: str) -> None:
    """Upgrade the schema to head. Safe when several processes start at once (see tally_runtime.migrations)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    await asyncio.to_thread(command.upgrade, config, "head")
