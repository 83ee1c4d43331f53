"""Every way of writing a projection bumps its family's version (migration 0005's triggers), so no writer can change
what an answer reads without the kept answers being passed over. Each write is rolled back."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from analytics.config import AnalyticsSettings
from analytics.projections.models import PROJECTIONS, applied_events
from tally_stack.dsn import libpq_url

FAMILIES = {
    "billing": [table.name for table in PROJECTIONS if table is not applied_events],
    "usage": ["usage_events", "usage_daily"],
}


@pytest.fixture
async def connection(
    analytics_settings: AnalyticsSettings, analytics_worker: None
) -> AsyncIterator[asyncpg.Connection]:
    """Connected once the api has migrated the schema."""
    url = libpq_url(analytics_settings.database_url)
    connection = await asyncpg.connect(url, server_settings={"search_path": "analytics"})
    try:
        yield connection
    finally:
        await connection.close()


async def bumps(connection: asyncpg.Connection, family: str, table: str, how: str) -> bool:
    """Whether writing `table` (`how`, changing no row but for a TRUNCATE) bumps `family`'s version."""
    column = await connection.fetchval(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = 1", f"analytics.{table}"
    )
    writes = {
        "delete": f"DELETE FROM {table} WHERE false",
        "update": f"UPDATE {table} SET {column} = {column} WHERE false",
        "truncate": f"TRUNCATE {table}",
    }
    version = "SELECT version FROM projection_versions WHERE family = $1"
    transaction = connection.transaction()
    await transaction.start()
    try:
        # the version row before the table: never holding a table the worker waits for while waiting for the row
        before = await connection.fetchval(f"{version} FOR UPDATE", family)
        if how == "copy":
            await connection.copy_records_to_table(table, records=[], schema_name="analytics")
        else:
            await connection.execute(writes[how])
        return bool(await connection.fetchval(version, family) > before)
    finally:
        await transaction.rollback()


async def test_each_kind_of_write_to_each_projection_bumps_its_family(connection: asyncpg.Connection) -> None:
    missed = [
        (family, table, how)
        for family, tables in FAMILIES.items()
        for table in tables
        for how in ("delete", "update", "truncate", "copy")
        if not await bumps(connection, family, table, how)
    ]
    assert missed == []


async def test_writes_elsewhere_bump_nothing(connection: asyncpg.Connection) -> None:
    assert not await bumps(connection, "billing", applied_events.name, "delete")
    assert not await bumps(connection, "usage", applied_events.name, "truncate")
