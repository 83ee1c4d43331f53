"""Migration 0004 on a database of its own: totals kept before it go on counting, and the way back is refused while
a meter needs what 0003 cannot express."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from billing.db import MIGRATIONS, SCHEMA
from billing.usage import repository
from tally_runtime.db import create_engine, session_factory
from tally_stack.bootstrap import bootstrap_database
from tally_stack.dsn import libpq_url
from tally_stack.testing import Infra

DAY = date(2026, 11, 1)


async def alembic(url: str, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    await asyncio.to_thread(getattr(command, action), config, revision)


@pytest.fixture
async def database(infra: Infra) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A billing schema migrated to 0003, its role's URL and a connection to it."""
    name = f"tally_mig_{uuid4().hex[:10]}"
    urls = await bootstrap_database(infra.admin_url, name, [SCHEMA], {SCHEMA: infra.passwords[SCHEMA]})
    url = urls[SCHEMA]
    await alembic(url, "upgrade", "0003")
    connection = await asyncpg.connect(libpq_url(url), server_settings={"search_path": SCHEMA})
    try:
        yield url, connection
    finally:
        await connection.close()
        admin = await asyncpg.connect(libpq_url(infra.admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def record(url: str, *events: tuple[str, str, dict[str, Any]]) -> None:
    engine = create_engine(url, SCHEMA, 1)
    try:
        async with session_factory(engine)() as session, session.begin():
            at = datetime(2026, 11, 1, 12, tzinfo=UTC)
            rows = [("acme", event_id, event_type, at, properties) for event_id, event_type, properties in events]
            await repository.record_events(session, rows)
    finally:
        await engine.dispose()


async def test_totals_kept_before_0004_go_on_counting(database: tuple[str, asyncpg.Connection]) -> None:
    url, db = database
    await db.execute(
        "INSERT INTO meters (id, key, event_type, aggregation, property) VALUES"
        " ('mtr_calls', 'calls', 'api_call', 'count', NULL), ('mtr_tokens', 'tokens', 'api_call', 'sum', 'tokens')"
    )
    await db.execute(
        "INSERT INTO meter_daily_totals (meter_id, customer_id, day, value)"
        " VALUES ('mtr_calls', 'acme', $1, 3), ('mtr_tokens', 'acme', $1, 30)",
        DAY,
    )
    await alembic(url, "upgrade", "0004")
    assert tuple(await db.fetchrow("SELECT filters, group_by FROM meters WHERE id = 'mtr_calls'")) == ("{}", None)
    await record(url, ("e1", "api_call", {"tokens": 5}))
    rows = await db.fetch("SELECT meter_id, group_key, value FROM meter_daily_totals ORDER BY 1")
    assert [tuple(row) for row in rows] == [("mtr_calls", "", 4), ("mtr_tokens", "", 35)]  # the same rows, added to


async def test_the_way_back_adds_groups_up_and_refuses_what_0003_cannot_express(
    database: tuple[str, asyncpg.Connection],
) -> None:
    url, db = database
    await alembic(url, "upgrade", "0004")
    await db.execute(
        "INSERT INTO meters (id, key, event_type, aggregation, property, group_by) VALUES"
        " ('mtr_calls', 'calls', 'api_call', 'count', NULL, 'model'),"
        " ('mtr_peak', 'peak', 'api_call', 'max', 't', NULL)"
    )
    await record(url, ("e1", "api_call", {"model": "a"}), ("e2", "api_call", {"model": "b"}), ("e3", "api_call", {}))
    with pytest.raises(RuntimeError, match=r"meters \['peak'\] use max"):
        await alembic(url, "downgrade", "0003")
    await db.execute("DELETE FROM meter_daily_totals WHERE meter_id = 'mtr_peak'")
    await db.execute("DELETE FROM meters WHERE id = 'mtr_peak'")
    await alembic(url, "downgrade", "0003")
    rows = await db.fetch("SELECT meter_id, customer_id, day, value FROM meter_daily_totals")
    assert [tuple(row) for row in rows] == [("mtr_calls", "acme", DAY, 3)]
    columns = await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = 'meters'")
    assert {"filters", "group_by"}.isdisjoint(row[0] for row in columns)
