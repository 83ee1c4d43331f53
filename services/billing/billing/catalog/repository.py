"""All SQL for the catalog."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.catalog.models import Meter


async def insert_meter(session: AsyncSession, meter: Meter) -> bool:
    """False when a meter with that key exists already."""
    statement = insert(Meter).values(
        id=meter.id,
        key=meter.key,
        event_type=meter.event_type,
        aggregation=meter.aggregation,
        property=meter.property,
        filters=meter.filters,
        group_by=meter.group_by,
    )
    result = await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]).returning(Meter.id))
    return result.scalar_one_or_none() is not None


async def meters_by_keys(session: AsyncSession, keys: Sequence[str]) -> list[Meter]:
    return list((await session.execute(select(Meter).where(Meter.key.in_(keys)))).scalars())


async def meter_by_id(session: AsyncSession, meter_id: str) -> Meter | None:
    return await session.get(Meter, meter_id)


async def list_meters(session: AsyncSession, after: str | None, limit: int) -> Sequence[Meter]:
    query = select(Meter).order_by(Meter.id).limit(limit)
    if after:
        query = query.where(Meter.id > after)
    return (await session.execute(query)).scalars().all()


async def meter_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of `keys` name a meter."""
    return set((await session.execute(select(Meter.key).where(Meter.key.in_(keys)))).scalars())


async def meters_of_event_type(session: AsyncSession, event_type: str) -> list[Meter]:
    return list((await session.execute(select(Meter).where(Meter.event_type == event_type))).scalars())
