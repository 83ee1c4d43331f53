"""The rebuild writes its event ids with one text-format COPY: every value arrives exactly as it was, whatever
characters COPY's text format treats specially."""

from analytics.config import AnalyticsSettings
from analytics.projections.repository import copy_strings
from sqlalchemy import Column, MetaData, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

AWKWARD = ["evt_1", "", "back\\slash", "tab\there", "new\nline", "cr\rhere", "\\N", "\\.", "ünïcødé", " spaced "]
COPIED = Table("copied_for_test", MetaData(schema="analytics"), Column("value", Text))


async def copied(settings: AnalyticsSettings, values: list[str]) -> list[str]:
    engine = create_async_engine(settings.database_url)
    try:
        async with AsyncSession(engine) as session:  # rolled back: the table never exists for anyone else
            await session.execute(text("CREATE TABLE analytics.copied_for_test (n serial, value text)"))
            await copy_strings(session, COPIED, "value", values)
            found = await session.execute(text("SELECT value FROM analytics.copied_for_test ORDER BY n"))
            return list(found.scalars())
    finally:
        await engine.dispose()


async def test_every_value_arrives_as_it_was(analytics_settings: AnalyticsSettings) -> None:
    assert await copied(analytics_settings, AWKWARD) == AWKWARD
    plain = [f"evt_{n}" for n in range(1000)]
    assert await copied(analytics_settings, plain) == plain
    assert await copied(analytics_settings, []) == []
