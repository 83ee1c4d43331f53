"""The engine: its settings hold in every session, and its pool replaces a connection the server closed (a restarted
Postgres, a terminated backend) on checkout, so the request that checks it out does not fail."""

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tally_runtime.db import create_engine, session_factory
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra, eventually

SCHEMA = "gateway"  # any service's schema and role will do


async def test_a_connection_the_server_closed_is_replaced_on_checkout(infra: Infra) -> None:
    engine = create_engine(infra.database_urls[SCHEMA], SCHEMA, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            pooled = (await connection.get_raw_connection()).driver_connection
        admin = await asyncpg.connect(libpq_url(infra.admin_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()

        async def closed() -> None:
            assert pooled.is_closed()

        await eventually(closed)
        async with engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()


async def test_server_settings_hold_in_every_pooled_session(infra: Infra) -> None:
    engine = create_engine(
        infra.database_urls[SCHEMA], SCHEMA, server_settings={"plan_cache_mode": "force_custom_plan"}
    )
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one() == "force_custom_plan"
            assert (await connection.execute(text("SHOW search_path"))).scalar_one() == SCHEMA
    finally:
        await engine.dispose()


async def test_a_read_only_engine_runs_each_statement_on_its_own_and_refuses_writes(infra: Infra) -> None:
    engine = create_engine(infra.database_urls[SCHEMA], SCHEMA, read_only=True)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            assert not driver.is_in_transaction()  # no BEGIN was sent: the statement was a transaction of its own
        async with sessions() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("CREATE TABLE read_only_engine_probe (id int)"))
    finally:
        await engine.dispose()
